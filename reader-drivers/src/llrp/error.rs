//! Why an LLRP link went down, keeping "the reader said no" apart from "the link broke".

use std::time::Duration;

use tagtally_protocol::llrp::{ConnectionAttemptStatus, DecodeError, FrameError};

/// The reason carried by a `LinkDown` event (its `Display` is the event's text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    // The reader said no: reconnecting at once would get the same answer, so back off.
    /// The reader refused the connection (another client holds it, or any other reason).
    #[error("reader refused the connection: {}", refusal_text(*status))]
    ConnectionRefused { status: ConnectionAttemptStatus },
    /// A request was answered with an error status (the reader's own words in `status`).
    #[error("{request} rejected: {status}")]
    Rejected {
        request: &'static str,
        status: String,
    },

    // The link broke.
    /// TCP connect failed or timed out (`reason` names the address).
    #[error("{reason}")]
    ConnectFailed { reason: String },
    /// Connected, but the reader never said whether it accepts us.
    #[error("no connection attempt event from the reader within {waited:?}")]
    NoConnectionEvent { waited: Duration },
    /// A request went unanswered.
    #[error("no response to {request} within {waited:?}")]
    ResponseTimeout {
        request: &'static str,
        waited: Duration,
    },
    /// Half-open TCP or a hung reader: nothing received for three keepalive periods.
    #[error("no keepalive or data for {silent:?} (3 keepalive periods of {keepalive:?})")]
    Silent {
        silent: Duration,
        keepalive: Duration,
    },
    /// A bad length or version: LLRP over TCP has no marker to resynchronise on.
    #[error("unreadable byte stream, reconnecting: {0}")]
    Framing(FrameError),
    /// The response we waited for could not be decoded.
    #[error("undecodable {request} response: {error}")]
    UndecodableResponse {
        request: &'static str,
        error: DecodeError,
    },
    /// The reader announced it is closing (ConnectionCloseEvent).
    #[error("the reader closed the connection (connection close event)")]
    ReaderClosing,
    /// The TCP connection ended.
    #[error("the connection was closed by the reader or the network")]
    Eof,
    /// A socket error.
    #[error("link error: {reason}")]
    Io { reason: String },
    /// Our own graceful shutdown.
    #[error("driver shut down")]
    Shutdown,
}

impl LinkError {
    /// True when the reader answered and said no, as opposed to the link failing.
    pub fn is_reader_refusal(&self) -> bool {
        matches!(
            self,
            LinkError::ConnectionRefused { .. } | LinkError::Rejected { .. }
        )
    }
}

fn refusal_text(status: ConnectionAttemptStatus) -> String {
    match status {
        ConnectionAttemptStatus::FailedClientInitiatedConnectionExists => {
            "another client holds the reader (client-initiated connection already exists)".into()
        }
        ConnectionAttemptStatus::FailedReaderInitiatedConnectionExists => {
            "the reader holds a reader-initiated connection to another client".into()
        }
        ConnectionAttemptStatus::FailedOtherReason => "failed for another reason".into(),
        other => format!("connection attempt status {}", u16::from(other)),
    }
}
