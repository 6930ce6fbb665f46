//! The one way the loader reads a file (the config, a secret, a certificate): a regular file only,
//! never blocking, never more than a bound.
//!
//! A FIFO, a device or a directory where a file is expected is refused before anything is read:
//! opening a FIFO for reading waits for a writer that may never come (the daemon and
//! `check-config` would hang with no output, and systemd would time the start out in a loop),
//! and reading a device may never end. The type is checked on the path first (nothing else is
//! opened) and again on the opened file, which is opened non-blocking so that a FIFO swapped in
//! between cannot block either. The size is checked before reading, and the read itself stops
//! one byte past the bound, so a file that grows meanwhile is still refused, not slurped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileReadError {
    /// Missing, not permitted, or failing to read.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A FIFO, device, socket or directory.
    #[error("is not a regular file but a {kind}")]
    NotRegular {
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than the bound for its kind of file.
    #[error("is {len} bytes, more than the {max} bytes accepted")]
    TooLarge {
        /// Its size (at least; a growing file is cut at `max + 1`).
        len: u64,
        /// The bound.
        max: u64,
    },
}

/// Reads the whole of the regular file at `path`, refusing anything else and anything larger
/// than `max` bytes, without ever blocking on the file's type.
pub fn read_regular_file(path: &Path, max: u64) -> Result<Vec<u8>, FileReadError> {
    check_regular(&fs::metadata(path)?)?;
    let file = open_nonblocking(path)?;
    let metadata = file.metadata()?;
    check_regular(&metadata)?;
    if metadata.len() > max {
        return Err(FileReadError::TooLarge {
            len: metadata.len(),
            max,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(max + 1).read_to_end(&mut bytes)?;
    let len = bytes.len() as u64;
    if len > max {
        return Err(FileReadError::TooLarge { len, max });
    }
    Ok(bytes)
}

fn check_regular(metadata: &fs::Metadata) -> Result<(), FileReadError> {
    if metadata.is_file() {
        Ok(())
    } else {
        Err(FileReadError::NotRegular {
            kind: kind_of(&metadata.file_type()),
        })
    }
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

#[cfg(unix)]
fn kind_of(file_type: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "directory"
    } else if file_type.is_fifo() {
        "fifo"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn kind_of(file_type: &fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_whole_up_to_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"12345").unwrap();
        assert_eq!(read_regular_file(&path, 5).unwrap(), b"12345");
        assert!(matches!(
            read_regular_file(&path, 4),
            Err(FileReadError::TooLarge { len: 5, max: 4 })
        ));
    }

    #[test]
    fn directories_and_devices_are_refused_by_type() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_regular_file(dir.path(), 10).unwrap_err();
        assert_eq!(error.to_string(), "is not a regular file but a directory");
        let error = read_regular_file(Path::new("/dev/zero"), 10).unwrap_err();
        assert_eq!(
            error.to_string(),
            "is not a regular file but a character device"
        );
    }

    #[test]
    fn a_fifo_is_refused_at_once_without_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        // A read that blocked would never answer: wait for the answer with a bound instead.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(read_regular_file(&fifo, 10).map_err(|e| e.to_string()));
        });
        let answer = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("a fifo must not block the reader");
        assert_eq!(answer.unwrap_err(), "is not a regular file but a fifo");
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        assert!(matches!(
            read_regular_file(Path::new("/nonexistent/f"), 10),
            Err(FileReadError::Io(_))
        ));
    }
}
