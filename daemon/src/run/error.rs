//! Why the daemon could not start or had to stop, and the SPEC §5 exit code of each reason.

use std::path::PathBuf;

use thiserror::Error;

use crate::control::BindError;
use crate::engine::EngineRestoreError;
use crate::exit;
use crate::store::StoreError;

/// A fatal daemon error. The message is what the technician reads in the journal; the exit code
/// (see [`RunError::exit_code`]) is what systemd records.
#[derive(Debug, Error)]
pub enum RunError {
    /// The state directory could not be created.
    #[error("cannot create state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The state database failed (open, check, commit or ack).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tag state in the database cannot be loaded into the engine.
    #[error("restoring the tag state: {0}; to start over with a new epoch, stop tagtally and move the state database aside")]
    Restore(#[from] EngineRestoreError),
    /// The control socket could not be created.
    #[error(transparent)]
    Control(#[from] BindError),
    /// The metrics endpoint (`metrics-listen`) could not listen.
    #[error("cannot listen for metrics on {address}: {source}")]
    MetricsListen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Signal handlers or the runtime could not be set up.
    #[error("{what}: {source}")]
    Os {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// Stopped while the state disk had no room: what the engine held could not be committed.
    #[error(
        "stopped with the state disk full: cannot commit to {path}: {error}; everything up to seq {last_seq} is committed and safe{}{}",
        if *lost_changes { "; the count changes since were not committed and are worked out again from the readers after the restart" } else { "" },
        unrecorded(*unrecorded_acks)
    )]
    DiskFull {
        path: PathBuf,
        error: String,
        last_seq: u64,
        /// A delta was held.
        lost_changes: bool,
        /// Broker acknowledgements held.
        unrecorded_acks: u64,
    },
    /// A background task ended while the daemon still needed it.
    #[error("the {task} task ended unexpectedly")]
    TaskEnded { task: &'static str },
}

impl RunError {
    /// The sysexits code of SPEC §5: 78 for what the config must fix, 65 for a state database whose
    /// content is unusable, 69 when another daemon holds the control socket, 74 for I/O.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Control(BindError::NotASocket { .. }) => exit::CONFIG,
            RunError::Store(e) => store_code(e),
            RunError::Restore(_) => exit::DATA_ERR,
            RunError::Control(BindError::InUse { .. }) => exit::UNAVAILABLE,
            RunError::MetricsListen { source, .. }
                if source.kind() == std::io::ErrorKind::AddrInUse =>
            {
                exit::UNAVAILABLE
            }
            RunError::StateDir { .. }
            | RunError::Control(BindError::Io { .. })
            | RunError::Os { .. }
            | RunError::MetricsListen { .. }
            | RunError::DiskFull { .. }
            | RunError::TaskEnded { .. } => exit::IO_ERR,
        }
    }
}

fn unrecorded(acks: u64) -> String {
    match acks {
        0 => String::new(),
        n => format!("; {n} deltas the broker acknowledged stay in the outbox and are published again after the restart (HQ deduplicates them)"),
    }
}

/// Content problems are bad data (65); everything else is I/O (74).
fn store_code(e: &StoreError) -> u8 {
    match e {
        StoreError::Corrupt { .. }
        | StoreError::Unusable { .. }
        | StoreError::OtherStore { .. }
        | StoreError::UnsupportedSchema { .. }
        | StoreError::DeltaMismatch { .. }
        | StoreError::Open {
            source:
                redb::DatabaseError::Storage(redb::StorageError::Corrupted(_))
                | redb::DatabaseError::RepairAborted
                | redb::DatabaseError::UpgradeRequired(_),
            ..
        } => exit::DATA_ERR,
        _ => exit::IO_ERR,
    }
}
