//! The engine task: the one owner of the engine and the only writer of the state database.
//!
//! Its loop waits on, in this priority:
//! * the shutdown signal (then it keeps taking reader outputs until every reader task has stopped);
//! * uplink events: `Acked(seq)` → delete from the outbox; `SnapshotRequested` → flush and publish a
//!   snapshot; link changes (kept for the drain decision);
//! * the flush tick (`flush-interval`): engine flush → one store transaction → `committed(seq)` to the
//!   uplink → the new stock table for the control socket; then rates, health payloads, heartbeat;
//! * a reloaded config plan (`reload.rs`): commit, then rebuild the engine from what is committed;
//! * a store operation from the control socket (`operations.rs`: counts, sales, departures);
//! * the snapshot tick (`snapshot-interval`): flush, then a retained snapshot;
//! * reader outputs (bounded channel; while this task is busy, drivers wait and readers buffer); a
//!   handheld's reads go to its count session, never to the engine. Reads,
//!   link changes and `Heard` all take the daemon clock as they are taken from the channel: a read batch
//!   and a `Heard` tell the engine its reader was heard then (the evidence departures wait for).
//!
//! Store calls run on the blocking pool: a commit ends in an fsync, which must not stall a runtime worker.
//!
//! # When the state disk is full
//!
//! A write the store refuses for lack of space ([`StoreError::out_of_space`]) does not stop the task.
//! The flushed delta is [held](super::held) in memory and tried again every
//! [`RETRY_EVERY`](super::held::RETRY_EVERY), at a flush tick; meanwhile every flush tick still flushes
//! the engine (departures are decided on time, stale candidates are forgotten) and folds the result into
//! the held delta, so there is always at most one. Nothing of it reaches the uplink, the stock table or
//! a snapshot before its commit: the store assigns the seq at commit time, so the delta that finally
//! commits takes the next seq after the last committed one — no gap, no seq reused — and carries every
//! change since, in the epoch it always had. Snapshots that fall due meanwhile go out after that commit.
//! Broker acknowledgements that cannot be written are held too (the uplink does not publish them again
//! in this run, and after a restart HQ deduplicates the identical re-sends). Readers, the uplink, the
//! control socket and the heartbeat carry on; status shows the episode. Any other store error still
//! stops the daemon.
//!
//! On shutdown: a last flush and commit — also of everything held, whatever the retry cadence; if the
//! disk is still full the task ends with [`RunError::DiskFull`] — then the uplink gets up to `drain` to
//! have the broker acknowledge what is in the outbox (while it is online), then it is asked to stop (it
//! sends `offline` and disconnects) and its last acks are applied. Whatever is still unacknowledged
//! stays in the outbox and goes out first after the next start.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tagtally_protocol::hex::Hex;
use tagtally_reader_drivers::{DriverEvent, DriverOutput, Micros, TagRead};
use tokio::sync::{mpsc, watch};
use tokio::time::{interval_at, Instant, MissedTickBehavior};
use tracing::{debug, error, info, warn};

use crate::control::{Stock, StockCount, StockSnapshot, TailEvent, TailHub, Timestamp};
use crate::engine::{Delta, Engine};
use crate::metrics::LatencyHistogram;
use crate::operations::ZoneRoles;
use crate::store::{Committed, CountResult, EpcisCommitted, Store, StoreError};
use crate::uplink::{LinkState, SnapshotOut, UplinkEvent, UplinkHandle};
use tagtally_contract::{Resync, SnapshotReason};

use super::clock::{wall_micros, DaemonClock, WallAnchor};
use super::error::RunError;
use super::held::{DiskFull, Held};
use super::operations::Operations;
use super::published::{Health, Progress};
use super::reader_board::ReaderBoard;
use super::reload::Reconfigure;
use super::snapshots::{snapshot_parts, SnapshotLayout, SnapshotRequest};
use super::zone_trust::{antenna_entries, zone_entries, TrustClock};

/// How long the engine waits for the uplink to end after asking it to stop (its own grace is shorter).
const UPLINK_STOP_WAIT: Duration = Duration::from_secs(8);
/// Most kept deltas one `cmd/replay` re-publishes; seqs beyond are covered by a resync snapshot.
const MAX_REPLAY: usize = 10_000;

