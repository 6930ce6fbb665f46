//! The EPCIS outbox (`[epcis] publish`): the exact `epcis` messages of committed flushes, waiting
//! for the broker's PUBACK, bounded by bytes. The deltas' outbox is the model; what differs:
//!
//! * EPCIS messages have their own seq (`tagtally:seq`, from 1 per epoch), so the delta contract
//!   (one seq per delta, gaps only where a resync snapshot covers them) is untouched.
//! * There is no resync for events: when the outbox is over its bound, the oldest messages are
//!   dropped and counted (`epcis_dropped`), and HQ sees the gap in `tagtally:seq`. The events stay
//!   in the event history, so `tagtally epcis --since` still has them while it keeps them.
//! * The uplink acknowledges in publish order, so an ack names the newest seq acknowledged and
//!   everything up to it leaves ([`ack_through`]), counted as published (`epcis_published`). A message that cannot be published at all
//!   (larger than the broker takes) leaves alone ([`drop_one`]), counted as dropped.

use std::path::Path;

use redb::{ReadTransaction, ReadableTable, TableError, WriteTransaction};

use super::error::{AtPath, StoreError};
use super::tables::*;

/// The EPCIS outbox's accounting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EpcisOutboxStats {
    /// The seq the next message gets.
    pub next_seq: u64,
    /// Messages waiting for PUBACK.
    pub messages: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Messages dropped unsent since the database was created.
    pub dropped: u64,
    /// Messages the broker acknowledged since the database was created.
    pub published: u64,
}

/// Reads the accounting (a database that never published events: seq 1, nothing held).
pub(super) fn stats(txn: &ReadTransaction, path: &Path) -> Result<EpcisOutboxStats, StoreError> {
    let meta = txn.open_table(META).at(path)?;
    let number =
        |key| -> Result<Option<u64>, StoreError> { Ok(meta.get(key).at(path)?.map(|v| v.value())) };
    let messages = match txn.open_table(EPCIS_OUTBOX) {
        Ok(table) => redb::ReadableTableMetadata::len(&table).at(path)?,
        Err(TableError::TableDoesNotExist(_)) => 0,
        Err(e) => {
            return Err(StoreError::Database {
                path: path.to_owned(),
                source: e.into(),
            })
        }
    };
    Ok(EpcisOutboxStats {
        next_seq: number(META_NEXT_EPCIS_SEQ)?.unwrap_or(1),
        messages,
        bytes: number(META_EPCIS_OUTBOX_BYTES)?.unwrap_or(0),
        dropped: number(META_EPCIS_DROPPED)?.unwrap_or(0),
        published: number(META_EPCIS_PUBLISHED)?.unwrap_or(0),
    })
}

/// Appends `payloads` as the next seqs, first dropping the oldest messages while the outbox would
/// exceed `max_bytes` (the newest message is always kept), and counts `unwritten` more dropped
/// messages' worth of events that could not be written at all. Returns the accounting after it.
pub(super) fn append(
    txn: &WriteTransaction,
    path: &Path,
    mut stats: EpcisOutboxStats,
    max_bytes: u64,
    payloads: &[Vec<u8>],
    unwritten: u64,
) -> Result<EpcisOutboxStats, StoreError> {
    let mut table = txn.open_table(EPCIS_OUTBOX).at(path)?;
    stats.dropped += unwritten;
    for payload in payloads {
        let len = payload.len() as u64;
        while stats.bytes + len > max_bytes {
            let Some((_, old)) = table.pop_first().at(path)? else {
                break;
            };
            stats.bytes = stats.bytes.saturating_sub(old.value().len() as u64);
            stats.messages = stats.messages.saturating_sub(1);
            stats.dropped += 1;
        }
        table.insert(stats.next_seq, payload.as_slice()).at(path)?;
        stats.next_seq += 1;
        stats.messages += 1;
        stats.bytes += len;
    }
    write_stats(txn, path, stats)?;
    Ok(stats)
}

/// The broker acknowledged every message up to `seq`: they leave. Returns the accounting after it.
pub(super) fn ack_through(
    txn: &WriteTransaction,
    path: &Path,
    mut stats: EpcisOutboxStats,
    seq: u64,
) -> Result<EpcisOutboxStats, StoreError> {
    let mut table = txn.open_table(EPCIS_OUTBOX).at(path)?;
    let mut acked = Vec::new();
    for entry in table.range(..=seq).at(path)? {
        let (key, payload) = entry.at(path)?;
        acked.push((key.value(), payload.value().len() as u64));
    }
    for (key, len) in acked {
        table.remove(key).at(path)?;
        stats.bytes = stats.bytes.saturating_sub(len);
        stats.messages = stats.messages.saturating_sub(1);
        stats.published += 1;
    }
    write_stats(txn, path, stats)?;
    Ok(stats)
}

/// Message `seq` can never be published: it leaves, counted as dropped. Returns the accounting
/// after it and whether it was there.
pub(super) fn drop_one(
    txn: &WriteTransaction,
    path: &Path,
    mut stats: EpcisOutboxStats,
    seq: u64,
) -> Result<(EpcisOutboxStats, bool), StoreError> {
    let mut table = txn.open_table(EPCIS_OUTBOX).at(path)?;
    let Some(len) = table.remove(seq).at(path)?.map(|p| p.value().len() as u64) else {
        return Ok((stats, false));
    };
    stats.bytes = stats.bytes.saturating_sub(len);
    stats.messages = stats.messages.saturating_sub(1);
    stats.dropped += 1;
    write_stats(txn, path, stats)?;
    Ok((stats, true))
}

fn write_stats(
    txn: &WriteTransaction,
    path: &Path,
    stats: EpcisOutboxStats,
) -> Result<(), StoreError> {
    let mut meta = txn.open_table(META).at(path)?;
    meta.insert(META_NEXT_EPCIS_SEQ, stats.next_seq).at(path)?;
    meta.insert(META_EPCIS_OUTBOX_BYTES, stats.bytes).at(path)?;
    meta.insert(META_EPCIS_DROPPED, stats.dropped).at(path)?;
    meta.insert(META_EPCIS_PUBLISHED, stats.published)
        .at(path)?;
    Ok(())
}

/// Up to `max` messages from seq `from` on, as (seq, payload), in seq order.
pub(super) fn read_from(
    txn: &ReadTransaction,
    path: &Path,
    from: u64,
    max: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let table = match txn.open_table(EPCIS_OUTBOX) {
        Ok(table) => table,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => {
            return Err(StoreError::Database {
                path: path.to_owned(),
                source: e.into(),
            })
        }
    };
    let mut out = Vec::with_capacity(max.min(64));
    for entry in table.range(from..).at(path)?.take(max) {
        let (seq, payload) = entry.at(path)?;
        out.push((seq.value(), payload.value().to_vec()));
    }
    Ok(out)
}
