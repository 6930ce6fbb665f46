//! The outbox: committed delta messages waiting for the broker's PUBACK, bounded by bytes, folding the oldest into a resync range when full.

use std::path::Path;

use redb::{Table, WriteTransaction};

use super::error::{AtPath, StoreError};
use super::tables::*;
use tagtally_contract::Resync;

/// One thing the uplink must (re)publish, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutboxItem {
    /// Deltas were folded away: publish a snapshot flagged with this range (see the store's module doc),
    /// then call [`Store::ack_resync`](super::Store::ack_resync).
    Resync(Resync),
    /// A committed delta message, byte-identical to its first publication.
    Delta {
        /// Its seq.
        seq: u64,
        /// The exact bytes to publish.
        payload: Vec<u8>,
    },
}

/// The outbox accounting kept in metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Deltas waiting for PUBACK.
    pub deltas: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// The bound on `bytes`.
    pub max_bytes: u64,
    /// Deltas folded into resync ranges since the database was created.
    pub folded_deltas: u64,
    /// The resync range still to be published, if any.
    pub resync: Option<Resync>,
}

/// Appends `payload` as `seq`, first folding the oldest deltas while the outbox would exceed `max_bytes`.
///
/// The newest delta is always kept, even when it alone exceeds the bound. Returns the updated accounting.
pub(super) fn append(
    txn: &WriteTransaction,
    path: &Path,
    stats: OutboxStats,
    seq: u64,
    payload: &[u8],
) -> Result<OutboxStats, StoreError> {
    let mut stats = stats;
    let mut outbox = txn.open_table(OUTBOX).at(path)?;
    let len = payload.len() as u64;
    while stats.bytes + len > stats.max_bytes {
        let Some((old_seq, old_len)) = pop_oldest(&mut outbox, path)? else {
            break;
        };
        stats.bytes = stats.bytes.saturating_sub(old_len);
        stats.deltas = stats.deltas.saturating_sub(1);
        stats.folded_deltas += 1;
        stats.resync = Some(widen(stats.resync, old_seq));
    }
    outbox.insert(seq, payload).at(path)?;
    stats.bytes += len;
    stats.deltas += 1;
    let mut meta = txn.open_table(META).at(path)?;
    meta.insert(META_OUTBOX_BYTES, stats.bytes).at(path)?;
    meta.insert(META_FOLDED_DELTAS, stats.folded_deltas)
        .at(path)?;
    write_resync(&mut meta, path, stats.resync)?;
    Ok(stats)
}

/// The resync range grown to cover `seq`.
pub(super) fn widen(resync: Option<Resync>, seq: u64) -> Resync {
    match resync {
        Some(r) => Resync {
            first_seq: r.first_seq.min(seq),
            last_seq: r.last_seq.max(seq),
        },
        None => Resync {
            first_seq: seq,
            last_seq: seq,
        },
    }
}

fn pop_oldest(
    outbox: &mut Table<u64, &[u8]>,
    path: &Path,
) -> Result<Option<(u64, u64)>, StoreError> {
    let popped = outbox.pop_first().at(path)?;
    Ok(popped.map(|(seq, payload)| (seq.value(), payload.value().len() as u64)))
}

/// Stores the pending resync range (or its absence).
pub(super) fn write_resync(
    meta: &mut Table<&str, u64>,
    path: &Path,
    resync: Option<Resync>,
) -> Result<(), StoreError> {
    match resync {
        Some(r) => {
            meta.insert(META_RESYNC_FIRST, r.first_seq).at(path)?;
            meta.insert(META_RESYNC_LAST, r.last_seq).at(path)?;
        }
        None => {
            meta.remove(META_RESYNC_FIRST).at(path)?;
            meta.remove(META_RESYNC_LAST).at(path)?;
        }
    }
    Ok(())
}

/// Removes a delta (acknowledged, or refused and folded); returns its payload, `None` when it was
/// not there (acked or folded before).
pub(super) fn remove(
    txn: &WriteTransaction,
    path: &Path,
    seq: u64,
    bytes_before: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    let mut outbox = txn.open_table(OUTBOX).at(path)?;
    let Some(payload) = outbox.remove(seq).at(path)?.map(|p| p.value().to_vec()) else {
        return Ok(None);
    };
    let mut meta = txn.open_table(META).at(path)?;
    meta.insert(
        META_OUTBOX_BYTES,
        bytes_before.saturating_sub(payload.len() as u64),
    )
    .at(path)?;
    Ok(Some(payload))
}

/// The unacknowledged outbox, oldest first: the pending resync range, then every delta from a seq on.
pub struct Unacked {
    pub(super) resync: Option<Resync>,
    pub(super) range: redb::Range<'static, u64, &'static [u8]>,
    pub(super) path: std::path::PathBuf,
}

impl std::fmt::Debug for Unacked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unacked")
            .field("resync", &self.resync)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Iterator for Unacked {
    type Item = Result<OutboxItem, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.resync.take() {
            return Some(Ok(OutboxItem::Resync(r)));
        }
        let entry = self.range.next()?;
        Some(
            entry
                .at(&self.path)
                .map(|(seq, payload)| OutboxItem::Delta {
                    seq: seq.value(),
                    payload: payload.value().to_vec(),
                }),
        )
    }
}