/// Everything the engine task owns.
#[derive(Debug)]
pub struct EngineTask {
    pub engine: Engine,
    pub store: Arc<Store>,
    pub clock: DaemonClock,
    /// Published times: the wall clock, re-anchored when it steps.
    pub wall: WallAnchor,
    pub uplink: UplinkHandle,
    pub uplink_events: mpsc::Receiver<UplinkEvent>,
    pub drivers: mpsc::Receiver<DriverOutput>,
    pub board: ReaderBoard,
    pub tail: TailHub,
    pub stock_tx: watch::Sender<Arc<StockSnapshot>>,
    pub health_tx: watch::Sender<Arc<Health>>,
    pub progress: Arc<Progress>,
    pub flush_interval: Duration,
    pub snapshot_interval: Duration,
    /// Longest wait at shutdown for the broker to acknowledge the outbox.
    pub drain: Duration,
    /// The seq of the last snapshot handed to the uplink that carried a pending resync range.
    pub resync_snapshot: Option<u64>,
    /// Writes waiting for room on the state disk.
    pub held: Held,
    /// Topics and protocol, for the size of snapshot parts and deltas.
    pub layout: SnapshotLayout,
    /// `max-message-bytes`.
    pub max_message_bytes: usize,
    /// Every reader has connected or failed its first attempt (the `settled` snapshot went out).
    pub settled: bool,
    /// The uplink was online before in this run (so the next `Online` is a reconnect).
    pub was_online: bool,
    /// A snapshot that waits for a held delta's commit.
    pub deferred_snapshot: Option<SnapshotRequest>,
    /// How long commits took (for the metrics).
    pub commit_latency: LatencyHistogram,
    /// Reloaded config plans to apply (see `reload.rs`).
    pub reconfigure: mpsc::Receiver<Reconfigure>,
    /// The configured zones' roles (SPEC §4), for the stock table, book stock and replenishment.
    pub roles: ZoneRoles,
    /// Count sessions, sales and departures by reason (see `operations.rs`).
    pub operations: Operations,
    /// Replenishment: the minimums and the pick list last published (see `replenish.rs`).
    pub replenish: super::replenish::ReplenishDesk,
}

impl EngineTask {
    /// Start-up work before READY: commit what restoring changed (reclassified SKUs, retired zones),
    /// publish the first stock table and health, and hand the uplink the start-up snapshot.
    pub async fn prime(&mut self) -> Result<(), RunError> {
        self.cancel_counts_of_last_run().await;
        self.load_book().await?;
        self.flush_commit().await?;
        if self.held.has_delta() {
            // The engine is ahead of the disk: the stock table must show what is committed.
            self.publish_committed_stock().await?;
        } else {
            self.publish_stock();
        }
        self.publish_health();
        self.publish_snapshot(SnapshotRequest::because(SnapshotReason::Startup));
        if self.board.all_tried() {
            // No reader to wait for: start-up is as settled as it gets.
            self.settled = true;
        }
        self.progress.engine_beat();
        Ok(())
    }

