//! Store errors: each names the database file, and corruption says how to get going again.

use std::path::PathBuf;

use thiserror::Error;

use super::space::{io_of_open, io_of_redb, is_out_of_space};

/// Why the store cannot go on.
#[derive(Debug, Error)]
pub enum StoreError {
    /// redb could not open or create the file (I/O, lock held by another process, redb-level corruption).
    #[error(
        "cannot open state database {path}: {source}{}",
        open_hint(path, source)
    )]
    Open {
        path: PathBuf,
        #[source]
        source: redb::DatabaseError,
    },
    /// A read or write failed.
    #[error("state database {path}: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
    /// The content breaks an invariant: refusing to run on it is the only honest choice.
    #[error(
        "state database {path} is inconsistent: {detail}{}",
        recovery_hint(path)
    )]
    Corrupt { path: PathBuf, detail: String },
    /// The file is not a database this build can read: empty, truncated, overwritten.
    #[error(
        "state database {path} cannot be used: {detail}{}",
        recovery_hint(path)
    )]
    Unusable { path: PathBuf, detail: String },
    /// The database holds another store's state: publishing it under this store's name would
    /// report the other store's stock as this one's.
    #[error(
        "state database {path} holds the state of store {recorded:?}, the config names store {configured:?}; if the config is right, stop tagtally and run: mv {p} {p}.other-store (a new epoch starts; HQ resyncs from the next snapshot), or point state-dir elsewhere; if the database is right, correct store in the config",
        p = path.display()
    )]
    OtherStore {
        path: PathBuf,
        recorded: String,
        configured: String,
    },
    /// Written by a build with another table layout.
    #[error("state database {path} has schema version {found}, this build reads {supported}")]
    UnsupportedSchema {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    /// The engine's delta does not fit the committed counts: engine and disk have diverged.
    #[error("delta does not match state database {path}: {zone}/{sku} was {stored}, delta {delta} gives {count}")]
    DeltaMismatch {
        path: PathBuf,
        zone: String,
        sku: String,
        stored: u32,
        delta: i64,
        count: u32,
    },
    /// The state directory or epoch source failed.
    #[error("state database {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A write failed for lack of space and reopening the file failed too: nothing can be read or
    /// written until a later write reopens it.
    #[error("state database {path} is closed after a write failed for lack of space; it reopens at the next retry")]
    Closed { path: PathBuf },
    /// After a failed write, the reopened file is not at the commit the store knew last (the write
    /// reached the file after all): the daemon must restart from what the file holds.
    #[error("state database {path} changed under a failed write ({detail}); restart to continue from what it holds")]
    Diverged { path: PathBuf, detail: String },
}

impl StoreError {
    /// An error of opening the file: one whose content is the problem (redb reads it as no database,
    /// or finds it shorter than its own header says) is [`StoreError::Unusable`], with the way out.
    pub fn open(path: &std::path::Path, source: redb::DatabaseError) -> StoreError {
        if let redb::DatabaseError::Storage(redb::StorageError::Io(io)) = &source {
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) {
                return StoreError::Unusable {
                    path: path.to_owned(),
                    detail: format!("it is not a readable database ({io})"),
                };
            }
        }
        StoreError::Open {
            path: path.to_owned(),
            source,
        }
    }

    /// When this error means the write needed room the file system would not give (full disk,
    /// quota, file-size limit; see [`is_out_of_space`]), the I/O error that says so. The database is
    /// then still at its last commit, and the same write can be retried once there is room.
    pub fn out_of_space(&self) -> Option<&std::io::Error> {
        let io = match self {
            StoreError::Database { source, .. } => io_of_redb(source)?,
            StoreError::Open { source, .. } => io_of_open(source)?,
            StoreError::Io { source, .. } => source,
            _ => return None,
        };
        is_out_of_space(io).then_some(io)
    }
}

/// The way out of a database that cannot be used: set it aside and start a new epoch.
fn recovery_hint(path: &std::path::Path) -> String {
    format!(
        "; to start over with a new epoch (HQ resyncs from the next snapshot), stop tagtally and run: mv {p} {p}.broken",
        p = path.display()
    )
}

/// The way out, when the open failed on the file's content rather than on a lock or a permission.
fn open_hint(path: &std::path::Path, source: &redb::DatabaseError) -> String {
    match source {
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(_))
        | redb::DatabaseError::RepairAborted
        | redb::DatabaseError::UpgradeRequired(_) => recovery_hint(path),
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) if is_out_of_space(io) => {
            "; the state disk has no room: free space there (or raise the quota or file-size limit) and start again".to_owned()
        }
        _ => String::new(),
    }
}

/// Attaches the path to any redb error.
pub(crate) trait AtPath<T> {
    fn at(self, path: &std::path::Path) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> AtPath<T> for Result<T, E> {
    fn at(self, path: &std::path::Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Database {
            path: path.to_owned(),
            source: e.into(),
        })
    }
}
