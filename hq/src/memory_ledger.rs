//! An in-memory [`Ledger`] for the apply rules' tests: the same decisions as PostgreSQL, run
//! without a database, plus a record of every seq applied so a double application shows.

use crate::ledger::{Ledger, PartsState, StoreHead, MAX_PARTS_KEPT, MAX_PENDING};
use crate::message::{PairCount, SnapshotPart, StoreDelta};
use std::collections::BTreeMap;
use std::convert::Infallible;

/// Everything kept of one store.
#[derive(Debug, Default, Clone)]
pub(crate) struct StoreBook {
    pub head: StoreHead,
    pub stock: BTreeMap<(String, String), (u64, u64)>,
    pub pending: BTreeMap<u64, StoreDelta>,
    pub parts: BTreeMap<(String, u32), SnapshotPart>,
    pub readers: BTreeMap<String, serde_json::Value>,
    pub last_snapshot: Option<(String, u64, Vec<String>)>,
    /// (epoch, seq) of every delta whose changes were applied, in order.
    pub applied_log: Vec<(String, u64)>,
    /// The epoch the open "transaction" applies in (the head is saved only at its end).
    epoch_in_use: String,
}

impl StoreBook {
    /// The non-zero counts, as a store's own `stock` shows them.
    pub fn nonzero_stock(&self) -> BTreeMap<(String, String), u64> {
        self.stock
            .iter()
            .filter(|(_, (count, _))| *count > 0)
            .map(|(pair, (count, _))| (pair.clone(), *count))
            .collect()
    }
}

#[derive(Debug, Default)]
pub(crate) struct MemoryLedger {
    pub stores: BTreeMap<String, StoreBook>,
}

impl MemoryLedger {
    fn book(&mut self, store: &str) -> &mut StoreBook {
        self.stores.entry(store.to_owned()).or_default()
    }
}

impl Ledger for MemoryLedger {
    type Error = Infallible;

    async fn lock_store(&mut self, store: &str) -> Result<StoreHead, Infallible> {
        let book = self.book(store);
        book.epoch_in_use = book.head.epoch.clone();
        Ok(book.head.clone())
    }

    async fn save_head(&mut self, store: &str, head: &StoreHead) -> Result<(), Infallible> {
        self.book(store).head = head.clone();
        Ok(())
    }

    async fn forget_epoch(&mut self, store: &str, new_epoch: &str) -> Result<(), Infallible> {
        let book = self.book(store);
        book.epoch_in_use = new_epoch.to_owned();
        book.stock.clear();
        book.pending
            .retain(|_, delta| delta.epoch.as_str() >= new_epoch);
        book.parts
            .retain(|_, part| part.epoch.as_str() >= new_epoch);
        Ok(())
    }

    async fn set_pairs(
        &mut self,
        store: &str,
        seq: u64,
        pairs: &[PairCount],
    ) -> Result<(), Infallible> {
        let book = self.book(store);
        book.applied_log.push((book.epoch_in_use.clone(), seq));
        for pair in pairs {
            book.stock
                .insert((pair.zone.clone(), pair.sku.clone()), (pair.count, seq));
        }
        Ok(())
    }

    async fn replace_stock(
        &mut self,
        store: &str,
        seq: u64,
        pairs: &[PairCount],
    ) -> Result<(), Infallible> {
        let book = self.book(store);
        for value in book.stock.values_mut() {
            *value = (0, seq);
        }
        for pair in pairs {
            book.stock
                .insert((pair.zone.clone(), pair.sku.clone()), (pair.count, seq));
        }
        Ok(())
    }

    async fn park(&mut self, delta: &StoreDelta) -> Result<bool, Infallible> {
        let book = self.book(&delta.store);
        if book.pending.contains_key(&delta.seq) {
            return Ok(true);
        }
        if book.pending.len() >= MAX_PENDING {
            return Ok(false);
        }
        book.pending.insert(delta.seq, delta.clone());
        Ok(true)
    }

    async fn pending_after(
        &mut self,
        store: &str,
        epoch: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoreDelta>, Infallible> {
        Ok(self
            .book(store)
            .pending
            .range(after + 1..)
            .map(|(_, delta)| delta)
            .filter(|delta| delta.epoch == epoch)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn drop_pending_through(
        &mut self,
        store: &str,
        epoch: &str,
        seq: u64,
    ) -> Result<(), Infallible> {
        self.book(store).pending.retain(|&pending, delta| {
            delta.epoch.as_str() > epoch || (delta.epoch == epoch && pending > seq)
        });
        Ok(())
    }

    async fn add_part(&mut self, part: &SnapshotPart) -> Result<PartsState, Infallible> {
        let book = self.book(&part.store);
        let siblings: Vec<&SnapshotPart> = book
            .parts
            .iter()
            .filter(|((id, _), _)| *id == part.snapshot_id)
            .map(|(_, sibling)| sibling)
            .collect();
        let agrees = |other: &SnapshotPart| {
            other.epoch == part.epoch && other.seq == part.seq && other.parts == part.parts
        };
        if !siblings.iter().all(|sibling| agrees(sibling)) {
            return Ok(PartsState::Refused);
        }
        let key = (part.snapshot_id.clone(), part.part);
        if !book.parts.contains_key(&key) {
            if book.parts.len() >= MAX_PARTS_KEPT {
                return Ok(PartsState::Refused);
            }
            book.parts.insert(key, part.clone());
        }
        let mine: Vec<&SnapshotPart> = book
            .parts
            .iter()
            .filter(|((id, _), _)| *id == part.snapshot_id)
            .map(|(_, part)| part)
            .collect();
        if mine.len() < part.parts as usize {
            return Ok(PartsState::Incomplete);
        }
        Ok(PartsState::Complete(
            mine.iter()
                .flat_map(|part| part.counts.iter().cloned())
                .collect(),
        ))
    }

    async fn drop_parts_through(
        &mut self,
        store: &str,
        epoch: &str,
        seq: u64,
    ) -> Result<(), Infallible> {
        self.book(store).parts.retain(|_, part| {
            part.epoch.as_str() > epoch || (part.epoch == epoch && part.seq > seq)
        });
        Ok(())
    }

    async fn note_snapshot(
        &mut self,
        store: &str,
        snapshot_id: &str,
        seq: u64,
        stale_zones: &[String],
    ) -> Result<(), Infallible> {
        self.book(store).last_snapshot = Some((snapshot_id.to_owned(), seq, stale_zones.to_vec()));
        Ok(())
    }

    async fn set_reader(
        &mut self,
        store: &str,
        reader: &str,
        payload: &serde_json::Value,
    ) -> Result<(), Infallible> {
        self.book(store)
            .readers
            .insert(reader.to_owned(), payload.clone());
        Ok(())
    }
}
