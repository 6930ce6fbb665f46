//! The durable store: tag state, counts and the outbox of unacknowledged deltas in one redb database (SPEC §7).
//!
//! # On-disk layout
//!
//! One redb file (`tagtally.redb` under `state-dir`), six tables ([`tables`]):
//!
//! | table | key → value | holds |
//! |---|---|---|
//! | `tags` | EPC bytes → postcard `TagRecord { zone, sku }` | every present tag, by zone and SKU *name* |
//! | `counts` | (zone, sku) → u32 | every non-zero count; always the recount of `tags` |
//! | `outbox` | seq → bytes | the exact delta message (SPEC §6 JSON) of every unacknowledged seq |
//! | `history` | seq → (acked at, bytes) | acknowledged delta messages kept for `cmd/replay` ([`history`]) |
//! | `meta` | name → u64 | `schema_version`, `next_seq`, `outbox_bytes`, `folded_deltas`, `resync_first_seq`/`resync_last_seq`, `boot`, `history_bytes`, `snapshot_parts`, `next_event`, `event_bytes`, `next_epcis_seq`, `epcis_outbox_bytes`, `epcis_dropped`, `epcis_published` |
//! | `events` | (flush time µs, ordinal) → postcard row | committed arrivals, moves and departures of tags, with `[epcis]` only ([`events`]) |
//! | `epcis_outbox` | EPCIS seq → bytes | the exact `epcis` message of every unacknowledged EPCIS seq, with `[epcis] publish` only ([`epcis_outbox`]) |
//! | `meta_text` | name → str | `epoch`, `store` (the config's store name, recorded at creation) |
//! | `count_sessions` | zone → str | count sessions open when last written, so a restart can say it cancelled them ([`count_sessions`]; optional, not in the layout version) |
//!
//! Records are postcard; the layout version is `meta.schema_version` (2). A layout 1 database (no
//! `history`, `boot`, `history_bytes`) is upgraded in place at open, in the same transaction that
//! counts the boot: epoch, seqs, tags and outbox stay as they are. A database of any other version is
//! refused rather than guessed at.
//!
//! # Who writes, who deletes
//!
//! * **Creation** ([`Store::open`] on a new file): one transaction writes the tables, `schema_version`,
//!   `next_seq = 1` and the `epoch`, a UUIDv7 (epochs sort by creation time as plain strings). The epoch
//!   never changes afterwards; only a new file (the state was wiped) has a new one.
//! * **Every open** counts a boot (`boot`, `status/2`) in that same first transaction.
//! * **The engine's flush** ([`Store::commit`]): one write transaction applies the delta's tag changes to
//!   `tags`, its count changes to `counts` (checking each stored count plus the delta gives the new count),
//!   serialises the delta message once with the next seq (several messages with consecutive seqs when
//!   one would exceed the size bound, [`Store::set_max_delta_payload`]), appends them to `outbox` and
//!   advances `next_seq`.
//!   With `keep_events` ([`StoreOptions`]), the same transaction classifies each tag change against
//!   the tag's stored zone (arrival, move, departure) and appends those events ([`events`]); with
//!   `publish_events` too, it serialises them as `epcis` messages with the next EPCIS seqs into
//!   `epcis_outbox` ([`epcis_outbox`]), which the uplink drains like the outbox.
//!   Only after that transaction committed can the uplink see the message: it pulls committed deltas
//!   from `outbox` (`run/outbox_source.rs`), nothing is handed to it. A flush
//!   whose counts did not change (tags swapped places) writes tag state and uses no seq.
//! * **Acknowledgement** ([`Store::ack_published`]: a burst of acked seqs, and the `epcis` messages
//!   acked through one EPCIS seq, in one transaction; [`Store::ack`] and [`Store::ack_all`] are its
//!   delta-only forms), written by the engine task (the only writer), which collects the uplink's
//!   `Acked(seq)` events and writes them together: moves `outbox[seq]` to
//!   `history` when the broker's PUBACK for that seq arrived, and drops the oldest
//!   history beyond `history-max-bytes` / `history-max-age` in the same transaction.
//!   That is what *acknowledged* means: the broker has the message; nothing else removes a delta from
//!   the outbox, except folding. [`Store::read_kept`] reads history and outbox for `cmd/replay`.
//! * **A refused delta** ([`Store::fold_refused`]: larger than the broker takes) leaves the outbox
//!   into the pending resync range, like a fold.
//! * **Folding** (inside [`Store::commit`]): when appending would take `outbox_bytes` over the bound, the
//!   oldest deltas are deleted and their seqs merged into the single pending resync range
//!   (`resync_first_seq..=resync_last_seq`), and `folded_deltas` grows. The newest delta is always kept.
//!
//! A seq, once committed, is never reused and its bytes never change: `next_seq` only grows, in the same
//! transaction as the outbox row.
//!
//! # Resync: what HQ sees when the outbox overflowed
//!
//! [`Store::unacked`] yields the resync range first. The uplink then publishes a snapshot (counts as of the
//! last committed seq, `seq` = that seq) with the extra field `"resync":{"first_seq":F,"last_seq":L}`
//! (see [`payload::snapshot_json`]); after its PUBACK the engine task calls [`Store::ack_resync`]. HQ sees a gap F..=L in
//! the delta seqs and a snapshot with `resync` whose seq covers the gap: it replaces its counts with the
//! snapshot and carries on from the next delta. Nothing is dropped silently: folds are counted in
//! `folded_deltas` (see [`OutboxStats`]) and reported by each [`Committed`] so the caller can log them.
//!
//! # Start-up
//!
//! [`Store::open`] refuses an existing file of 0 bytes and one redb cannot read as a database (truncated,
//! overwritten) as [`StoreError::Unusable`] (a first install has no file at all), and a database recorded
//! for another store as [`StoreError::OtherStore`]; a database without a recorded store name (the layout
//! before it was recorded) takes the configured one, once. It loads `tags` and checks, before anything
//! runs: the schema version; `counts` equals the
//! recount of `tags`; every outbox seq is below `next_seq`; `outbox_bytes` is the sum of the outbox. Any
//! violation is [`StoreError::Corrupt`], whose message names the file and the way out (move it aside, which
//! starts a new epoch). The loaded tags go to [`Engine::restore`](crate::engine::Engine::restore); their
//! departure timers start afresh when coverage returns. Unsent deltas are re-published from
//! [`Store::unacked`] in seq order. Reads of the flush interval that was cut short are not in the database:
//! the readers simply see those tags again.
//!
//! # Failure
//!
//! A failed write transaction leaves the database at the previous commit: the store's accounting
//! (`next_seq`, outbox bytes) moves only after a commit succeeded, so the same delta committed again
//! gets the same seq. Crashes and power loss at any instant keep the last committed transaction (redb's
//! copy-on-write commit with checksums).
//!
//! A write that failed for lack of space ([`StoreError::out_of_space`]: a full disk, a quota, a
//! file-size limit; see [`space`]) is one the caller may retry: redb refuses every later call on a handle
//! that met an I/O error, so the store at once closes it and reopens the file through its [`Opener`]
//! (redb recovers it at the last commit, writing only its header), checks that the file is at the
//! commit the store knew last ([`StoreError::Diverged`] otherwise), and answers reads again — the uplink
//! keeps draining the outbox while the disk is full. If the reopen itself fails for lack of space, reads
//! fail with [`StoreError::Closed`] and the next write tries the reopen again. What to do with the
//! write that failed (hold it, retry it) is the caller's business: see `run/engine_task.rs`.
//! Every other write error leaves the store as it is and the caller stops.

