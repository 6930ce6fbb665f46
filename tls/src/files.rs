//! The PEM files a TLS client configuration is built from.

use std::path::PathBuf;

/// PEM files for TLS. All optional: without a CA file the system roots are trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificates (PEM) that sign the broker's certificate.
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain (PEM) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for mutual TLS.
    pub client_key: Option<PathBuf>,
}
