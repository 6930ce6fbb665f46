//! The event history: each committed arrival, move and departure (with its reason: unseen, sale,
//! count) of a tag, for EPCIS (SPEC §12), written in the flush's own transaction and bounded like
//! the delta history.
//!
//! Why not the delta history: a delta says how a (zone, SKU) *count* changed, and is kept only once
//! acknowledged; an EPCIS ObjectEvent names the *tags* (EPCs) and what happened to each, which the
//! count changes do not tell (a move and a departure plus an arrival give the same counts). So the
//! flush's tag changes are classified here, against the tag table as it was before the flush, in
//! the same transaction: an event is committed exactly when the state change behind it is. A
//! finished count adds one more group, its result ([`CountResult`]: every tag it found present),
//! carried beside the count's delta into the same commit.
//!
//! Rows are keyed (flush time in µs, ordinal), so `tagtally epcis --since T --until U` is one range
//! scan; the ordinal (`meta.next_event`) only grows, so two flushes with the same time (a wall
//! clock stepped back) never collide. A row is one (change, zone) group of one flush, at most
//! [`EPCS_PER_ROW`] EPCs. The oldest rows leave when the table is over `history-max-bytes` or older
//! than `history-max-age` (by their flush time).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use redb::{ReadTransaction, ReadableTable, TableError, WriteTransaction};
use serde::{Deserialize, Serialize};
use tagtally_reader_drivers::Micros;

use super::error::{AtPath, StoreError};
use super::history::HistoryBounds;
use super::tables::*;
use crate::engine::DepartureReason;
use crate::epcis::cbv::StockChange;

/// Most EPCs in one stored row (and so in one ObjectEvent as stored): a cold start's 200 000
/// arrivals become a few hundred rows of bounded size rather than one huge value.
pub const EPCS_PER_ROW: usize = 512;

/// One committed stock change of some tags in one zone at one flush.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockEvent {
    /// The flush time (published time, follows the wall clock).
    pub time: Micros,
    /// Arrival, move (into `zone`) or departure (from `zone`, by its reason).
    pub change: StockChange,
    /// The zone the tags are in afterwards, or left.
    pub zone: Arc<str>,
    /// The tags' EPC bytes.
    pub epcs: Vec<Vec<u8>>,
}

/// What a finished count found present in its zone (SPEC §10): committed with the count's delta as
/// one [`StockChange::CountResult`] event group, so the tags it confirmed in place appear in EPCIS
/// too. Bounded by the count's seen set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountResult {
    /// The counted zone.
    pub zone: Arc<str>,
    /// The EPCs found present in it.
    pub epcs: Vec<Vec<u8>>,
}

/// A row as stored (postcard).
#[derive(Serialize, Deserialize)]
struct EventRow {
    change: u8,
    zone: String,
    epcs: Vec<Vec<u8>>,
}

fn change_code(change: StockChange) -> u8 {
    match change {
        StockChange::Arrival => 0,
        StockChange::Move => 1,
        StockChange::Departure => 2,
        StockChange::CountResult => 3,
        StockChange::Sale => 4,
        StockChange::MissingAtCount => 5,
    }
}

fn change_of(code: u8) -> Option<StockChange> {
    Some(match code {
        0 => StockChange::Arrival,
        1 => StockChange::Move,
        2 => StockChange::Departure,
        3 => StockChange::CountResult,
        4 => StockChange::Sale,
        5 => StockChange::MissingAtCount,
        _ => return None,
    })
}

/// Collects one flush's tag changes into (change, zone) groups, in first-seen order of each group.
#[derive(Debug, Default)]
pub(super) struct FlushEvents {
    groups: BTreeMap<(u8, Arc<str>), Vec<Vec<u8>>>,
}

impl FlushEvents {
    /// A tag went from `before` (its zone before the flush) to `after`; `departure` is why it
    /// left, when it left.
    pub(super) fn tag(
        &mut self,
        epc: &[u8],
        before: Option<&str>,
        after: Option<&Arc<str>>,
        departure: Option<DepartureReason>,
    ) {
        let (change, zone) = match (before, after) {
            (None, Some(zone)) => (StockChange::Arrival, Arc::clone(zone)),
            (Some(old), Some(zone)) if old != &**zone => (StockChange::Move, Arc::clone(zone)),
            (Some(old), None) => (StockChange::departure(departure), Arc::from(old)),
            // Same zone (its SKU was reclassified), or a removal of a tag never stored.
            _ => return,
        };
        self.groups
            .entry((change_code(change), zone))
            .or_default()
            .push(epc.to_vec());
    }