mod book_stock;
mod count_sessions;
mod epcis_outbox;
mod error;
mod events;
mod history;
mod outbox;
pub mod payload;
mod records;
mod restore;
pub mod space;
mod tables;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use crate::engine::{Delta, RestoredTag};
use crate::epcis::location::Locations;
use crate::epcis::message::epcis_payloads;
use crate::epcis::stock_events::object_events;
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::EpcisHeader;
use tagtally_reader_drivers::Micros;

pub use epcis_outbox::EpcisOutboxStats;
pub use error::StoreError;
pub use events::{CountResult, EventRangeError, StockEvent, EPCS_PER_ROW};
pub use history::HistoryBounds;
pub use outbox::{OutboxItem, OutboxStats, Unacked};
pub use restore::StoredTag;
pub use space::Opener;
pub use tagtally_contract::Resync;

use error::AtPath;
use records::TagRecord;
use tables::*;

/// The on-disk layout this build writes (older ones are upgraded in place at open).
pub const LAYOUT_VERSION: u64 = tables::SCHEMA_VERSION;

/// The database file name under `state-dir`.
pub const DATABASE_FILE: &str = "tagtally.redb";

/// What the store needs from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// The store name written into every message (`store` in SPEC §6).
    pub store: String,
    /// The bound on the outbox's payload bytes.
    pub max_outbox_bytes: u64,
    /// The largest delta payload: a flush that would be larger is committed as several seqs.
    pub max_delta_payload: usize,
    /// How much acknowledged history to keep for `cmd/replay`; also the bounds of the event history.
    pub history: HistoryBounds,
    /// Keep the event history (`[epcis]` configured).
    pub keep_events: bool,
    /// Also commit each flush's events as `epcis` messages (`[epcis] publish = true`), with
    /// locations named this way; only with `keep_events`. The EPCIS outbox is bounded by
    /// `max_outbox_bytes` too (its own bytes).
    pub publish_events: Option<Locations>,
}

