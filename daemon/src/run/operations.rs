//! Store operations in the engine task (SPEC §10): count sessions, till sales, departures by reason.
//!
//! A control client's operation arrives as an [`OperationCall`] on a bounded channel with a one-shot
//! answer; `cmd/sale` arrives as an uplink event. The engine task carries each out between its other
//! work and never waits for the asker.
//!
//! **Counts and restarts.** A session lives in memory only (see `store/count_sessions.rs`): a
//! restart — `systemctl restart`, a crash, `kill -9` — cancels every open session, and the next
//! start logs each one as cancelled (WARN) and lists it in `count status` with reason `restart`.
//! Nothing of it was applied, so the counter counts again. A session is applied whole, in one
//! engine step followed at once by a flush and its commit: one delta (or the consecutive seqs of
//! one split flush), and the retained `count` message names its seq.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tagtally_reader_drivers::{Micros, TagRead};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::control::operations::{
    CancelledCount, CountReply, CountRequest, CountResultView, CountSessionView, DeparturesReply,
    DeparturesRequest, SaleReply, SaleRequest, SkuDepartures, MAX_EPCS_PER_REQUEST,
};
use crate::control::protocol::{Reply, Request};
use crate::control::Timestamp;
use crate::engine::CountOutcome;
use crate::operations::{CountDesk, CountSession, DepartureLedger, SessionSource};
use crate::store::CountResult;
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::{epc_from_hex, CountMessage, CountSchema};

use super::book::BookDesk;
use super::clock::DaemonClock;
use super::engine_task::{on_blocking_pool, EngineTask};
use super::error::RunError;

/// Operations waiting for the engine task; a client finding it full is told the daemon is busy.
pub const OPERATION_QUEUE: usize = 16;

/// One control-socket operation and where its answer goes.
#[derive(Debug)]
pub struct OperationCall {
    /// `count`, `sale` or `departures`.
    pub request: Request,
    /// The answer; a dropped receiver (the client gave up) is fine.
    pub reply: oneshot::Sender<Reply>,
}

/// What the engine task keeps for store operations.
#[derive(Debug)]
pub struct Operations {
    /// Operations from the control socket.
    pub calls: mpsc::Receiver<OperationCall>,
    /// Open count sessions.
    pub desk: CountDesk,
    /// Departures by SKU and reason.
    pub ledger: DepartureLedger,
    /// Book stock, its uploads and the discrepancies last published (see `book.rs`).
    pub book: BookDesk,
}

impl Operations {
    /// Nothing open, the ledger complete from `start`, sessions cancelled after `count_max_duration`.
    pub fn new(
        calls: mpsc::Receiver<OperationCall>,
        count_max_duration: Duration,
        start: Micros,
    ) -> Self {
        Operations {
            calls,
            desk: CountDesk::new(count_max_duration),
            ledger: DepartureLedger::new(start),
            book: BookDesk::default(),
        }
    }
}

fn timestamp(t: Micros) -> Timestamp {
    Timestamp(DaemonClock::system_time(t))
}

fn refused(reason: impl ToString) -> Reply {
    Reply::Refused(reason.to_string())
}

/// EPCs in hex, all valid and at most [`MAX_EPCS_PER_REQUEST`], or why not.
fn decode_epcs(epcs: &[String]) -> Result<Vec<Vec<u8>>, String> {
    if epcs.len() > MAX_EPCS_PER_REQUEST {
        return Err(format!(
            "at most {MAX_EPCS_PER_REQUEST} epcs per request, not {}",
            epcs.len()
        ));
    }
    epcs.iter()
        .map(|e| epc_from_hex(e).map_err(|why| format!("`{}`: {why}", short(e))))
        .collect()
}

/// Outside text in a reply, cut short.
fn short(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    tagtally_protocol::text::Escaped(&cut).to_string()
}