    /// A count's result: one group of its zone, whatever else the flush did to those tags.
    pub(super) fn count_result(&mut self, result: &CountResult) {
        if result.epcs.is_empty() {
            return;
        }
        self.groups
            .entry((
                change_code(StockChange::CountResult),
                Arc::clone(&result.zone),
            ))
            .or_default()
            .extend(result.epcs.iter().cloned());
    }

    /// The events of the flush at `time`, rows of at most [`EPCS_PER_ROW`] EPCs.
    pub(super) fn into_events(self, time: Micros) -> Vec<StockEvent> {
        let mut out = Vec::new();
        for ((code, zone), epcs) in self.groups {
            let Some(change) = change_of(code) else {
                continue;
            };
            for chunk in epcs.chunks(EPCS_PER_ROW) {
                out.push(StockEvent {
                    time,
                    change,
                    zone: Arc::clone(&zone),
                    epcs: chunk.to_vec(),
                });
            }
        }
        out
    }
}

/// Appends `events` after ordinal `next`, then drops the oldest rows beyond the bounds (age by
/// `now`). Returns (next ordinal, bytes held) after it.
pub(super) fn append(
    txn: &WriteTransaction,
    path: &Path,
    bounds: HistoryBounds,
    (mut next, mut bytes): (u64, u64),
    events: &[StockEvent],
    now: Micros,
) -> Result<(u64, u64), StoreError> {
    let mut table = txn.open_table(EVENTS).at(path)?;
    if bounds.max_bytes > 0 {
        for event in events {
            let row = EventRow {
                change: change_code(event.change),
                zone: event.zone.to_string(),
                epcs: event.epcs.clone(),
            };
            let value = postcard::to_allocvec(&row).map_err(|e| StoreError::Corrupt {
                path: path.to_owned(),
                detail: format!("cannot encode an event row: {e}"),
            })?;
            table
                .insert((event.time.0, next), value.as_slice())
                .at(path)?;
            next += 1;
            bytes += value.len() as u64;
        }
    }
    let oldest_kept = now
        .0
        .saturating_sub(u64::try_from(bounds.max_age.as_micros()).unwrap_or(u64::MAX));
    loop {
        let over = match table.first().at(path)? {
            Some((key, _)) => bytes > bounds.max_bytes || key.value().0 < oldest_kept,
            None => false,
        };
        if !over {
            break;
        }
        if let Some((_, value)) = table.pop_first().at(path)? {
            bytes = bytes.saturating_sub(value.value().len() as u64);
        }
    }
    let mut meta = txn.open_table(META).at(path)?;
    meta.insert(META_NEXT_EVENT, next).at(path)?;
    meta.insert(META_EVENT_BYTES, bytes).at(path)?;
    Ok((next, bytes))
}

/// Why a range of events was not read.
#[derive(Debug)]
pub enum EventRangeError {
    /// The range holds more EPCs than one answer may carry.
    TooMany {
        /// The bound.
        max_epcs: usize,
    },
    /// The store failed.
    Store(StoreError),
}

/// The events with flush times in `since..until`, in (time, commit) order; refused when they hold
/// more than `max_epcs` EPCs. A database that never kept events has none.
pub(super) fn read_range(
    txn: &ReadTransaction,
    path: &Path,
    since: Micros,
    until: Micros,
    max_epcs: usize,
) -> Result<Vec<StockEvent>, EventRangeError> {
    let table = match txn.open_table(EVENTS) {
        Ok(table) => table,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => {
            return Err(EventRangeError::Store(StoreError::Database {
                path: path.to_owned(),
                source: e.into(),
            }))
        }
    };
    let mut out = Vec::new();
    let mut epcs = 0usize;
    let range = table
        .range((since.0, 0)..(until.0, 0))
        .at(path)
        .map_err(EventRangeError::Store)?;
    for entry in range {
        let (key, value) = entry.at(path).map_err(EventRangeError::Store)?;
        let corrupt = |detail: String| {
            EventRangeError::Store(StoreError::Corrupt {
                path: path.to_owned(),
                detail,
            })
        };
        let row: EventRow = postcard::from_bytes(value.value())
            .map_err(|e| corrupt(format!("event row {:?}: {e}", key.value())))?;
        let change = change_of(row.change).ok_or_else(|| {
            corrupt(format!(
                "event row {:?}: change {}",
                key.value(),
                row.change
            ))
        })?;
        epcs += row.epcs.len();
        if epcs > max_epcs {
            return Err(EventRangeError::TooMany { max_epcs });
        }
        out.push(StockEvent {
            time: Micros(key.value().0),
            change,
            zone: Arc::from(row.zone),
            epcs: row.epcs,
        });
    }
    Ok(out)
}