impl StoreOptions {
    /// Options with the default bounds (128 KiB messages, 64 MiB / 7 days of history).
    pub fn new(store: &str, max_outbox_bytes: u64) -> StoreOptions {
        StoreOptions {
            store: store.to_owned(),
            max_outbox_bytes,
            max_delta_payload: 128 * 1024,
            history: HistoryBounds {
                max_bytes: 64 * 1024 * 1024,
                max_age: std::time::Duration::from_secs(7 * 86_400),
            },
            keep_events: false,
            publish_events: None,
        }
    }
}

/// An opened store and what it holds.
#[derive(Debug)]
pub struct Opened {
    /// The store.
    pub store: Store,
    /// The present tags, for [`Engine::restore`](crate::engine::Engine::restore).
    pub tags: Vec<StoredTag>,
    /// True when this open created the database (and its epoch).
    pub created: bool,
    /// The layout this open upgraded the file from, if it did.
    pub upgraded_from: Option<u64>,
    /// True when the database had no store name recorded (an older layout) and this open recorded
    /// the configured one.
    pub adopted_store_name: bool,
}

impl StoredTag {
    /// The engine's view of this tag.
    pub fn as_restored(&self) -> RestoredTag<'_> {
        RestoredTag {
            epc: &self.epc,
            zone: &self.zone,
            sku: &self.sku,
        }
    }
}

/// What one flush committed: its deltas (none when no count changed) and its `epcis` messages
/// (none when it had no event or the store does not publish them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlushCommitted {
    /// The deltas.
    pub deltas: Option<Committed>,
    /// The `epcis` messages.
    pub epcis: Option<EpcisCommitted>,
    /// The flush's events when the store keeps them (empty otherwise).
    pub events: Vec<StockEvent>,
}

/// `epcis` messages that are now durable: EPCIS seqs `first_seq..=seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpcisCommitted {
    /// The first EPCIS seq of this flush.
    pub first_seq: u64,
    /// The last.
    pub seq: u64,
    /// Messages this commit dropped unsent (the oldest, for the bound; or events whose location
    /// cannot be written): log it.
    pub dropped_now: u64,
    /// The EPCIS outbox after this commit.
    pub outbox: EpcisOutboxStats,
}

/// Deltas that are now durable: seqs `first_seq..=seq`, one flush (several seqs only when it did
/// not fit the size bound in one message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The first seq of this flush.
    pub first_seq: u64,
    /// The last seq of this flush.
    pub seq: u64,
    /// The exact message bytes of each seq from `first_seq` on (also in the outbox until acknowledged).
    pub payloads: Vec<Vec<u8>>,
    /// Deltas this commit folded away to respect the bound (log it), with the outbox state after it.
    pub folded_now: u64,
    /// The outbox after this commit.
    pub outbox: OutboxStats,
}

#[derive(Debug)]
struct Accounting {
    next_seq: u64,
    outbox: OutboxStats,
    history_bytes: u64,
    snapshot_parts: u64,
    /// The event history's next ordinal and bytes.
    events: (u64, u64),
    /// The EPCIS outbox.
    epcis: EpcisOutboxStats,
}

/// The durable store (see the module doc). Shareable between the engine task and the uplink task.
#[derive(Debug)]
pub struct Store {
    /// The open database; swapped for a fresh handle after a write failed for lack of space, and
    /// `None` only while reopening failed too. Lock order: `db` before `accounting`.
    db: RwLock<Option<Database>>,
    opener: Opener,
    path: PathBuf,
    store: String,
    epoch: String,
    boot: u64,
    max_delta_payload: AtomicUsize,
    history: HistoryBounds,
    keep_events: bool,
    publish_events: Option<Locations>,
    max_epcis_payload: AtomicUsize,
    max_outbox_bytes: u64,
    accounting: Mutex<Accounting>,
}

impl Store {
    /// Opens (or creates) the database at `path`, checks it and loads the present tags.
    pub fn open(path: &Path, options: StoreOptions) -> Result<Opened, StoreError> {
        Self::open_with(path, options, Opener::file())
    }

