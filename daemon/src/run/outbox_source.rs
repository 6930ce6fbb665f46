//! The uplink's [`DeltaSource`] over the state database: committed deltas and `epcis` messages, read a window at a time.

use std::sync::Arc;

use bytes::Bytes;

use crate::store::{Store, StoreError};
use crate::uplink::{DeltaSource, OutboxDelta, OutboxEpcis};

/// Reads unacknowledged deltas straight from the outbox table (a redb read transaction; no write lock),
/// a window at a time, so that reads go on while the engine task holds writes back on a full disk.
#[derive(Debug, Clone)]
pub struct OutboxSource {
    store: Arc<Store>,
}

impl OutboxSource {
    /// A source over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        OutboxSource { store }
    }
}

impl DeltaSource for OutboxSource {
    type Error = StoreError;

    fn read_after(
        &mut self,
        after: Option<u64>,
        max: usize,
    ) -> Result<Vec<OutboxDelta>, StoreError> {
        let from = after.map_or(0, |a| a.saturating_add(1));
        // The resync item never comes from here: resync snapshots are the engine task's job.
        Ok(self
            .store
            .read_deltas(from, max)?
            .into_iter()
            .map(|(seq, payload)| OutboxDelta {
                seq,
                payload: Bytes::from(payload),
            })
            .collect())
    }

    fn read_epcis_after(
        &mut self,
        after: Option<u64>,
        max: usize,
    ) -> Result<Vec<OutboxEpcis>, StoreError> {
        let from = after.map_or(0, |a| a.saturating_add(1));
        Ok(self
            .store
            .read_epcis(from, max)?
            .into_iter()
            .map(|(seq, payload)| OutboxEpcis {
                seq,
                payload: Bytes::from(payload),
            })
            .collect())
    }
}
