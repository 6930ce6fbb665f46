//! The apply rules of SPEC §11, written once against [`Ledger`]:
//!
//! * a delta applies only as the next seq of the store's current epoch; later seqs wait as
//!   pending and apply, in order, once the gap before them closes; earlier ones are duplicates;
//! * a complete snapshot (every part, one `snapshot_id`) at a seq at or above the applied one
//!   replaces the store's stock (absent pairs become 0) and drains the pending deltas above it;
//! * anything of an older epoch is ignored; a newer epoch (from a delta, a complete snapshot or
//!   a status) starts the store over;
//! * status messages apply in (epoch, boot, connection, time) order; an older one is ignored,
//!   so a late last will never hides a live store.
//!
//! Each function handles one message inside the caller's transaction, with the store's row
//! locked, so any number of instances applying any interleaving get the same result.

use crate::ledger::{Ledger, PartsState, StoreHead};
use crate::message::{
    PairCount, ReaderHealth, SnapshotPart, StoreDelta, StoreMessage, StoreStatus,
};
use std::cmp::Ordering;
use std::collections::HashSet;

/// Pending deltas fetched per round while draining.
const DRAIN_BATCH: usize = 512;

/// What applying one message did, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A delta applied, and this many pending ones after it.
    Applied {
        /// Pending deltas applied after it.
        drained: u64,
    },
    /// A delta at or below the applied seq (normal after reconnects).
    Duplicate,
    /// A delta ahead of a gap, kept until the gap closes.
    Parked,
    /// A delta ahead of a gap that found the pending deltas at their bound.
    PendingFull,
    /// A message of an older epoch than the store's.
    OlderEpoch,
    /// A snapshot older than the applied seq.
    StaleSnapshot,
    /// A snapshot part kept until its snapshot is complete.
    PartKept,
    /// A snapshot part refused: it disagrees with other parts of its snapshot id, its
    /// snapshot lists a pair twice, or the store holds too many parts already.
    PartRefused,
    /// A complete snapshot replaced the stock, and this many pending deltas applied after it.
    SnapshotApplied {
        /// Pending deltas applied after it.
        drained: u64,
    },
    /// A status applied.
    StatusApplied,
    /// A status older than the one applied.
    StatusOlder,
    /// A reader health message kept.
    ReaderKept,
}

impl Outcome {
    /// The metric label of this outcome.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Applied { .. } => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Parked => "parked",
            Outcome::PendingFull => "pending_full",
            Outcome::OlderEpoch => "older_epoch",
            Outcome::StaleSnapshot => "stale_snapshot",
            Outcome::PartKept => "part_kept",
            Outcome::PartRefused => "part_refused",
            Outcome::SnapshotApplied { .. } => "snapshot_applied",
            Outcome::StatusApplied => "status_applied",
            Outcome::StatusOlder => "status_older",
            Outcome::ReaderKept => "reader_kept",
        }
    }

    /// Every label, for metrics that list zeros too.
    pub const LABELS: [&'static str; 12] = [
        "applied",
        "duplicate",
        "parked",
        "pending_full",
        "older_epoch",
        "stale_snapshot",
        "part_kept",
        "part_refused",
        "snapshot_applied",
        "status_applied",
        "status_older",
        "reader_kept",
    ];
}

/// Applies one message.
pub async fn apply<L: Ledger>(ledger: &mut L, message: &StoreMessage) -> Result<Outcome, L::Error> {
    match message {
        StoreMessage::Delta(delta) => apply_delta(ledger, delta).await,
        StoreMessage::SnapshotPart(part) => apply_snapshot_part(ledger, part).await,
        StoreMessage::Status(status) => apply_status(ledger, status).await,
        StoreMessage::Reader(reader) => apply_reader(ledger, reader).await,
    }
}

/// Compares a message's epoch with the store's; on a newer one the store starts over.
/// `None`: the message is of an older epoch.
async fn enter_epoch<L: Ledger>(
    ledger: &mut L,
    store: &str,
    head: StoreHead,
    epoch: &str,
) -> Result<Option<StoreHead>, L::Error> {
    match head.epoch.as_str().cmp(epoch) {
        Ordering::Greater => Ok(None),
        Ordering::Equal => Ok(Some(head)),
        Ordering::Less => {
            ledger.forget_epoch(store, epoch).await?;
            Ok(Some(head.started_over(epoch)))
        }
    }
}