impl EngineTask {
    /// Carries out one control-socket operation and answers it.
    pub(super) async fn operate(&mut self, call: OperationCall) -> Result<(), RunError> {
        let reply = match call.request {
            Request::Count(request) => self.count(request).await?,
            Request::Sale(SaleRequest { epcs }) => match decode_epcs(&epcs) {
                Ok(epcs) => Reply::Sale(self.sell(&epcs, "control socket")),
                Err(why) => refused(why),
            },
            Request::Departures(DeparturesRequest { window_secs }) => {
                Reply::Departures(self.departures(window_secs))
            }
            Request::Expected(request) => self.expected(request).await?,
            Request::Reconcile(_) => self.reconcile_reply(),
            Request::Replenish(_) => self.replenish_reply(),
            _ => Reply::Error("not a store operation".to_owned()),
        };
        let _ = call.reply.send(reply);
        Ok(())
    }

    /// Sells `epcs`: each present tag departs with reason `sale` at the next flush.
    pub(super) fn sell(&mut self, epcs: &[Vec<u8>], from: &str) -> SaleReply {
        let now = self.clock.now();
        let mut reply = SaleReply {
            sold: 0,
            not_present: 0,
        };
        for epc in epcs {
            if self.engine.sell(epc, now) {
                reply.sold += 1;
            } else {
                reply.not_present += 1;
            }
        }
        info!(
            from,
            sold = reply.sold,
            not_present = reply.not_present,
            "sale: sold tags depart at the next flush"
        );
        reply
    }

    fn departures(&self, window_secs: u64) -> DeparturesReply {
        let window = window_secs.saturating_mul(1_000_000);
        let (since, per_sku) = self.operations.ledger.window(self.clock.now(), window);
        let mut skus: Vec<SkuDepartures> = per_sku
            .into_iter()
            .map(|(sku, (unseen, sale, count))| SkuDepartures {
                sku: sku.to_string(),
                unseen,
                sale,
                count,
            })
            .collect();
        skus.sort_by(|a, b| b.unseen.cmp(&a.unseen).then_with(|| a.sku.cmp(&b.sku)));
        DeparturesReply {
            window_secs,
            since: timestamp(since),
            skus,
        }
    }

    /// Hands a handheld's read batch to the session it feeds.
    pub(super) fn handheld_reads(&mut self, reads: &[TagRead]) {
        if let Some(first) = reads.first() {
            self.operations.desk.handheld_reads(first.reader, reads);
        }
    }

    async fn count(&mut self, request: CountRequest) -> Result<Reply, RunError> {
        let now = self.clock.now();
        Ok(match request {
            CountRequest::Start { zone, reader } => {
                let Some((id, handheld)) = self.board.find(&reader) else {
                    return Ok(refused(format!(
                        "no reader `{}` is configured",
                        short(&reader)
                    )));
                };
                if !handheld {
                    return Ok(refused(format!(
                        "reader `{reader}` is a fixed reader; only a reader with role = \"handheld\" feeds a count"
                    )));
                }
                self.open_session(&zone, SessionSource::Handheld { id, name: reader }, now)
                    .await?
            }
            CountRequest::Import { zone } => {
                self.open_session(&zone, SessionSource::Import, now).await?
            }
            CountRequest::Add { zone, epcs } => match decode_epcs(&epcs) {
                Err(why) => refused(why),
                Ok(epcs) => {
                    let added = self
                        .operations
                        .desk
                        .add(&zone, epcs.iter().map(Vec::as_slice))
                        .map(|_| ())
                        .and_then(|()| self.operations.desk.find(Some(&zone)));
                    match added {
                        Ok(session) => Reply::Count(CountReply::Added(self.view(session))),
                        Err(e) => refused(e),
                    }
                }
            },
            CountRequest::Status => Reply::Count(CountReply::Status {
                open: self
                    .operations
                    .desk
                    .open()
                    .iter()
                    .map(|s| self.view(s))
                    .collect(),
                cancelled: self.operations.desk.cancelled().iter().cloned().collect(),
                reads_outside_sessions: self.operations.desk.reads_outside_sessions(),
            }),
            CountRequest::Cancel { zone } => match self.operations.desk.take(zone.as_deref()) {
                Ok(session) => {
                    let cancelled = self.end_unapplied(session, "cancelled", now).await;
                    Reply::Count(CountReply::Cancelled(cancelled))
                }
                Err(e) => refused(e),
            },
            CountRequest::Finish { zone } => self.finish(zone.as_deref(), now).await?,
        })
    }