    /// [`Store::open`] through `opener`, which is also what reopens the file after a write failed for
    /// lack of space.
    pub fn open_with(
        path: &Path,
        options: StoreOptions,
        opener: Opener,
    ) -> Result<Opened, StoreError> {
        refuse_empty_file(path)?;
        let db = opener
            .open(path)
            .map_err(|source| StoreError::open(path, source))?;
        let init = restore::initialise(&db, path, &options.store)?;
        let (meta, tags) = restore::load(&db, path)?;
        let adopted_store_name = restore::claim(&db, path, &options.store)?;
        let (deltas, events, epcis) = {
            let txn = db.begin_read().at(path)?;
            let epcis = epcis_outbox::stats(&txn, path)?;
            let outbox = txn.open_table(OUTBOX).at(path)?;
            let meta = txn.open_table(META).at(path)?;
            let number = |key| -> Result<u64, StoreError> {
                Ok(meta.get(key).at(path)?.map_or(0, |v| v.value()))
            };
            (
                outbox.len().at(path)?,
                (number(META_NEXT_EVENT)?, number(META_EVENT_BYTES)?),
                epcis,
            )
        };
        let store = Store {
            db: RwLock::new(Some(db)),
            opener,
            path: path.to_owned(),
            store: options.store,
            epoch: meta.epoch,
            boot: init.boot,
            max_delta_payload: AtomicUsize::new(options.max_delta_payload),
            history: options.history,
            keep_events: options.keep_events,
            publish_events: options.publish_events.filter(|_| options.keep_events),
            max_epcis_payload: AtomicUsize::new(options.max_delta_payload),
            max_outbox_bytes: options.max_outbox_bytes,
            accounting: Mutex::new(Accounting {
                events,
                epcis,
                history_bytes: meta.history_bytes,
                snapshot_parts: meta.snapshot_parts,
                next_seq: meta.next_seq,
                outbox: OutboxStats {
                    deltas,
                    bytes: meta.outbox_bytes,
                    max_bytes: options.max_outbox_bytes,
                    folded_deltas: meta.folded_deltas,
                    resync: meta.resync,
                },
            }),
        };
        Ok(Opened {
            store,
            tags,
            created: init.created,
            upgraded_from: init.upgraded_from,
            adopted_store_name,
        })
    }

    fn accounting(&self) -> MutexGuard<'_, Accounting> {
        // A panic aborts the process (panic = "abort"), so a poisoned lock cannot be observed in the daemon.
        self.accounting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Commits one flush: tag state, counts and (when counts changed) the delta message, in one transaction.
    ///
    /// Returns the message to publish, `None` when the flush changed no count.
    pub fn commit(&self, delta: &Delta) -> Result<Option<Committed>, StoreError> {
        Ok(self.commit_flush(delta)?.deltas)
    }

    /// [`Store::commit`], also returning the flush's `epcis` messages when the store publishes
    /// events.
    pub fn commit_flush(&self, delta: &Delta) -> Result<FlushCommitted, StoreError> {
        self.commit_counted(delta, &[])
    }

    /// [`Store::commit_flush`] of a flush that applied counts: each count's result becomes one
    /// event group (when the store keeps events), committed in the same transaction as the delta.
    pub fn commit_counted(
        &self,
        delta: &Delta,
        counts: &[CountResult],
    ) -> Result<FlushCommitted, StoreError> {
        self.write(|db| self.commit_in(db, delta, counts))
    }

    /// [`Store::commit`], also returning the flush's events when the store keeps them (empty
    /// otherwise).
    pub fn commit_with_events(
        &self,
        delta: &Delta,
    ) -> Result<(Option<Committed>, Vec<StockEvent>), StoreError> {
        let flush = self.commit_flush(delta)?;
        Ok((flush.deltas, flush.events))
    }