    /// Runs until shutdown (then drains as the module doc says). An error means the daemon must stop.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), RunError> {
        let start = Instant::now();
        let mut flush = interval_at(start + self.flush_interval, self.flush_interval);
        flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut snapshot = interval_at(start + self.snapshot_interval, self.snapshot_interval);
        snapshot.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut stopping = *shutdown.borrow();
        let mut drivers_open = true;
        loop {
            if stopping && !drivers_open {
                break;
            }
            tokio::select! {
                biased;
                changed = shutdown.changed(), if !stopping => {
                    // A dropped sender also means stop.
                    stopping = changed.is_err() || *shutdown.borrow();
                    if stopping {
                        info!("stopping: waiting for the readers to close");
                    }
                }
                event = self.uplink_events.recv() => match event {
                    Some(event) => self.on_uplink(event).await?,
                    None => return Err(RunError::TaskEnded { task: "mqtt uplink" }),
                },
                Some(request) = self.reconfigure.recv() => self.reconfigure(request).await?,
                Some(call) = self.operations.calls.recv() => self.operate(call).await?,
                _ = flush.tick() => {
                    self.flush_commit().await?;
                    self.tick();
                    self.expire_counts().await;
                    self.book_tick().await?;
                    self.replenish_tick().await?;
                }
                _ = snapshot.tick() => {
                    self.flush_commit().await?;
                    self.publish_snapshot(SnapshotRequest::because(SnapshotReason::Interval));
                }
                output = self.drivers.recv(), if drivers_open => match output {
                    Some(output) => self.on_driver(output),
                    None => drivers_open = false,
                },
            }
        }
        // The last chance to commit: everything held too, whatever the retry cadence.
        self.flush();
        self.write_held().await?;
        if let Some(full) = self.held.status() {
            return Err(self.stopped_full(full));
        }
        self.tick();
        self.drain().await
    }

    /// Applies one driver output.
    pub(super) fn on_driver(&mut self, output: DriverOutput) {
        let now = self.clock.now();
        match output {
            DriverOutput::Reads(batch) => {
                // A batch comes from one driver, so from one reader.
                let handheld = batch
                    .first()
                    .is_some_and(|read| self.board.is_handheld(read.reader));
                if handheld {
                    self.handheld_reads(&batch);
                } else {
                    self.engine.observe_batch(&batch, now);
                    // It was heard, once per batch.
                    if let Some(read) = batch.first() {
                        self.engine.heard(read.reader, now);
                    }
                }
                self.board.reads(&batch, now);
                if self.tail.is_watched() {
                    self.tail_reads(&batch);
                }
            }
            DriverOutput::Event(event) => {
                match &event {
                    DriverEvent::LinkUp { reader, .. } => self.engine.reader_up(*reader, now),
                    DriverEvent::LinkDown { reader, .. } => self.engine.reader_down(*reader, now),
                    DriverEvent::Heard { reader } => self.engine.heard(*reader, now),
                    _ => {}
                }
                if self.board.event(&event, now) {
                    // Link changes are shown at once, not at the next tick.
                    self.publish_health();
                }
                if !self.settled && self.board.all_tried() {
                    // Every reader connected or failed its first try: the next flush tick takes
                    // the snapshot whose `stale_zones` is true (SPEC §6.2).
                    self.settled = true;
                    self.deferred_snapshot
                        .get_or_insert(SnapshotRequest::because(SnapshotReason::Settled));
                }
            }
        }
    }

    async fn on_uplink(&mut self, event: UplinkEvent) -> Result<(), RunError> {
        match event {
            UplinkEvent::Acked(_) | UplinkEvent::EpcisAcked(_) => {
                // Acks come in bursts after a reconnect: take every one already waiting in one go.
                let mut seqs = Vec::new();
                let mut next = Some(event);
                while let Some(event) = next.take() {
                    match event {
                        UplinkEvent::Acked(s) => seqs.push(s),
                        UplinkEvent::EpcisAcked(s) => self.held.hold_epcis_ack(s),
                        other => {
                            self.ack(seqs).await?;
                            return Box::pin(self.on_uplink(other)).await;
                        }
                    }
                    if seqs.len() >= 4096 {
                        break;
                    }
                    next = self.uplink_events.try_recv().ok();
                }
                self.ack(seqs).await?;
            }
            UplinkEvent::EpcisRefused { seq, bytes, limit } => {
                let store = Arc::clone(&self.store);
                match on_blocking_pool(move || store.drop_epcis(seq)).await? {
                    Ok(true) => error!(
                        epcis_seq = seq,
                        bytes,
                        limit,
                        "epcis message refused for its size: dropped (its events stay in the history for tagtally epcis)"
                    ),
                    Ok(false) => {}
                    Err(e) => self.write_failed(e)?,
                }
            }
            UplinkEvent::SnapshotRequested { request_id } => {
                self.flush_commit().await?;
                self.publish_snapshot(SnapshotRequest {
                    reason: SnapshotReason::Request,
                    request_id,
                    resync: None,
                });
            }
            UplinkEvent::ReplayRequested {
                from_seq,
                to_seq,
                request_id,
            } => self.replay(from_seq, to_seq, request_id).await?,
            UplinkEvent::SaleRequested { epcs, request_ids } => {
                info!(?request_ids, epcs = epcs.len(), "sale from hq's cmd/sale");
                self.sell(&epcs, "cmd/sale");
            }
            UplinkEvent::BookPart(part) => self.book_part(part).await?,
            UplinkEvent::Refused { seq, bytes, limit } => {
                let store = Arc::clone(&self.store);
                match on_blocking_pool(move || store.fold_refused(seq)).await? {
                    Ok(true) => {
                        warn!(
                            seq,
                            bytes,
                            limit,
                            "delta refused for its size: folded into a resync snapshot"
                        );
                        self.publish_snapshot(SnapshotRequest::because(SnapshotReason::Resync));
                    }
                    Ok(false) => {}
                    Err(e) => self.write_failed(e)?,
                }
            }
            UplinkEvent::Link(state) => {
                debug!(%state, "mqtt link state");
                if state == LinkState::Online {
                    let limit = self.packet_limit();
                    self.store
                        .set_max_delta_payload(self.layout.delta_budget(limit));
                    self.store
                        .set_max_epcis_payload(self.layout.epcis_budget(limit));
                    if self.was_online {
                        // A fresh snapshot, never a cached one (SPEC §6.2).
                        self.flush_commit().await?;
                        self.publish_snapshot(SnapshotRequest::because(SnapshotReason::Reconnect));
                    }
                    self.was_online = true;
                }
            }
        }
        Ok(())
    }

    /// Deletes acknowledged deltas from the outbox (held while the disk is full).
    async fn ack(&mut self, seqs: Vec<u64>) -> Result<(), RunError> {
        // (An `epcis` acknowledgement is already held by the caller.)
        self.held.hold_acks(seqs);
        if self.held.is_full() {
            // Written at the next retry; the uplink does not publish them again meanwhile.
            return Ok(());
        }
        self.write_acks().await
    }

    /// Writes the held acks, and clears the resync range once a later delta was acked.
    async fn write_acks(&mut self) -> Result<(), RunError> {
        let seqs = self.held.take_acks();
        let epcis = self.held.take_epcis_ack();
        let last = match (seqs.last(), epcis) {
            (Some(&last), _) => last,
            // Only `epcis` messages: no delta seq to clear a resync range with.
            (None, Some(_)) => 0,
            (None, None) => return Ok(()),
        };
        let store = Arc::clone(&self.store);
        let resync = self.resync_snapshot;
        let (seqs, result) = on_blocking_pool(move || {
            let result = store.ack_published(&seqs, epcis).and_then(|_| {
                // The snapshot was published before any delta committed after it (retained messages go
                // first on the one connection), so a later delta's PUBACK means the broker has it too.
                match resync {
                    Some(snap) if last > snap => store.ack_resync(snap),
                    _ => Ok(false),
                }
            });
            (seqs, result)
        })
        .await?;
        match result {
            Ok(cleared) => {
                if cleared {
                    info!(
                        seq = resync,
                        "resync snapshot delivered; the folded deltas are covered"
                    );
                    self.resync_snapshot = None;
                }
                Ok(())
            }
            Err(e) => {
                // Deleting them again later is harmless: `ack_all` skips seqs already gone.
                self.held.hold_acks(seqs);
                if let Some(epcis) = epcis {
                    self.held.hold_epcis_ack(epcis);
                }
                self.write_failed(e)
            }
        }
    }

    /// Engine flush → one store transaction → uplink and control see the result. While the disk is
    /// full, the flush is held and the commit waits for the retry cadence (see the module doc).
    pub(super) async fn flush_commit(&mut self) -> Result<(), RunError> {
        self.flush();
        self.commit_held().await
    }

    /// [`Self::flush_commit`] of the flush that applied a count: its result commits with it.
    pub(super) async fn flush_commit_count(&mut self, result: CountResult) -> Result<(), RunError> {
        self.flush();
        let time = self.published_time(self.clock.now());
        self.held.hold_count(result, time);
        self.commit_held().await
    }

    /// Commits what is held, unless a full disk makes it wait for the retry cadence.
    async fn commit_held(&mut self) -> Result<(), RunError> {
        if self.held.waiting(std::time::Instant::now()) {
            return Ok(());
        }
        self.write_held().await
    }

    /// Flushes the engine into the held delta.
    fn flush(&mut self) {
        let now = self.clock.now();
        let record = self.tail.is_watched();
        self.engine.set_record_origins(record);
        let flushed = self.engine.flush(now);
        self.operations
            .ledger
            .record(now, self.engine.last_flush_departures());
        if let Some(mut delta) = flushed {
            delta.time = self.published_time(now);
            if record {
                self.tail_changes(&delta, delta.time);
            }
            self.held.hold_delta(delta);
        }
    }

    /// Commits the held delta; while the disk is full, then also the held acks, and when all went
    /// through the episode is over. Lack of space leaves things held (and is not an error); every
    /// other store error is.
    async fn write_held(&mut self) -> Result<(), RunError> {
        if let Some(delta) = self.held.take_delta() {
            let counts = self.held.take_counts();
            let store = Arc::clone(&self.store);
            let (delta, counts, result, took) = on_blocking_pool(move || {
                let started = std::time::Instant::now();
                let result = store.commit_counted(&delta, &counts);
                (delta, counts, result, started.elapsed())
            })
            .await?;
            self.commit_latency.observe(took);
            match result {
                Ok(flush) => {
                    if let Some(epcis) = flush.epcis {
                        self.epcis_committed(&epcis);
                    }
                    if let Some(c) = flush.deltas {
                        self.committed(c);
                    }
                }
                Err(e) => {
                    self.held.hold_delta(delta);
                    self.held.hold_counts(counts);
                    return self.write_failed(e);
                }
            }
        }
        if self.held.is_full() {
            self.write_acks().await?;
            if !self.held.has_acks() {
                self.held
                    .recovered(self.store.last_seq(), std::time::Instant::now());
                self.publish_health();
            }
        }
        if self.held.take_snapshot_due() || !self.held.has_delta() {
            if let Some(request) = self.deferred_snapshot.take() {
                self.publish_snapshot(request);
            }
        }
        Ok(())
    }

    /// `cmd/replay`: the kept deltas of the range go out again byte-identical; seqs no longer kept
    /// (or beyond [`MAX_REPLAY`]) are covered by a resync snapshot instead.
    async fn replay(
        &mut self,
        from_seq: u64,
        to_seq: u64,
        request_id: Option<String>,
    ) -> Result<(), RunError> {
        let last = self.store.last_seq();
        let to_seq = to_seq.min(last);
        if from_seq > to_seq {
            info!(
                from_seq,
                last_seq = last,
                "replay asked only for seqs not committed yet; nothing to send"
            );
            return Ok(());
        }
        let store = Arc::clone(&self.store);
        let kept =
            on_blocking_pool(move || store.read_kept(from_seq, to_seq, MAX_REPLAY)).await??;
        let mut missing: Option<Resync> = None;
        let mut expected = from_seq;
        let mut note = |first: u64, last: u64| {
            let r = missing.get_or_insert(Resync {
                first_seq: first,
                last_seq: last,
            });
            r.last_seq = last;
        };
        for (seq, _) in &kept {
            if *seq > expected {
                note(expected, seq - 1);
            }
            expected = seq + 1;
        }
        if expected <= to_seq {
            note(expected, to_seq);
        }
        info!(
            from_seq,
            to_seq,
            replayed = kept.len(),
            unavailable = ?missing.map(|r| (r.first_seq, r.last_seq)),
            "replaying kept deltas"
        );
        self.uplink.replay(
            kept.into_iter()
                .map(|(seq, payload)| (seq, Bytes::from(payload)))
                .collect(),
        );
        if let Some(resync) = missing {
            self.flush_commit().await?;
            self.publish_snapshot(SnapshotRequest {
                reason: SnapshotReason::Resync,
                request_id,
                resync: Some(resync),
            });
        }
        Ok(())
    }

    /// The packet limit in force: `max-message-bytes`, or the broker's smaller one.
    pub(super) fn packet_limit(&self) -> usize {
        let broker = self.uplink.status().borrow().packet_limit;
        if broker == 0 {
            self.max_message_bytes
        } else {
            broker.min(self.max_message_bytes)
        }
    }

    /// A store write failed: lack of space is held and retried, anything else stops the daemon.
    fn write_failed(&mut self, e: StoreError) -> Result<(), RunError> {
        let Some(io) = e.out_of_space() else {
            return Err(e.into());
        };
        // Which line it logged (the rate limiting) is for the tests.
        let _ = self.held.failed(
            self.store.path(),
            io,
            self.store.last_seq(),
            std::time::Instant::now(),
            SystemTime::now(),
        );
        self.publish_health();
        Ok(())
    }

    /// Why the task ends when the disk is still full at shutdown.
    fn stopped_full(&self, full: DiskFull) -> RunError {
        RunError::DiskFull {
            path: self.store.path().to_owned(),
            error: full.error,
            last_seq: self.store.last_seq(),
            lost_changes: full.held_changes + full.held_tags > 0,
            unrecorded_acks: full.held_acks,
        }
    }

    /// The stock table from the committed counts (the store's), for when the engine is ahead of them.
    async fn publish_committed_stock(&mut self) -> Result<(), RunError> {
        let store = Arc::clone(&self.store);
        let counts = on_blocking_pool(move || store.counts()).await??;
        let stock = Stock {
            store: self.store.store_name().to_owned(),
            epoch: self.store.epoch().to_owned(),
            seq: self.store.last_seq(),
            counts: counts
                .into_iter()
                .map(|(zone, sku, count)| StockCount {
                    zone,
                    sku,
                    count: u64::from(count),
                })
                .collect(),
            zones: self.roles.views(),
        };
        self.stock_tx
            .send_replace(Arc::new(StockSnapshot::new(stock)));
        Ok(())
    }

    fn epcis_committed(&mut self, e: &EpcisCommitted) {
        if e.seq >= e.first_seq {
            self.uplink.epcis_committed(e.seq);
        }
        if e.dropped_now > 0 {
            warn!(
                dropped = e.dropped_now,
                dropped_total = e.outbox.dropped,
                epcis_outbox_bytes = e.outbox.bytes,
                "epcis outbox full: oldest epcis messages dropped unsent (their events stay in the history for tagtally epcis)"
            );
        }
    }

    fn committed(&mut self, c: Committed) {
        self.uplink.committed(c.seq);
        if c.folded_now > 0 {
            warn!(
                folded = c.folded_now,
                folded_total = c.outbox.folded_deltas,
                outbox_bytes = c.outbox.bytes,
                "outbox full: oldest deltas folded into a resync snapshot"
            );
            // HQ must get the snapshot that covers the gap; publishing one now carries the range.
            self.publish_snapshot(SnapshotRequest::because(SnapshotReason::Resync));
        }
        self.publish_stock();
    }

    /// The stock table for the control socket, as of the last commit.
    pub(super) fn publish_stock(&mut self) {
        let snapshot = self.engine.snapshot();
        let stock = Stock {
            store: self.store.store_name().to_owned(),
            epoch: self.store.epoch().to_owned(),
            seq: self.store.last_seq(),
            counts: snapshot
                .counts
                .iter()
                .map(|c| StockCount {
                    zone: c.zone.to_string(),
                    sku: c.sku.to_string(),
                    count: u64::from(c.count),
                })
                .collect(),
            zones: self.roles.views(),
        };
        self.stock_tx
            .send_replace(Arc::new(StockSnapshot::new(stock)));
    }

    /// The retained snapshot: the counts as of the last committed seq (call right after a flush). With a
    /// delta held, the engine's counts are not the committed ones: the snapshot waits for the commit.
    fn publish_snapshot(&mut self, request: SnapshotRequest) {
        if self.held.has_delta() {
            self.held.snapshot_after_commit();
            self.deferred_snapshot = Some(request);
            return;
        }
        let seq = self.store.last_seq();
        let resync = self.store.outbox_stats().resync;
        let budget = self.layout.part_budget(self.packet_limit());
        let timeline = self.clock.now();
        let time = self.published_time(timeline);
        let trust = zone_entries(
            &self.engine,
            TrustClock {
                timeline,
                published: time,
            },
        );
        let parts = snapshot_parts(
            self.store.store_name(),
            self.store.epoch(),
            seq,
            time,
            &self.engine.snapshot(),
            &trust,
            &request,
            resync,
            budget,
        );
        if resync.is_some() {
            self.resync_snapshot = Some(seq);
        }
        let earlier_parts = match self.store.note_snapshot_parts(parts.len() as u64) {
            Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
            Err(e) => {
                // Only the clearing of stale parts after a later restart depends on it.
                warn!(error = %e, "cannot record the snapshot's part count");
                parts.len() as u32
            }
        };
        self.uplink.publish_snapshot(SnapshotOut {
            parts,
            earlier_parts,
        });
    }

    /// The time to publish for `timeline` (the engine's `now`): the wall clock's, logging a step once.
    pub(super) fn published_time(&mut self, timeline: Micros) -> Micros {
        let (time, step) = self.wall.at(timeline, wall_micros(SystemTime::now()));
        if let Some(step) = step {
            warn!(
                step = %step.describe(),
                now = %Timestamp(DaemonClock::system_time(step.at)),
                steps = self.wall.steps(),
                "system clock stepped: published times follow it from now on; presence timers run on unaffected"
            );
        }
        time
    }

    /// Once per flush tick: rates, health for control and HQ, heartbeat.
    fn tick(&mut self) {
        let now = self.clock.now();
        // Also how a step is seen when nothing else is published: status and the log say so at once.
        let published = self.published_time(now);
        self.board.tick(now);
        let engine = &self.engine;
        self.board
            .take_candidates_evicted(|reader| engine.candidates_evicted(reader));
        let clock = TrustClock {
            timeline: now,
            published,
        };
        self.board.set_trust(antenna_entries(&self.engine, clock));
        self.publish_health();
        for (reader, payload) in self.board.changed_health(published) {
            if let Err(e) = self.uplink.reader_health(&reader, Bytes::from(payload)) {
                // Config names are topic-safe, so this is a bug guard; never worth stopping for.
                error!(%reader, error = %e, "reader health not published");
            }
        }
        self.progress.engine_beat();
    }

    pub(super) fn publish_health(&mut self) {
        self.uplink.disk_full(self.held.status().is_some());
        let timeline = self.clock.now();
        let clock = TrustClock {
            timeline,
            published: self.published_time(timeline),
        };
        let (readers_up, readers_down) = self.board.up_down();
        let health = Health {
            readers: self.board.statuses(),
            readers_up,
            readers_down,
            reads_per_sec: self.board.reads_per_sec(),
            tags_present: self.engine.tags_present() as u64,
            stale_zones: self
                .engine
                .stale_zones()
                .iter()
                .map(|z| z.to_string())
                .collect(),
            zone_trust: zone_entries(&self.engine, clock),
            outbox: self.store.outbox_stats(),
            epcis_outbox: self
                .store
                .publishes_events()
                .then(|| self.store.epcis_outbox_stats()),
            last_seq: self.store.last_seq(),
            disk_full: self.held.status(),
            reader_totals: self.board.totals(),
            engine: self.engine.counters(),
            commit_latency: self.commit_latency.clone(),
            clock_steps: self.wall.steps(),
            last_clock_step: self.wall.last_step(),
        };
        self.health_tx.send_replace(Arc::new(health));
    }

    fn tail_reads(&self, batch: &[TagRead]) {
        for read in batch {
            let Some(reader) = self.board.name(read.reader) else {
                continue;
            };
            let zone = self
                .board
                .zone(read.reader, read.antenna)
                .map_or_else(String::new, |z| z.to_string());
            let epc = read.epc.as_bytes();
            self.tail.publish(TailEvent::Read {
                time: Timestamp(DaemonClock::system_time(read.time)),
                reader: reader.to_string(),
                antenna: read.antenna,
                zone,
                epc: format!("{:x}", Hex(epc)),
                sku: Some(tagtally_protocol::epc::sku(epc).to_string()),
                rssi: read.rssi_cdbm.map(|c| f32::from(c) / 100.0),
            });
        }
    }

    fn tail_changes(&self, delta: &Delta, now: Micros) {
        let time = Timestamp(DaemonClock::system_time(now));
        let origins = self.engine.last_flush_origins();
        for (i, change) in delta.tag_changes.iter().enumerate() {
            let epc = format!("{:x}", Hex(change.epc.as_bytes()));
            let before = origins.get(i).cloned().flatten();
            let event = match (before, &change.placement) {
                (None, Some(after)) => TailEvent::Arrival {
                    time,
                    epc,
                    zone: after.zone.to_string(),
                    sku: after.sku.to_string(),
                },
                (Some(before), None) => TailEvent::Departure {
                    time,
                    reason: change
                        .departure
                        .map_or("unseen", |reason| reason.as_str())
                        .to_owned(),
                    epc,
                    zone: before.zone.to_string(),
                    sku: before.sku.to_string(),
                },
                (Some(before), Some(after)) if before.zone != after.zone => TailEvent::Move {
                    time,
                    epc,
                    from: before.zone.to_string(),
                    to: after.zone.to_string(),
                    sku: after.sku.to_string(),
                },
                _ => continue,
            };
            self.tail.publish(event);
        }
    }

    /// Shutdown: the broker gets a bounded time to acknowledge the outbox, then the uplink stops.
    async fn drain(mut self) -> Result<(), RunError> {
        let deadline = Instant::now() + self.drain;
        let status = self.uplink.status();
        loop {
            let outbox = self.store.outbox_stats();
            let epcis = self.store.epcis_outbox_stats().messages;
            let online = matches!(status.borrow().state, LinkState::Online);
            // With no room to record acks, waiting for more of them is pointless.
            if (outbox.deltas == 0 && epcis == 0) || !online || self.held.is_full() {
                if outbox.deltas > 0 && !self.held.is_full() {
                    warn!(
                        deltas = outbox.deltas,
                        "broker offline: unacknowledged deltas stay in the outbox for the next start"
                    );
                }
                break;
            }
            match tokio::time::timeout_at(deadline, self.uplink_events.recv()).await {
                Ok(Some(event)) => self.on_uplink(event).await?,
                Ok(None) => {
                    return Err(RunError::TaskEnded {
                        task: "mqtt uplink",
                    })
                }
                Err(_) => {
                    warn!(
                        deltas = outbox.deltas,
                        "drain time over: unacknowledged deltas stay in the outbox for the next start"
                    );
                    break;
                }
            }
        }
        self.uplink.shutdown();
        let deadline = Instant::now() + UPLINK_STOP_WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.uplink_events.recv()).await {
                Ok(Some(UplinkEvent::Acked(seq))) => self.ack(vec![seq]).await?,
                Ok(Some(UplinkEvent::EpcisAcked(seq))) => {
                    self.held.hold_epcis_ack(seq);
                    self.ack(Vec::new()).await?;
                }
                Ok(Some(_)) => {}
                // The uplink task ended: every ack it had is applied.
                Ok(None) => break,
                Err(_) => {
                    warn!("mqtt uplink did not stop in time");
                    break;
                }
            }
        }
        if self.held.is_full() {
            // Acks of the drain the disk had no room for: one more try before giving up on them.
            self.write_held().await?;
            if let Some(full) = self.held.status() {
                return Err(self.stopped_full(full));
            }
        }
        self.publish_health();
        let outbox = self.store.outbox_stats();
        info!(
            last_seq = self.store.last_seq(),
            outbox_deltas = outbox.deltas,
            "engine stopped; state committed"
        );
        Ok(())
    }
}

/// Runs store work on the blocking pool.
pub(super) async fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, RunError> {
    // Panics abort the process, so only a runtime shutting down cancels the work.
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| RunError::TaskEnded {
            task: "state store",
        })
}