async fn apply_delta<L: Ledger>(ledger: &mut L, delta: &StoreDelta) -> Result<Outcome, L::Error> {
    let head = ledger.lock_store(&delta.store).await?;
    let Some(mut head) = enter_epoch(ledger, &delta.store, head, &delta.epoch).await? else {
        return Ok(Outcome::OlderEpoch);
    };
    let outcome = if delta.seq <= head.applied {
        Outcome::Duplicate
    } else if delta.seq > head.applied + 1 {
        head.known = head.known.max(delta.seq);
        if ledger.park(delta).await? {
            Outcome::Parked
        } else {
            Outcome::PendingFull
        }
    } else {
        ledger
            .set_pairs(&delta.store, delta.seq, &delta.changes)
            .await?;
        head.applied = delta.seq;
        head.known = head.known.max(delta.seq);
        let drained = drain(ledger, &delta.store, &mut head).await?;
        Outcome::Applied { drained }
    };
    ledger.save_head(&delta.store, &head).await?;
    Ok(outcome)
}

/// Applies the pending deltas that follow `head.applied` without a hole, and deletes every
/// pending delta at or below the new applied seq.
async fn drain<L: Ledger>(
    ledger: &mut L,
    store: &str,
    head: &mut StoreHead,
) -> Result<u64, L::Error> {
    let mut drained = 0;
    loop {
        let pending = ledger
            .pending_after(store, &head.epoch, head.applied, DRAIN_BATCH)
            .await?;
        let fetched = pending.len();
        let mut blocked = false;
        for delta in pending {
            if delta.seq != head.applied + 1 {
                blocked = true;
                break;
            }
            ledger.set_pairs(store, delta.seq, &delta.changes).await?;
            head.applied = delta.seq;
            drained += 1;
        }
        if blocked || fetched < DRAIN_BATCH {
            break;
        }
    }
    ledger
        .drop_pending_through(store, &head.epoch, head.applied)
        .await?;
    Ok(drained)
}

async fn apply_snapshot_part<L: Ledger>(
    ledger: &mut L,
    part: &SnapshotPart,
) -> Result<Outcome, L::Error> {
    let mut head = ledger.lock_store(&part.store).await?;
    let outcome = match head.epoch.as_str().cmp(&part.epoch) {
        Ordering::Greater => Outcome::OlderEpoch,
        Ordering::Equal if part.seq < head.applied => Outcome::StaleSnapshot,
        _ => match ledger.add_part(part).await? {
            PartsState::Incomplete => Outcome::PartKept,
            PartsState::Refused => Outcome::PartRefused,
            PartsState::Complete(counts) if lists_a_pair_twice(&counts) => {
                ledger
                    .drop_parts_through(&part.store, &part.epoch, part.seq)
                    .await?;
                Outcome::PartRefused
            }
            PartsState::Complete(counts) => {
                if head.epoch != part.epoch {
                    // Newer, as compared above under the same lock: the store starts over.
                    ledger.forget_epoch(&part.store, &part.epoch).await?;
                    head = head.started_over(&part.epoch);
                }
                ledger.replace_stock(&part.store, part.seq, &counts).await?;
                ledger
                    .drop_parts_through(&part.store, &part.epoch, part.seq)
                    .await?;
                ledger
                    .note_snapshot(&part.store, &part.snapshot_id, part.seq, &part.stale_zones)
                    .await?;
                head.applied = part.seq;
                head.known = head.known.max(part.seq);
                let drained = drain(ledger, &part.store, &mut head).await?;
                Outcome::SnapshotApplied { drained }
            }
        },
    };
    ledger.save_head(&part.store, &head).await?;
    Ok(outcome)
}

/// Whether two parts of one snapshot name the same pair (each part alone was checked).
fn lists_a_pair_twice(counts: &[PairCount]) -> bool {
    let mut seen = HashSet::with_capacity(counts.len());
    !counts
        .iter()
        .all(|pair| seen.insert((&pair.zone, &pair.sku)))
}

async fn apply_status<L: Ledger>(
    ledger: &mut L,
    status: &StoreStatus,
) -> Result<Outcome, L::Error> {
    let head = ledger.lock_store(&status.store).await?;
    let Some(mut head) = enter_epoch(ledger, &status.store, head, &status.order.epoch).await?
    else {
        return Ok(Outcome::OlderEpoch);
    };
    if head
        .status
        .as_ref()
        .is_some_and(|current| *current >= status.order)
    {
        // The head may have started over above only for a newer epoch, which makes this
        // status newer than any kept one; so nothing changed and nothing needs saving.
        return Ok(Outcome::StatusOlder);
    }
    head.status = Some(status.order.clone());
    head.online = status.online;
    head.disk_full = status.disk_full;
    head.known = head.known.max(status.seq);
    ledger.save_head(&status.store, &head).await?;
    Ok(Outcome::StatusApplied)
}

async fn apply_reader<L: Ledger>(
    ledger: &mut L,
    reader: &ReaderHealth,
) -> Result<Outcome, L::Error> {
    let head = ledger.lock_store(&reader.store).await?;
    ledger
        .set_reader(&reader.store, &reader.reader, &reader.payload)
        .await?;
    ledger.save_head(&reader.store, &head).await?;
    Ok(Outcome::ReaderKept)
}
