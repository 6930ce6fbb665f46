//! rustls client configuration for `mqtts://`: CA file or system roots, optional client identity.
//!
//! Built once at start-up so that a missing or malformed PEM file is a start-up error naming the
//! file, not a connection failure repeated forever. The broker's certificate is always verified
//! against the URL's host (DNS name or IP address): there is deliberately no way to switch that off.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use tagtally_config::{read_regular_file, FileReadError, MAX_CERTIFICATE_BYTES, MAX_SECRET_BYTES};

use crate::files::TlsFiles;

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read (missing, not a regular file, larger than any PEM bundle).
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: FileReadError,
    },
    /// A file holds no usable certificate.
    #[error("{0}: no pem certificate found")]
    NoCertificate(PathBuf),
    /// A CA certificate was rejected as a trust anchor.
    #[error("{path}: certificate {index} is not a usable ca: {reason}")]
    BadCa {
        /// The file.
        path: PathBuf,
        /// Position of the certificate in the file (0-based).
        index: usize,
        /// rustls' reason.
        reason: String,
    },
    /// The key file holds no private key.
    #[error("{path}: no pem private key found ({reason})")]
    NoKey {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        reason: String,
    },
    /// The system trust store could not be loaded and no CA file was given.
    #[error("no ca-file given and the system trust store has no usable certificate ({0})")]
    NoSystemRoots(String),
    /// rustls refused the client certificate and key.
    #[error("client-cert {cert} with client-key {key}: {reason}")]
    BadClientIdentity {
        /// Certificate file.
        cert: PathBuf,
        /// Key file.
        key: PathBuf,
        /// rustls' reason.
        reason: String,
    },
    /// The crypto provider lacks the default protocol versions (a build problem, never config).
    #[error("tls provider: {0}")]
    Provider(String),
}

/// Builds the client configuration for the given files.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = match &files.ca_file {
        Some(path) => ca_roots(path)?,
        None => system_roots()?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Provider(e.to_string()))?
        .with_root_certificates(roots);
    let config = match (&files.client_cert, &files.client_key) {
        (Some(cert), Some(key)) => {
            let chain = certificates(cert)?;
            let private = private_key(key)?;
            builder.with_client_auth_cert(chain, private).map_err(|e| {
                TlsError::BadClientIdentity {
                    cert: cert.clone(),
                    key: key.clone(),
                    reason: e.to_string(),
                }
            })?
        }
        // The config refuses a lone cert or key; without both there is no identity.
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Certificates and keys are read the loader's one way: a regular file, bounded, never blocking.
fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, TlsError> {
    read_regular_file(path, max).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_bounded(path, MAX_CERTIFICATE_BYTES)?;
    // Unparsable sections are skipped (bundles carry comments); an empty result is the error.
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

fn ca_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for (index, cert) in certificates(path)?.into_iter().enumerate() {
        roots.add(cert).map_err(|e| TlsError::BadCa {
            path: path.to_owned(),
            index,
            reason: e.to_string(),
        })?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let reason = found
            .errors
            .first()
            .map_or_else(|| "none installed".to_owned(), |e| e.to_string());
        return Err(TlsError::NoSystemRoots(reason));
    }
    Ok(roots)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_bounded(path, MAX_SECRET_BYTES)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::NoKey {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("tagtally-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    #[test]
    fn ca_and_client_identity_load() {
        let d = dir("ok");
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(d.0.join("ca.pem"), ca.cert.pem()).unwrap();
        std::fs::write(d.0.join("key.pem"), ca.signing_key.serialize_pem()).unwrap();
        let files = TlsFiles {
            ca_file: Some(d.0.join("ca.pem")),
            client_cert: Some(d.0.join("ca.pem")),
            client_key: Some(d.0.join("key.pem")),
        };
        client_config(&files).unwrap();
    }

    #[test]
    fn bad_files_name_the_file() {
        let d = dir("bad");
        std::fs::write(d.0.join("empty.pem"), "not pem at all\n").unwrap();
        let missing = TlsFiles {
            ca_file: Some(d.0.join("nope.pem")),
            ..TlsFiles::default()
        };
        let err = client_config(&missing).unwrap_err();
        assert!(matches!(err, TlsError::Read { .. }));
        assert!(err.to_string().contains("nope.pem"), "{err}");

        let empty = TlsFiles {
            ca_file: Some(d.0.join("empty.pem")),
            ..TlsFiles::default()
        };
        assert!(matches!(
            client_config(&empty).unwrap_err(),
            TlsError::NoCertificate(p) if p.ends_with("empty.pem")
        ));

        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(d.0.join("ca.pem"), ca.cert.pem()).unwrap();
        let no_key = TlsFiles {
            ca_file: Some(d.0.join("ca.pem")),
            client_cert: Some(d.0.join("ca.pem")),
            client_key: Some(d.0.join("empty.pem")),
        };
        assert!(matches!(
            client_config(&no_key).unwrap_err(),
            TlsError::NoKey { .. }
        ));
    }
}
