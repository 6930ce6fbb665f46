//! The history: acknowledged deltas kept, byte-identical, for `cmd/replay` (SPEC §6.1), bounded by bytes and age.
//!
//! An acknowledged delta moves from the outbox to the history in the acknowledging transaction;
//! the oldest leave when the history is over `history-max-bytes` or older than `history-max-age`.
//! A seq is in exactly one of outbox and history, or in neither (folded, or aged out).

use std::path::Path;
use std::time::Duration;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::error::{AtPath, StoreError};
use super::tables::*;

/// How much history to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryBounds {
    /// Most payload bytes kept (0 keeps none).
    pub max_bytes: u64,
    /// Oldest acknowledgement kept.
    pub max_age: Duration,
}

/// Adds acknowledged deltas acknowledged at `now_secs`, then drops the oldest beyond the bounds.
/// Returns the history's bytes after it.
pub(super) fn keep(
    txn: &WriteTransaction,
    path: &Path,
    bounds: HistoryBounds,
    bytes_before: u64,
    acked: &[(u64, Vec<u8>)],
    now_secs: u64,
) -> Result<u64, StoreError> {
    let mut table = txn.open_table(HISTORY).at(path)?;
    let mut bytes = bytes_before;
    if bounds.max_bytes > 0 {
        for (seq, payload) in acked {
            table
                .insert(*seq, (now_secs, payload.as_slice()))
                .at(path)?;
            bytes += payload.len() as u64;
        }
    }
    let oldest_kept = now_secs.saturating_sub(bounds.max_age.as_secs());
    loop {
        let over = match table.first().at(path)? {
            Some((_, record)) => {
                let (acked_at, _) = record.value();
                bytes > bounds.max_bytes || acked_at < oldest_kept
            }
            None => false,
        };
        if !over {
            break;
        }
        if let Some((_, record)) = table.pop_first().at(path)? {
            bytes = bytes.saturating_sub(record.value().1.len() as u64);
        }
    }
    txn.open_table(META)
        .at(path)?
        .insert(META_HISTORY_BYTES, bytes)
        .at(path)?;
    Ok(bytes)
}

/// Up to `max` deltas with seqs in `from..=to` that are still kept, history and outbox merged, in
/// seq order.
pub(super) fn read_range(
    txn: &ReadTransaction,
    path: &Path,
    from: u64,
    to: u64,
    max: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let mut out = Vec::new();
    let history = txn.open_table(HISTORY).at(path)?;
    for entry in history.range(from..=to).at(path)?.take(max) {
        let (seq, record) = entry.at(path)?;
        out.push((seq.value(), record.value().1.to_vec()));
    }
    let outbox = txn.open_table(OUTBOX).at(path)?;
    for entry in outbox.range(from..=to).at(path)?.take(max) {
        let (seq, payload) = entry.at(path)?;
        out.push((seq.value(), payload.value().to_vec()));
    }
    out.sort_by_key(|(seq, _)| *seq);
    out.truncate(max);
    Ok(out)
}
