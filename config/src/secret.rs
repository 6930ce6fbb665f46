//! Reading a secret file named by the config (`password-file`), with the rules `check-config`
//! promises: bounded size, UTF-8, one trailing line end ignored, not empty.

use crate::file_checks::MAX_SECRET_BYTES;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Why a secret file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// Opening or reading failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Larger than [`MAX_SECRET_BYTES`].
    #[error("{path} is larger than {max} bytes, too large for a secret", max = MAX_SECRET_BYTES)]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// Not UTF-8 text.
    #[error("{path} is not UTF-8 text")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// Nothing but whitespace.
    #[error("{path} is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Reads the secret in `path`. One trailing `\n` or `\r\n` is dropped (editors and `echo`
/// add one); any other whitespace is part of the secret.
pub fn read_secret_file(path: &Path) -> Result<String, SecretFileError> {
    let io_error = |source| SecretFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    // Read one byte past the limit, so an oversized file is noticed without reading it whole.
    file.take(MAX_SECRET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(SecretFileError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let mut text = String::from_utf8(bytes).map_err(|_| SecretFileError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.trim().is_empty() {
        return Err(SecretFileError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn read(content: &[u8]) -> Result<String, SecretFileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        fs::write(&path, content).unwrap();
        read_secret_file(&path)
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
    fn empty_oversized_and_binary_files_are_refused() {
        assert!(matches!(read(b"\n"), Err(SecretFileError::Empty { .. })));
        assert!(matches!(read(b""), Err(SecretFileError::Empty { .. })));
        assert!(matches!(
            read(&vec![b'x'; 64 * 1024 + 1]),
            Err(SecretFileError::TooLarge { .. })
        ));
        assert!(read(&vec![b'x'; 64 * 1024]).is_ok());
        assert!(matches!(
            read(&[0xff, 0xfe]),
            Err(SecretFileError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let error = read_secret_file(Path::new("/nonexistent/pw")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot read /nonexistent/pw: "),
            "{error}"
        );
    }
}
