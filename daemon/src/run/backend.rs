//! The control socket's view of the running daemon: answers from what the tasks publish, never by
//! asking them (so no control client can slow ingest, and `stock` stays sub-millisecond).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::{mpsc, oneshot, watch};

use crate::control::protocol::{Reply, Request};
use crate::control::{
    BackendError, Build, ControlBackend, DatabaseState, EpcisOutbox, EpcisRange, Mqtt, MqttState,
    Outbox, ReaderStatus, StateDatabase, Status, Stock, StockFilter, SystemClock, TailHub,
    TailSubscription, Timestamp,
};
use crate::epcis::stock_events::EventHistory;
use crate::metrics::MetricsSource;
use crate::uplink::{LinkState, UplinkStatus};

use super::clock::{wall_micros, DaemonClock};
use super::clock_sync::clock_sync;
use super::operations::OperationCall;
use super::published::{Health, Published};

/// Implements [`ControlBackend`] over the published stock table, health and uplink status.
#[derive(Debug, Clone)]
pub struct DaemonBackend {
    pub store: String,
    pub epoch: String,
    /// The state database file.
    pub database: PathBuf,
    /// The engine's timeline: when the daemon started, and its uptime from the monotonic clock.
    pub clock: DaemonClock,
    pub published: Published,
    pub uplink: watch::Receiver<UplinkStatus>,
    pub tail: TailHub,
    pub stopping: watch::Receiver<bool>,
    /// The event history, when `[epcis]` is configured.
    pub events: Option<EventHistory>,
    /// Store operations, to the engine task.
    pub operations: mpsc::Sender<OperationCall>,
}

/// How long a client's store operation waits for the engine's answer: below the CLI's reply
/// timeout, above what applying a whole store's count and committing it takes.
const OPERATION_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(8);

impl DaemonBackend {
    fn check_running(&self) -> Result<(), BackendError> {
        if *self.stopping.borrow() {
            return Err(BackendError::ShuttingDown);
        }
        Ok(())
    }
}

fn mqtt(status: &UplinkStatus) -> Mqtt {
    let state = match status.state {
        LinkState::Online => MqttState::Connected,
        LinkState::Connecting => MqttState::Connecting,
        LinkState::Down { .. } | LinkState::Stopped => MqttState::Error,
    };
    Mqtt {
        state,
        last_error: status.last_error.as_ref().map(|e| e.to_string()),
        last_publish: status.last_ack.map(Timestamp),
        last_acked_seq: status.acked_through,
    }
}

fn database(path: &std::path::Path, health: &Health) -> StateDatabase {
    let path = path.display().to_string();
    match &health.disk_full {
        None => StateDatabase {
            state: DatabaseState::Ok,
            path,
            last_seq: health.last_seq,
            since: None,
            error: None,
            held_changes: None,
            held_acks: None,
            retry_every_secs: None,
        },
        Some(full) => StateDatabase {
            state: DatabaseState::DiskFull,
            path,
            last_seq: health.last_seq,
            since: Some(Timestamp(full.since)),
            error: Some(full.error.clone()),
            held_changes: Some(full.held_changes),
            held_acks: Some(full.held_acks),
            retry_every_secs: Some(full.retry_every.as_secs()),
        },
    }
}

impl DaemonBackend {
    /// The Prometheus exposition of the daemon's state as last published.
    pub fn render_metrics(&self) -> String {
        let health = Arc::clone(&self.published.health.borrow());
        let uplink = self.uplink.borrow().clone();
        super::metrics::render(&super::metrics::MetricsInput {
            health: &health,
            uplink: &uplink,
            build: crate::build_info::build_info(),
            clock_sync: clock_sync(),
            started_at: self.clock.started_at(),
            uptime: self.clock.uptime(),
            resident_bytes: super::metrics::resident_bytes(),
        })
    }
}

impl MetricsSource for DaemonBackend {
    fn metrics_text(&self) -> String {
        self.render_metrics()
    }
}