    fn view(&self, s: &CountSession) -> CountSessionView {
        CountSessionView {
            zone: s.zone.clone(),
            reader: s.reader_name().map(str::to_owned),
            started: timestamp(s.started),
            expires: timestamp(self.operations.desk.expires(s.started)),
            seen: s.seen.len() as u64,
            reads: s.reads,
        }
    }

    async fn open_session(
        &mut self,
        zone: &str,
        source: SessionSource,
        now: Micros,
    ) -> Result<Reply, RunError> {
        if self.engine.zone_index(zone).is_none() {
            return Ok(refused(format!("zone `{}` is not configured", short(zone))));
        }
        let opened = self
            .operations
            .desk
            .start(zone, source, now)
            .map(|_| ())
            .and_then(|()| self.operations.desk.find(Some(zone)));
        let (what, view) = match opened {
            Ok(session) => (
                session.describe(&timestamp(now).to_string()),
                self.view(session),
            ),
            Err(e) => return Ok(refused(e)),
        };
        let store = std::sync::Arc::clone(&self.store);
        let zone_owned = zone.to_owned();
        let what_owned = what.clone();
        let noted =
            on_blocking_pool(move || store.note_count_open(&zone_owned, &what_owned)).await?;
        if let Err(e) = noted {
            // Without the record a restart could not say it cancelled the session: refuse it.
            let _ = self.operations.desk.take(Some(zone));
            return Ok(refused(format!(
                "the session cannot be recorded in the state database: {e}"
            )));
        }
        info!(zone, session = %what, "count session opened");
        Ok(Reply::Count(CountReply::Started(view)))
    }

    /// Applies a session: one engine step, then a flush and its commit.
    async fn finish(&mut self, zone: Option<&str>, now: Micros) -> Result<Reply, RunError> {
        let session = match self.operations.desk.find(zone) {
            Ok(session) => session,
            Err(e) => return Ok(refused(e)),
        };
        if session.overflowed {
            return Ok(refused(format!(
                "the count of zone `{}` saw more distinct epcs than the daemon holds; cancel it",
                session.zone
            )));
        }
        if let Some(full) = self.held.status() {
            return Ok(refused(format!(
                "the state disk is full ({}); the count stays open: finish it once there is room",
                full.error
            )));
        }
        let zone = session.zone.clone();
        let session = match self.operations.desk.take(Some(&zone)) {
            Ok(session) => session,
            Err(e) => return Ok(refused(e)),
        };
        let outcome =
            match self
                .engine
                .apply_count(&session.zone, session.seen.iter().map(|e| &e[..]), now)
            {
                Ok(outcome) => outcome,
                Err(e) => {
                    // The zone went away in a reload: the session cannot apply anywhere.
                    self.end_unapplied(session, "cancelled", now).await;
                    return Ok(refused(e));
                }
            };
        self.flush_commit_count(CountResult {
            zone: Arc::from(session.zone.as_str()),
            epcs: outcome.present.clone(),
        })
        .await?;
        let committed = !self.held.has_delta();
        let changed = outcome.arrived + outcome.moved_in + outcome.departed > 0;
        let seq = if changed && committed {
            self.store.last_seq()
        } else {
            0
        };
        if changed && !committed {
            warn!(zone, "count applied, but its commit waits for room on the state disk; its count message carries seq 0");
        }
        self.note_closed(&session.zone).await;
        let result = self.count_result(&session, &outcome, seq, now);
        self.publish_count(&result, session.started, now);
        info!(
            zone = result.zone,
            seq,
            seen = outcome.seen,
            arrived = outcome.arrived,
            moved_in = outcome.moved_in,
            departed = outcome.departed,
            not_decoded = outcome.not_decoded,
            kept_elsewhere = outcome.kept_elsewhere,
            "count applied"
        );
        Ok(Reply::Count(CountReply::Finished(result)))
    }