    fn commit_in(
        &self,
        db: &Database,
        delta: &Delta,
        counts: &[CountResult],
    ) -> Result<FlushCommitted, StoreError> {
        let path = self.path.as_path();
        let mut accounting = self.accounting();
        let txn = db.begin_write().at(path)?;
        let mut flush_events = events::FlushEvents::default();
        {
            let mut tags = txn.open_table(TAGS).at(path)?;
            for change in &delta.tag_changes {
                let epc = change.epc.as_bytes();
                let before = match &change.placement {
                    Some(p) => {
                        let record = TagRecord {
                            zone: &p.zone,
                            sku: &p.sku,
                        }
                        .encode()
                        .map_err(|e| StoreError::Corrupt {
                            path: path.to_owned(),
                            detail: format!("cannot encode the record of tag {}: {e}", change.epc),
                        })?;
                        tags.insert(epc, record.as_slice()).at(path)?
                    }
                    None => tags.remove(epc).at(path)?,
                };
                if self.keep_events {
                    let before = before
                        .as_ref()
                        .map(|old| TagRecord::decode(old.value()))
                        .transpose()
                        .map_err(|e| StoreError::Corrupt {
                            path: path.to_owned(),
                            detail: format!("the record of tag {}: {e}", change.epc),
                        })?;
                    flush_events.tag(
                        epc,
                        before.as_ref().map(|r| r.zone),
                        change.placement.as_ref().map(|p| &p.zone),
                        change.departure,
                    );
                }
            }
            let mut counts = txn.open_table(COUNTS).at(path)?;
            for c in &delta.changes {
                let key = (&*c.zone, &*c.sku);
                let stored = counts.get(key).at(path)?.map_or(0, |v| v.value());
                if i64::from(stored) + c.delta != i64::from(c.count) {
                    return Err(StoreError::DeltaMismatch {
                        path: path.to_owned(),
                        zone: c.zone.to_string(),
                        sku: c.sku.to_string(),
                        stored,
                        delta: c.delta,
                        count: c.count,
                    });
                }
                if c.count == 0 {
                    counts.remove(key).at(path)?;
                } else {
                    counts.insert(key, c.count).at(path)?;
                }
            }
        }
        let committed = if delta.changes.is_empty() {
            None
        } else {
            let first_seq = accounting.next_seq;
            let payloads = payload::delta_payloads(
                &self.store,
                &self.epoch,
                first_seq,
                delta.time,
                &delta.changes,
                self.max_delta_payload.load(Ordering::Relaxed),
            );
            let mut outbox = accounting.outbox;
            for (seq, payload) in (first_seq..).zip(&payloads) {
                outbox = outbox::append(&txn, path, outbox, seq, payload)?;
            }
            let seq = first_seq + payloads.len() as u64 - 1;
            txn.open_table(META)
                .at(path)?
                .insert(META_NEXT_SEQ, seq + 1)
                .at(path)?;
            Some(Committed {
                first_seq,
                seq,
                payloads,
                folded_now: outbox.folded_deltas - accounting.outbox.folded_deltas,
                outbox,
            })
        };
        if self.keep_events {
            for count in counts {
                flush_events.count_result(count);
            }
        }
        let stock_events = flush_events.into_events(delta.time);
        let event_accounting = if self.keep_events {
            events::append(
                &txn,
                path,
                self.history,
                accounting.events,
                &stock_events,
                delta.time,
            )?
        } else {
            accounting.events
        };
        let epcis = match &self.publish_events {
            Some(locations) if !stock_events.is_empty() => {
                Some(self.append_epcis(&txn, accounting.epcis, locations, &stock_events, delta)?)
            }
            _ => None,
        };
        txn.commit().at(path)?;
        if let Some(c) = &committed {
            accounting.next_seq = c.seq + 1;
            accounting.outbox = c.outbox;
        }
        accounting.events = event_accounting;
        if let Some(e) = &epcis {
            accounting.epcis = e.outbox;
        }
        Ok(FlushCommitted {
            deltas: committed,
            epcis,
            events: stock_events,
        })
    }

    /// Serialises a flush's events as `epcis` messages into the EPCIS outbox. An event whose
    /// location cannot be written (a zone retired from an older config, too long for an SGLN
    /// extension) is left out of them and counted as dropped: it stays in the event history.
    fn append_epcis(
        &self,
        txn: &redb::WriteTransaction,
        stats: EpcisOutboxStats,
        locations: &Locations,
        stock_events: &[StockEvent],
        delta: &Delta,
    ) -> Result<EpcisCommitted, StoreError> {
        let mut writable = Vec::with_capacity(stock_events.len());
        for event in stock_events {
            if let Ok(mut one) = object_events(std::slice::from_ref(event), locations) {
                writable.append(&mut one);
            }
        }
        let unwritten = (stock_events.len() - writable.len()) as u64;
        let time = rfc3339_from_micros(delta.time.0);
        let header = EpcisHeader {
            store: &self.store,
            epoch: &self.epoch,
            time: &time,
        };
        let payloads = epcis_payloads(
            &header,
            stats.next_seq,
            &writable,
            self.max_epcis_payload.load(Ordering::Relaxed),
        );
        let outbox = epcis_outbox::append(
            txn,
            &self.path,
            stats,
            self.max_outbox_bytes,
            &payloads,
            unwritten,
        )?;
        Ok(EpcisCommitted {
            first_seq: stats.next_seq,
            seq: outbox.next_seq.saturating_sub(1),
            dropped_now: outbox.dropped - stats.dropped,
            outbox,
        })
    }