impl ControlBackend for DaemonBackend {
    async fn status(&self) -> Result<Status, BackendError> {
        self.check_running()?;
        let health = Arc::clone(&self.published.health.borrow());
        let uplink = self.uplink.borrow().clone();
        let build = crate::build_info::build_info();
        Ok(Status {
            daemon_version: build.version.to_owned(),
            store: self.store.clone(),
            epoch: self.epoch.clone(),
            started_at: Timestamp(self.clock.started_at()),
            uptime_secs: self.clock.uptime().as_secs(),
            readers_up: health.readers_up,
            readers_down: health.readers_down,
            reads_per_sec: health.reads_per_sec,
            tags_present: health.tags_present,
            outbox: Outbox {
                records: health.outbox.deltas,
                bytes: health.outbox.bytes,
            },
            epcis_outbox: health.epcis_outbox.map(|e| EpcisOutbox {
                records: e.messages,
                bytes: e.bytes,
                published: e.published,
                dropped: e.dropped,
            }),
            mqtt: mqtt(&uplink),
            stale_zones: health.stale_zones.clone(),
            zone_trust: health.zone_trust.clone(),
            database: Some(Box::new(database(&self.database, &health))),
            build: Some(Box::new(Build {
                version: build.version.to_owned(),
                commit: build.commit.to_owned(),
                features: build.features.iter().map(|f| (*f).to_owned()).collect(),
                target: build.target.to_owned(),
            })),
            clock: Some(Box::new(SystemClock {
                sync: clock_sync(),
                steps: health.clock_steps,
                last_step_ms: health.last_clock_step.map(|s| s.by_micros / 1000),
                last_step_at: health
                    .last_clock_step
                    .map(|s| Timestamp(DaemonClock::system_time(s.at))),
            })),
        })
    }

    async fn readers(&self) -> Result<Vec<ReaderStatus>, BackendError> {
        self.check_running()?;
        Ok(self.published.health.borrow().readers.clone())
    }

    async fn stock(&self, filter: &StockFilter) -> Result<Stock, BackendError> {
        self.check_running()?;
        let snapshot = Arc::clone(&self.published.stock.borrow());
        Ok(snapshot.query(filter))
    }

    async fn metrics(&self) -> Result<String, BackendError> {
        self.check_running()?;
        Ok(self.render_metrics())
    }

    async fn epcis(&self, range: &EpcisRange) -> Result<serde_json::Value, BackendError> {
        self.check_running()?;
        let Some(history) = self.events.clone() else {
            return Err(BackendError::Refused {
                reason: "this store keeps no event history: add an [epcis] table to the config"
                    .into(),
            });
        };
        let now = wall_micros(SystemTime::now());
        let since = wall_micros(range.since.0);
        let until = range.until.map_or(now, |t| wall_micros(t.0));
        tokio::task::spawn_blocking(move || history.document(since, until, now))
            .await
            .map_err(|_| BackendError::ShuttingDown)?
            .map_err(|reason| BackendError::Refused { reason })
    }

    fn tail(&self) -> Result<TailSubscription, BackendError> {
        self.check_running()?;
        Ok(self.tail.subscribe())
    }

    async fn operate(&self, request: Request) -> Result<Reply, BackendError> {
        self.check_running()?;
        let (reply, answer) = oneshot::channel();
        // Never queue behind a full channel: the client is told to try again instead.
        self.operations
            .try_send(OperationCall { request, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => BackendError::Busy {
                    what: "too many store operations waiting",
                },
                mpsc::error::TrySendError::Closed(_) => BackendError::ShuttingDown,
            })?;
        match tokio::time::timeout(OPERATION_ANSWER_WAIT, answer).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Err(BackendError::ShuttingDown),
            Err(_) => Err(BackendError::Busy {
                what: "the engine did not answer in time (the operation may still apply: check `tagtally count status`)",
            }),
        }
    }
}
