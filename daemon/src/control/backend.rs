//! The narrow interface between the control server and the rest of the daemon.

use super::filter::{EpcisRange, StockFilter};
use super::model::{ReaderStatus, Status, Stock};
use super::protocol::{Reply, Request};
use super::tail::TailSubscription;
use std::future::Future;

/// What the daemon provides to answer the control socket. One value is shared by every client
/// task (`Arc<B>`), so each method takes `&self` and may be called concurrently.
///
/// Answers must come from memory the daemon already keeps, never from a queue behind ingest:
/// `stock` is budgeted at p99 ≤ 1 ms for the whole round trip (SPEC §8). The intended shape is
/// a published snapshot: after each committed batch the engine builds a
/// [`super::StockSnapshot`] (the counts with the batch's `seq`, so counts and `seq` always
/// agree) and stores it as an `Arc` in a `tokio::sync::watch` channel; `stock` borrows the
/// latest one and answers [`super::StockSnapshot::query`], a few binary searches. Status and
/// reader figures are likewise gathered from counters the tasks publish, not by asking the
/// tasks and waiting for their turn.
pub trait ControlBackend: Send + Sync + 'static {
    /// Daemon health.
    fn status(&self) -> impl Future<Output = Result<Status, BackendError>> + Send;

    /// Every configured reader with its antennas, in config order.
    fn readers(&self) -> impl Future<Output = Result<Vec<ReaderStatus>, BackendError>> + Send;

    /// Current counts passing `filter`; `store`, `epoch` and `seq` always filled in.
    fn stock(
        &self,
        filter: &StockFilter,
    ) -> impl Future<Output = Result<Stock, BackendError>> + Send;

    /// The daemon's metrics in the Prometheus text exposition format (from published values too).
    fn metrics(&self) -> impl Future<Output = Result<String, BackendError>> + Send;

    /// The committed EPCIS events of `range` as one EPCISDocument (read from the state database,
    /// off the runtime's workers: not budgeted like `stock`).
    fn epcis(
        &self,
        range: &EpcisRange,
    ) -> impl Future<Output = Result<serde_json::Value, BackendError>> + Send;

    /// A subscription to live events (usually [`super::TailHub::subscribe`]).
    fn tail(&self) -> Result<TailSubscription, BackendError>;

    /// A store operation (`count`, `sale`, `departures`; see [`super::operations`]): the one kind of
    /// request the daemon's engine answers itself. The client's task waits for that answer (bounded);
    /// the engine never waits for the client. Any other request is answered with an error.
    fn operate(&self, request: Request)
        -> impl Future<Output = Result<Reply, BackendError>> + Send;
}

/// Why the backend cannot answer right now; the client gets the text as an error reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// Start-up has not got this far yet (e.g. the engine is still restoring its state).
    #[error("not ready: {reason}")]
    NotReady {
        /// What is still missing.
        reason: String,
    },
    /// The daemon is shutting down.
    #[error("the daemon is shutting down")]
    ShuttingDown,
    /// The request cannot be answered as asked; the text says why and what to do.
    #[error("{reason}")]
    Refused {
        /// Why.
        reason: String,
    },
    /// The engine did not take or answer the request in time (it is committing a large change).
    #[error("the daemon is busy: {what}; try again")]
    Busy {
        /// What did not happen in time.
        what: &'static str,
    },
    /// This backend has no engine to carry out store operations.
    #[error("store operations need the running daemon")]
    NoOperations,
}
