//! A backend that answers with fixed data: for tests, benchmarks and tools that need a
//! control socket without a daemon behind it.

use super::backend::{BackendError, ControlBackend};
use super::filter::{EpcisRange, StockFilter};
use super::model::{ReaderStatus, Status, Stock};
use super::protocol::{Reply, Request};
use super::snapshot::StockSnapshot;
use super::tail::{TailHub, TailSubscription};

/// Answers `status`, `readers`, `stock` and `metrics` with the values given, and `tail` from its
/// hub; store operations are refused (no engine).
#[derive(Debug, Clone)]
pub struct FixedBackend {
    /// The `status` answer.
    pub status: Status,
    /// The `readers` answer.
    pub readers: Vec<ReaderStatus>,
    /// The whole stock table; `stock` answers it filtered.
    pub stock: StockSnapshot,
    /// Where `tail` subscribes; publish on a clone to feed tail clients.
    pub tail: TailHub,
    /// The `metrics` answer.
    pub metrics: String,
}

impl ControlBackend for FixedBackend {
    async fn status(&self) -> Result<Status, BackendError> {
        Ok(self.status.clone())
    }

    async fn readers(&self) -> Result<Vec<ReaderStatus>, BackendError> {
        Ok(self.readers.clone())
    }

    async fn stock(&self, filter: &StockFilter) -> Result<Stock, BackendError> {
        Ok(self.stock.query(filter))
    }

    async fn metrics(&self) -> Result<String, BackendError> {
        Ok(self.metrics.clone())
    }

    async fn epcis(&self, _range: &EpcisRange) -> Result<serde_json::Value, BackendError> {
        Err(BackendError::Refused {
            reason: "a fixed backend keeps no event history".into(),
        })
    }

    fn tail(&self) -> Result<TailSubscription, BackendError> {
        Ok(self.tail.subscribe())
    }

    async fn operate(&self, _request: Request) -> Result<Reply, BackendError> {
        // Fixed data has no engine behind it to count or sell.
        Err(BackendError::NoOperations)
    }
}
