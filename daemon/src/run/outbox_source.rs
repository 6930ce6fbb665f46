//! The uplink's [`DeltaSource`] over the state database: committed deltas, read a window at a time.

use std::sync::Arc;

use bytes::Bytes;

use crate::store::{OutboxItem, Store, StoreError};
use crate::uplink::{Delta, DeltaSource};

/// Reads unacknowledged deltas straight from the outbox table (a redb read transaction; no write lock).
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

    fn read_after(&mut self, after: Option<u64>, max: usize) -> Result<Vec<Delta>, StoreError> {
        let from = after.map_or(0, |a| a.saturating_add(1));
        let mut out = Vec::with_capacity(max.min(256));
        // The resync item never comes from `unacked_from`: resync snapshots are the engine task's job.
        for item in self.store.unacked_from(from)?.take(max) {
            if let OutboxItem::Delta { seq, payload } = item? {
                out.push(Delta {
                    seq,
                    payload: Bytes::from(payload),
                });
            }
        }
        Ok(out)
    }
}
