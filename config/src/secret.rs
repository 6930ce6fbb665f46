//! Secrets named by the config (`password-file`): the one rule for what a secret file may hold,
//! and [`Secret`], which keeps the value out of `Debug` output and logs.
//!
//! The loaders read each `password-file` once, with this rule, and hand the password to the
//! daemon and to `tagtally hq` inside their config; `hq-tail` reads its `--password-file` with the same function.

use crate::file_read::{read_regular_file, FileReadError};
use std::fmt;
use std::path::{Path, PathBuf};

/// Largest secret file accepted: a password or a PEM private key is far smaller (an MQTT
/// password field holds at most 65 535 bytes).
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string.
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(..)")
    }
}

/// What makes a secret file's content unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretContentError {
    /// Not UTF-8 text.
    #[error("is not UTF-8 text")]
    NotUtf8,
    /// Nothing but whitespace.
    #[error("is empty")]
    Empty,
}

/// The secret in a file's `bytes`. One trailing `\n` or `\r\n` is dropped (editors and `echo`
/// add one); any other whitespace is part of the secret, but a file of whitespace only is empty.
pub fn secret_from_bytes(bytes: Vec<u8>) -> Result<Secret, SecretContentError> {
    let mut text = String::from_utf8(bytes).map_err(|_| SecretContentError::NotUtf8)?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.trim().is_empty() {
        return Err(SecretContentError::Empty);
    }
    Ok(Secret(text))
}

/// Why a secret file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// Not a regular file, too large, or unreadable.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: FileReadError,
    },
    /// Its content is not a usable secret.
    #[error("{path}: {source}")]
    Content {
        /// The file.
        path: PathBuf,
        /// Why.
        source: SecretContentError,
    },
}

/// Reads the secret in `path` with the loader's rules (a bounded regular file, see
/// [`secret_from_bytes`]).
pub fn read_secret_file(path: &Path) -> Result<Secret, SecretFileError> {
    let bytes =
        read_regular_file(path, MAX_SECRET_BYTES).map_err(|source| SecretFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    secret_from_bytes(bytes).map_err(|source| SecretFileError::Content {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn read(content: &[u8]) -> Result<String, SecretFileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        fs::write(&path, content).unwrap();
        read_secret_file(&path).map(|secret| secret.expose().to_owned())
    }

    #[test]
    fn one_trailing_line_end_is_dropped() {
        assert_eq!(read(b"s3cret\n").unwrap(), "s3cret");
        assert_eq!(read(b"s3cret\r\n").unwrap(), "s3cret");
        assert_eq!(read(b"s3cret").unwrap(), "s3cret");
        assert_eq!(read(b"s3cret\n\n").unwrap(), "s3cret\n");
        assert_eq!(read(b" spaced ").unwrap(), " spaced ");
    }

    #[test]
    fn empty_blank_oversized_and_binary_files_are_refused() {
        for blank in [&b"\n"[..], b"", b" \t\n", b"\r\n"] {
            assert!(matches!(
                read(blank),
                Err(SecretFileError::Content {
                    source: SecretContentError::Empty,
                    ..
                })
            ));
        }
        assert!(matches!(
            read(&vec![b'x'; 64 * 1024 + 1]),
            Err(SecretFileError::Read {
                source: FileReadError::TooLarge { .. },
                ..
            })
        ));
        assert!(read(&vec![b'x'; 64 * 1024]).is_ok());
        assert!(matches!(
            read(&[0xff, 0xfe]),
            Err(SecretFileError::Content {
                source: SecretContentError::NotUtf8,
                ..
            })
        ));
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let error = read_secret_file(Path::new("/nonexistent/pw")).unwrap_err();
        assert!(
            error.to_string().starts_with("/nonexistent/pw: "),
            "{error}"
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert_eq!(format!("{:?}", Secret::new("pw".into())), "Secret(..)");
    }
}
