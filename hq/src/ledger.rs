//! The storage the apply rules run against, as a small interface: PostgreSQL in production
//! ([`crate::db`]), an in-memory model in the rules' own tests. The rules ([`crate::apply`]) are
//! written once, against this trait, so both run exactly the same decisions.

use crate::message::{PairCount, SnapshotPart, StatusOrder, StoreDelta};

/// Most pending deltas kept per store: beyond, a gap that long is closed by a snapshot.
pub const MAX_PENDING: usize = 10_000;
/// Most snapshot parts kept per store while their snapshots are incomplete.
pub const MAX_PARTS_KEPT: usize = 20_000;

/// What the service keeps per store to decide what a message means.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreHead {
    /// The current epoch; empty for a store never heard of.
    pub epoch: String,
    /// Every seq up to this one is in the stock (0: none).
    pub applied: u64,
    /// The highest seq the store is known to have committed (from deltas and status).
    pub known: u64,
    /// The newest status applied.
    pub status: Option<StatusOrder>,
    /// The newest status said `online` (or `disk_full`).
    pub online: bool,
    /// The newest status said `disk_full`.
    pub disk_full: bool,
}

impl StoreHead {
    /// A store that starts over in `epoch`: nothing applied, nothing known, status kept only
    /// if it belongs to that epoch.
    pub fn started_over(&self, epoch: &str) -> StoreHead {
        let status_kept = self
            .status
            .as_ref()
            .is_some_and(|status| status.epoch == epoch);
        StoreHead {
            epoch: epoch.to_owned(),
            applied: 0,
            known: 0,
            status: if status_kept {
                self.status.clone()
            } else {
                None
            },
            online: status_kept && self.online,
            disk_full: status_kept && self.disk_full,
        }
    }

    /// Seqs known to exist but not applied: `applied + 1 ..= known`, if any.
    pub fn gap(&self) -> Option<(u64, u64)> {
        (self.known > self.applied).then(|| (self.applied + 1, self.known))
    }
}

/// Result of storing one snapshot part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartsState {
    /// Parts of this snapshot still missing.
    Incomplete,
    /// Every part is there: the counts of all parts, in part order.
    Complete(Vec<PairCount>),
    /// Not kept: another part of the same snapshot id disagrees on epoch, seq or number of
    /// parts, or the store already holds [`MAX_PARTS_KEPT`] parts.
    Refused,
}

/// One transaction's view of the stock of record. Every method acts inside the transaction
/// that [`Ledger::lock_store`] locked the store in; nothing is visible to others before commit.
#[allow(async_fn_in_trait)] // only used with concrete types inside this crate
pub trait Ledger {
    /// Storage failure.
    type Error;

    /// Locks the store's row until the end of the transaction (creating it when new) and
    /// returns its head. Two transactions never hold one store at once.
    async fn lock_store(&mut self, store: &str) -> Result<StoreHead, Self::Error>;

    /// Writes the store's head back, with the time it was last heard from.
    async fn save_head(&mut self, store: &str, head: &StoreHead) -> Result<(), Self::Error>;

    /// Forgets everything of an older epoch: stock, pending deltas, snapshot parts.
    async fn forget_epoch(&mut self, store: &str, new_epoch: &str) -> Result<(), Self::Error>;

    /// Sets these pairs' counts, as of `seq`.
    async fn set_pairs(
        &mut self,
        store: &str,
        seq: u64,
        pairs: &[PairCount],
    ) -> Result<(), Self::Error>;

    /// Replaces the store's whole stock by `pairs`, as of `seq`: pairs not listed become 0.
    async fn replace_stock(
        &mut self,
        store: &str,
        seq: u64,
        pairs: &[PairCount],
    ) -> Result<(), Self::Error>;

    /// Keeps a delta that arrived ahead of a gap. `false` when the store's pending deltas are
    /// at their bound (the delta is then left to the snapshot that closes the gap).
    async fn park(&mut self, delta: &StoreDelta) -> Result<bool, Self::Error>;

    /// Up to `limit` pending deltas of the store's `epoch` with seq above `after`, by seq.
    async fn pending_after(
        &mut self,
        store: &str,
        epoch: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoreDelta>, Self::Error>;

    /// Deletes pending deltas of `epoch` with seq up to `seq`, and any of older epochs
    /// (a newer epoch's are kept: that epoch is still to come).
    async fn drop_pending_through(
        &mut self,
        store: &str,
        epoch: &str,
        seq: u64,
    ) -> Result<(), Self::Error>;

    /// Stores a snapshot part (a repeat is harmless) and says whether its snapshot is complete.
    async fn add_part(&mut self, part: &SnapshotPart) -> Result<PartsState, Self::Error>;

    /// Deletes the store's snapshot parts of `epoch` with seq up to `seq` (a complete or
    /// superseded one), and any of older epochs.
    async fn drop_parts_through(
        &mut self,
        store: &str,
        epoch: &str,
        seq: u64,
    ) -> Result<(), Self::Error>;

    /// Notes the snapshot applied last: its id, seq and stale zones.
    async fn note_snapshot(
        &mut self,
        store: &str,
        snapshot_id: &str,
        seq: u64,
        stale_zones: &[String],
    ) -> Result<(), Self::Error>;

    /// Keeps a reader health payload.
    async fn set_reader(
        &mut self,
        store: &str,
        reader: &str,
        payload: &serde_json::Value,
    ) -> Result<(), Self::Error>;
}
