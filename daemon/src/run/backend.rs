//! The control socket's view of the running daemon: answers from what the tasks publish, never by
//! asking them (so no control client can slow ingest, and `stock` stays sub-millisecond).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;

use crate::control::{
    BackendError, ControlBackend, DatabaseState, Mqtt, MqttState, Outbox, ReaderStatus,
    StateDatabase, Status, Stock, StockFilter, TailHub, TailSubscription, Timestamp,
};
use crate::uplink::{LinkState, UplinkStatus};

use super::published::{Health, Published};

/// Implements [`ControlBackend`] over the published stock table, health and uplink status.
#[derive(Debug, Clone)]
pub struct DaemonBackend {
    pub store: String,
    pub epoch: String,
    /// The state database file.
    pub database: PathBuf,
    pub started_at: SystemTime,
    pub published: Published,
    pub uplink: watch::Receiver<UplinkStatus>,
    pub tail: TailHub,
    pub stopping: watch::Receiver<bool>,
}

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

impl ControlBackend for DaemonBackend {
    async fn status(&self) -> Result<Status, BackendError> {
        self.check_running()?;
        let health = Arc::clone(&self.published.health.borrow());
        let uplink = self.uplink.borrow().clone();
        let now = SystemTime::now();
        Ok(Status {
            daemon_version: env!("CARGO_PKG_VERSION").to_owned(),
            store: self.store.clone(),
            epoch: self.epoch.clone(),
            started_at: Timestamp(self.started_at),
            uptime_secs: now
                .duration_since(self.started_at)
                .map_or(0, |d| d.as_secs()),
            readers_up: health.readers_up,
            readers_down: health.readers_down,
            reads_per_sec: health.reads_per_sec,
            tags_present: health.tags_present,
            outbox: Outbox {
                records: health.outbox.deltas,
                bytes: health.outbox.bytes,
            },
            mqtt: mqtt(&uplink),
            stale_zones: health.stale_zones.clone(),
            database: Some(Box::new(database(&self.database, &health))),
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

    fn tail(&self) -> Result<TailSubscription, BackendError> {
        self.check_running()?;
        Ok(self.tail.subscribe())
    }
}
