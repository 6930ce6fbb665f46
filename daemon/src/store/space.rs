//! Running out of room: which I/O errors mean "no space for this write" (a full disk, a quota, a file-size
//! limit), and how the store gets its database handle back after redb gave up on it.
//!
//! redb marks a database handle failed after any I/O error and answers every later call with
//! `PreviousIo` until the handle is closed and opened again; reopening recovers the file at its last
//! commit (copy-on-write: a transaction that failed half-written is not reachable from the header).
//! So after a write that failed for lack of space the store reopens the file at once, which keeps reads
//! (the uplink draining the outbox) working while the disk stays full, and the caller retries the write
//! later. [`Opener`] is how the file is opened, the first time and after each failure; tests put a
//! backend underneath that fails on demand.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use redb::Database;

type OpenFn = dyn Fn(&Path) -> Result<Database, redb::DatabaseError> + Send + Sync;

/// Opens (or creates) the database at a path: the file itself in the daemon, any redb
/// [`StorageBackend`](redb::StorageBackend) in tests.
#[derive(Clone)]
pub struct Opener(Arc<OpenFn>);

impl Opener {
    /// The database file at the path, created if missing, with redb's default page cache (1 GiB: tests
    /// and tools; the daemon bounds it with [`Opener::file_with_cache`]).
    pub fn file() -> Opener {
        Opener::new(|path| Database::builder().create(path))
    }

    /// The database file at the path, created if missing, its page cache bounded to `cache_bytes`
    /// (`state-cache-bytes`): redb's default would keep the whole file in memory.
    pub fn file_with_cache(cache_bytes: u64) -> Opener {
        let cache = usize::try_from(cache_bytes).unwrap_or(usize::MAX);
        Opener::new(move |path| Database::builder().set_cache_size(cache).create(path))
    }

    /// Opens with `open`, called again after every write that failed for lack of space.
    pub fn new(
        open: impl Fn(&Path) -> Result<Database, redb::DatabaseError> + Send + Sync + 'static,
    ) -> Opener {
        Opener(Arc::new(open))
    }

    pub(super) fn open(&self, path: &Path) -> Result<Database, redb::DatabaseError> {
        (self.0)(path)
    }
}

impl fmt::Debug for Opener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Opener")
    }
}

/// True for the errors that mean the write needed room the file system would not give: the disk or
/// its reserved blocks are full (`ENOSPC`), the user's quota is used up (`EDQUOT`), or the file would
/// grow past the process's file-size limit (`EFBIG`, `ulimit -f`, systemd `LimitFSIZE=`).
pub fn is_out_of_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    )
}

/// The I/O error inside a redb error, when that is what it is.
pub(super) fn io_of_redb(e: &redb::Error) -> Option<&io::Error> {
    match e {
        redb::Error::Io(io) => Some(io),
        _ => None,
    }
}

/// The I/O error inside a redb open error, when that is what it is.
pub(super) fn io_of_open(e: &redb::DatabaseError) -> Option<&io::Error> {
    match e {
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) => Some(io),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_disk_quota_and_file_size_limit_are_out_of_space() {
        for errno in [28, 122, 27] {
            // ENOSPC, EDQUOT, EFBIG on Linux.
            let e = io::Error::from_raw_os_error(errno);
            assert!(is_out_of_space(&e), "{e}");
        }
        for errno in [5, 13, 30] {
            // EIO, EACCES, EROFS: not a matter of room, retrying would not help.
            let e = io::Error::from_raw_os_error(errno);
            assert!(!is_out_of_space(&e), "{e}");
        }
        assert!(is_out_of_space(&io::Error::from(
            io::ErrorKind::StorageFull
        )));
        assert!(!is_out_of_space(&io::Error::other("disk on fire")));
    }

    #[test]
    fn redb_wrappers_give_up_their_io_error() {
        let commit: redb::Error =
            redb::CommitError::Storage(redb::StorageError::Io(io::Error::from_raw_os_error(28)))
                .into();
        assert!(io_of_redb(&commit).is_some_and(is_out_of_space));
        let begin: redb::Error = redb::TransactionError::Storage(redb::StorageError::Io(
            io::Error::from_raw_os_error(27),
        ))
        .into();
        assert!(io_of_redb(&begin).is_some_and(is_out_of_space));
        let table: redb::Error =
            redb::TableError::Storage(redb::StorageError::Io(io::Error::from_raw_os_error(122)))
                .into();
        assert!(io_of_redb(&table).is_some_and(is_out_of_space));
        let previous: redb::Error = redb::StorageError::PreviousIo.into();
        assert!(io_of_redb(&previous).is_none());
        let open =
            redb::DatabaseError::Storage(redb::StorageError::Io(io::Error::from_raw_os_error(28)));
        assert!(io_of_open(&open).is_some_and(is_out_of_space));
    }
}