    fn count_result(
        &self,
        session: &CountSession,
        outcome: &CountOutcome,
        seq: u64,
        now: Micros,
    ) -> CountResultView {
        CountResultView {
            zone: session.zone.clone(),
            seq,
            started: timestamp(session.started),
            finished: timestamp(now),
            seen: outcome.seen,
            arrived: outcome.arrived,
            moved_in: outcome.moved_in,
            departed: outcome.departed,
            not_decoded: outcome.not_decoded,
            kept_elsewhere: outcome.kept_elsewhere,
        }
    }

    /// The retained `count` message (`tagtally.count/1`), its times the wall clock's like every
    /// published time.
    fn publish_count(&mut self, r: &CountResultView, started: Micros, finished: Micros) {
        let started = rfc3339_from_micros(self.published_time(started).0);
        let finished = rfc3339_from_micros(self.published_time(finished).0);
        let message = CountMessage {
            schema: CountSchema,
            store: self.store.store_name().into(),
            epoch: self.store.epoch().into(),
            seq: r.seq,
            zone: r.zone.as_str().into(),
            started: started.into(),
            finished: finished.into(),
            seen: r.seen,
            arrived: r.arrived,
            moved_in: r.moved_in,
            departed: r.departed,
            not_decoded: r.not_decoded,
        };
        self.uplink.publish_count(Bytes::from(message.encode()));
    }

    /// Ends a session without applying it: recorded, logged, remembered for `count status`.
    async fn end_unapplied(
        &mut self,
        session: CountSession,
        reason: &str,
        now: Micros,
    ) -> CancelledCount {
        self.note_closed(&session.zone).await;
        let cancelled = CancelledCount {
            zone: session.zone.clone(),
            session: session.describe(&timestamp(session.started).to_string()),
            reason: reason.to_owned(),
            at: timestamp(now),
        };
        if reason == "expired" {
            warn!(
                zone = cancelled.zone,
                session = cancelled.session,
                seen = session.seen.len(),
                "count session open longer than count-max-duration: cancelled, nothing applied"
            );
        } else {
            info!(
                zone = cancelled.zone,
                session = cancelled.session,
                seen = session.seen.len(),
                "count session cancelled, nothing applied"
            );
        }
        self.operations.desk.note_cancelled(cancelled.clone());
        cancelled
    }

    async fn note_closed(&self, zone: &str) {
        let store = std::sync::Arc::clone(&self.store);
        let zone = zone.to_owned();
        match on_blocking_pool(move || store.note_count_closed(&zone)).await {
            Ok(Ok(())) => {}
            // The next start would then report a session as cancelled that ended: harmless.
            Ok(Err(e)) => warn!(error = %e, "cannot record the end of a count session"),
            Err(_) => {}
        }
    }

    /// Cancels sessions open past `count-max-duration` (at each flush tick).
    pub(super) async fn expire_counts(&mut self) {
        let now = self.clock.now();
        for session in self.operations.desk.take_expired(now) {
            self.end_unapplied(session, "expired", now).await;
        }
    }

    /// At start: the sessions the last run left open were cancelled by the restart; say so.
    pub(super) async fn cancel_counts_of_last_run(&mut self) {
        let store = std::sync::Arc::clone(&self.store);
        let open = match on_blocking_pool(move || store.open_count_sessions()).await {
            Ok(Ok(open)) => open,
            Ok(Err(e)) => {
                warn!(error = %e, "cannot read the count sessions of the last run");
                return;
            }
            Err(_) => return,
        };
        let now = self.clock.now();
        for (zone, session) in open {
            warn!(
                zone,
                session,
                "count session cancelled by the restart (sessions do not survive one): nothing of it was applied; count the zone again"
            );
            self.note_closed(&zone).await;
            self.operations.desk.note_cancelled(CancelledCount {
                zone,
                session,
                reason: "restart".to_owned(),
                at: timestamp(now),
            });
        }
    }
}