    /// The committed events with flush times in `since..until`, oldest first, refused when they
    /// hold more than `max_epcs` EPCs: what `tagtally epcis` prints.
    pub fn events(
        &self,
        since: Micros,
        until: Micros,
        max_epcs: usize,
    ) -> Result<Vec<StockEvent>, EventRangeError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard
            .as_ref()
            .ok_or_else(|| EventRangeError::Store(self.closed()))?;
        let txn = db.begin_read().at(path).map_err(EventRangeError::Store)?;
        events::read_range(&txn, path, since, until, max_epcs)
    }

    /// The broker acknowledged `seq`: it leaves the outbox. Returns false when it was not there
    /// (acknowledged before, or folded).
    pub fn ack(&self, seq: u64) -> Result<bool, StoreError> {
        Ok(self.ack_all(&[seq])? == 1)
    }

    /// The broker acknowledged each of `seqs`: they leave the outbox together, in one durable
    /// transaction. Acks come in bursts (a whole in-flight window after a reconnect, a backlog
    /// draining after an outage); one commit per burst instead of one fsync per seq keeps a drain on
    /// a slow gateway disk from being disk-bound. Returns how many were still there.
    pub fn ack_all(&self, seqs: &[u64]) -> Result<usize, StoreError> {
        self.write(|db| self.ack_in(db, seqs, None))
    }

    /// [`Store::ack_all`], and in the same transaction every `epcis` message up to EPCIS seq
    /// `epcis_through` leaves the EPCIS outbox (the broker acknowledged them, in order).
    pub fn ack_published(
        &self,
        seqs: &[u64],
        epcis_through: Option<u64>,
    ) -> Result<usize, StoreError> {
        self.write(|db| self.ack_in(db, seqs, epcis_through))
    }

    fn ack_in(
        &self,
        db: &Database,
        seqs: &[u64],
        epcis_through: Option<u64>,
    ) -> Result<usize, StoreError> {
        let path = self.path.as_path();
        let mut accounting = self.accounting();
        let txn = db.begin_write().at(path)?;
        let epcis = match epcis_through {
            Some(through) if accounting.epcis.messages > 0 => Some(epcis_outbox::ack_through(
                &txn,
                path,
                accounting.epcis,
                through,
            )?),
            _ => None,
        };
        let mut bytes = accounting.outbox.bytes;
        let mut acked = Vec::new();
        for &seq in seqs {
            if let Some(payload) = outbox::remove(&txn, path, seq, bytes)? {
                bytes = bytes.saturating_sub(payload.len() as u64);
                acked.push((seq, payload));
            }
        }
        if acked.is_empty() {
            if let Some(epcis) = epcis {
                txn.commit().at(path)?;
                accounting.epcis = epcis;
            } else {
                txn.abort().at(path)?;
            }
            return Ok(0);
        }
        let history_bytes = history::keep(
            &txn,
            path,
            self.history,
            accounting.history_bytes,
            &acked,
            unix_secs(),
        )?;
        txn.commit().at(path)?;
        let removed = acked.len();
        accounting.outbox.bytes = bytes;
        accounting.outbox.deltas = accounting.outbox.deltas.saturating_sub(removed as u64);
        accounting.history_bytes = history_bytes;
        if let Some(epcis) = epcis {
            accounting.epcis = epcis;
        }
        Ok(removed)
    }

    /// The `epcis` message `seq` can never be published (larger than the broker takes): it
    /// leaves the EPCIS outbox, counted as dropped. Returns false when it was not there.
    pub fn drop_epcis(&self, seq: u64) -> Result<bool, StoreError> {
        self.write(|db| {
            let path = self.path.as_path();
            let mut accounting = self.accounting();
            let txn = db.begin_write().at(path)?;
            let (epcis, found) = epcis_outbox::drop_one(&txn, path, accounting.epcis, seq)?;
            if !found {
                txn.abort().at(path)?;
                return Ok(false);
            }
            txn.commit().at(path)?;
            accounting.epcis = epcis;
            Ok(true)
        })
    }

    /// Up to `max` unacknowledged `epcis` messages from EPCIS seq `from` on, as (seq, payload):
    /// the uplink's window.
    pub fn read_epcis(&self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let txn = db.begin_read().at(path)?;
        epcis_outbox::read_from(&txn, path, from, max)
    }

    /// The EPCIS outbox accounting.
    pub fn epcis_outbox_stats(&self) -> EpcisOutboxStats {
        self.accounting().epcis
    }

    /// Whether commits write `epcis` messages (`[epcis] publish = true`).
    pub fn publishes_events(&self) -> bool {
        self.publish_events.is_some()
    }

    /// Lowers (or raises) the largest `epcis` payload for later commits.
    pub fn set_max_epcis_payload(&self, bytes: usize) {
        self.max_epcis_payload.store(bytes, Ordering::Relaxed);
    }

    /// The broker refused the delta `seq` (too large for it): it leaves the outbox without
    /// entering the history, and the pending resync range grows to cover it, so the next resync
    /// snapshot stands in for it. Returns false when it was not there.
    pub fn fold_refused(&self, seq: u64) -> Result<bool, StoreError> {
        self.write(|db| self.fold_refused_in(db, seq))
    }

    fn fold_refused_in(&self, db: &Database, seq: u64) -> Result<bool, StoreError> {
        let path = self.path.as_path();
        let mut accounting = self.accounting();
        let txn = db.begin_write().at(path)?;
        let Some(payload) = outbox::remove(&txn, path, seq, accounting.outbox.bytes)? else {
            txn.abort().at(path)?;
            return Ok(false);
        };
        let resync = outbox::widen(accounting.outbox.resync, seq);
        let folded = accounting.outbox.folded_deltas + 1;
        {
            let mut meta = txn.open_table(META).at(path)?;
            meta.insert(META_FOLDED_DELTAS, folded).at(path)?;
            outbox::write_resync(&mut meta, path, Some(resync))?;
        }
        txn.commit().at(path)?;
        let o = &mut accounting.outbox;
        o.bytes = o.bytes.saturating_sub(payload.len() as u64);
        o.deltas = o.deltas.saturating_sub(1);
        o.folded_deltas = folded;
        o.resync = Some(resync);
        Ok(true)
    }

    /// Records how many parts the snapshot just handed to the uplink has; returns the most parts
    /// any earlier snapshot had (retained parts up to there may need clearing). Written only when
    /// it grows, so a steady store does not write for it.
    pub fn note_snapshot_parts(&self, parts: u64) -> Result<u64, StoreError> {
        let before = self.accounting().snapshot_parts;
        if parts > before {
            self.write(|db| {
                let path = self.path.as_path();
                let mut accounting = self.accounting();
                let txn = db.begin_write().at(path)?;
                txn.open_table(META)
                    .at(path)?
                    .insert(META_SNAPSHOT_PARTS, parts)
                    .at(path)?;
                txn.commit().at(path)?;
                accounting.snapshot_parts = parts;
                Ok(())
            })?;
        }
        Ok(before)
    }

    /// Up to `max` kept deltas with seqs in `from..=to` (history and outbox), in seq order,
    /// byte-identical to their first publication: what `cmd/replay` re-publishes.
    pub fn read_kept(
        &self,
        from: u64,
        to: u64,
        max: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let txn = db.begin_read().at(path)?;
        history::read_range(&txn, path, from, to, max)
    }

    /// Lowers (or raises) the largest delta payload for later commits: the uplink learned a
    /// smaller limit from the broker.
    pub fn set_max_delta_payload(&self, bytes: usize) {
        self.max_delta_payload.store(bytes, Ordering::Relaxed);
    }

    /// The history's payload bytes.
    pub fn history_bytes(&self) -> u64 {
        self.accounting().history_bytes
    }

    /// This start's number (`boot` in `status/2`), counted durably at open.
    pub fn boot(&self) -> u64 {
        self.boot
    }

    /// The broker acknowledged a resync snapshot whose seq is `snapshot_seq`: the pending resync range is done
    /// if the snapshot covers all of it. Returns whether it was cleared.
    pub fn ack_resync(&self, snapshot_seq: u64) -> Result<bool, StoreError> {
        match self.accounting().outbox.resync {
            Some(r) if r.last_seq <= snapshot_seq => {}
            _ => return Ok(false),
        }
        self.write(|db| self.ack_resync_in(db, snapshot_seq))
    }

    fn ack_resync_in(&self, db: &Database, snapshot_seq: u64) -> Result<bool, StoreError> {
        let path = self.path.as_path();
        let mut accounting = self.accounting();
        let Some(r) = accounting.outbox.resync else {
            return Ok(false);
        };
        if r.last_seq > snapshot_seq {
            return Ok(false);
        }
        let txn = db.begin_write().at(path)?;
        {
            let mut meta = txn.open_table(META).at(path)?;
            outbox::write_resync(&mut meta, path, None)?;
        }
        txn.commit().at(path)?;
        accounting.outbox.resync = None;
        Ok(true)
    }

    /// Everything to (re)publish, oldest first: the pending resync range, then each unacknowledged delta.
    pub fn unacked(&self) -> Result<Unacked, StoreError> {
        let resync = self.accounting().outbox.resync;
        self.unacked_range(resync, 0)
    }

    /// The unacknowledged deltas from `seq` on (no resync item): to continue after a reconnect.
    pub fn unacked_from(&self, seq: u64) -> Result<Unacked, StoreError> {
        self.unacked_range(None, seq)
    }

    fn unacked_range(&self, resync: Option<Resync>, from: u64) -> Result<Unacked, StoreError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let txn = db.begin_read().at(path)?;
        let table = txn.open_table(OUTBOX).at(path)?;
        let range = table.range(from..).at(path)?;
        Ok(Unacked {
            resync,
            range,
            path: self.path.clone(),
        })
    }

    /// Up to `max` unacknowledged deltas from `seq` on, as (seq, payload), read in one go: the
    /// uplink's window. Unlike [`Store::unacked_from`] nothing outlives the call, so a reopen after a
    /// failed write never pulls the file from under a half-read window.
    pub fn read_deltas(&self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let txn = db.begin_read().at(path)?;
        let table = txn.open_table(OUTBOX).at(path)?;
        let mut out = Vec::with_capacity(max.min(256));
        for entry in table.range(from..).at(path)?.take(max) {
            let (seq, payload) = entry.at(path)?;
            out.push((seq.value(), payload.value().to_vec()));
        }
        Ok(out)
    }

    /// The present tags as committed, checked as at start-up: what a config reload rebuilds the
    /// engine from (after a commit of everything the engine had).
    pub fn present_tags(&self) -> Result<Vec<StoredTag>, StoreError> {
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let (_meta, tags) = restore::load(db, &self.path)?;
        Ok(tags)
    }

    fn database(&self) -> RwLockReadGuard<'_, Option<Database>> {
        // A panic aborts the process (panic = "abort"), so a poisoned lock cannot be observed in the daemon.
        self.db.read().unwrap_or_else(|e| e.into_inner())
    }

    fn closed(&self) -> StoreError {
        StoreError::Closed {
            path: self.path.clone(),
        }
    }

    /// Runs one write transaction. When it failed for lack of space, the handle redb gave up on is
    /// replaced by a fresh one at the last commit before the error goes back (see the module doc).
    fn write<T>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.database().is_none() {
            self.reopen()?;
        }
        let result = {
            let guard = self.database();
            match guard.as_ref() {
                Some(db) => work(db),
                None => Err(self.closed()),
            }
        };
        match result {
            Err(e) if e.out_of_space().is_some() => match self.reopen() {
                // Left closed: the next write tries again; the caller holds on to the first error.
                Err(again) if again.out_of_space().is_some() => Err(e),
                Err(fatal) => Err(fatal),
                Ok(()) => Err(e),
            },
            other => other,
        }
    }

    /// Closes the current handle and opens the file again, checking it is at the last commit we know.
    fn reopen(&self) -> Result<(), StoreError> {
        let path = self.path.as_path();
        let mut slot = self.db.write().unwrap_or_else(|e| e.into_inner());
        if let Some(failed) = slot.take() {
            // It met an I/O error: redb closes it without writing, and its error says nothing new.
            let _ = failed.close();
        }
        let db = self.opener.open(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        let on_disk = restore::accounting(&db, path)?;
        let known = {
            let a = self.accounting();
            (a.next_seq, a.outbox.deltas, a.outbox.bytes, a.outbox.resync)
        };
        if on_disk != known {
            return Err(StoreError::Diverged {
                path: path.to_owned(),
                detail: format!(
                    "next seq {} and {} outbox deltas ({} bytes) on disk, {} and {} ({} bytes) expected",
                    on_disk.0, on_disk.1, on_disk.2, known.0, known.1, known.2
                ),
            });
        }
        *slot = Some(db);
        Ok(())
    }

    /// The committed counts, (zone, SKU, count) sorted by zone then SKU: what `stock` shows while the
    /// engine holds changes the disk had no room for.
    pub fn counts(&self) -> Result<Vec<(String, String, u32)>, StoreError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let txn = db.begin_read().at(path)?;
        let table = txn.open_table(COUNTS).at(path)?;
        let mut out = Vec::new();
        for entry in table.iter().at(path)? {
            let (key, count) = entry.at(path)?;
            let (zone, sku) = key.value();
            out.push((zone.to_owned(), sku.to_owned(), count.value()));
        }
        Ok(out)
    }

    /// The epoch (SPEC §6).
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The store name written into messages.
    pub fn store_name(&self) -> &str {
        &self.store
    }

    /// The last committed seq (0 before the first delta of the epoch): a snapshot taken now has this seq.
    pub fn last_seq(&self) -> u64 {
        self.accounting().next_seq - 1
    }

    /// The outbox accounting.
    pub fn outbox_stats(&self) -> OutboxStats {
        self.accounting().outbox
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An existing file of 0 bytes is a database that lost everything, not a place to start afresh:
/// taking it for a first install would start a new epoch and silently drop any unsent outbox.
fn refuse_empty_file(path: &Path) -> Result<(), StoreError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() == 0 => Err(StoreError::Unusable {
            path: path.to_owned(),
            detail: "the file is empty (0 bytes)".into(),
        }),
        _ => Ok(()),
    }
}
