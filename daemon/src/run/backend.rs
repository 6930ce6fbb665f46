//! The control socket's view of the running daemon: answers from what the tasks publish, never by
//! asking them (so no control client can slow ingest, and `stock` stays sub-millisecond).

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;

use crate::control::{
    BackendError, ControlBackend, Mqtt, MqttState, Outbox, ReaderStatus, Status, Stock,
    StockFilter, TailHub, TailSubscription, Timestamp,
};
use crate::uplink::{LinkState, UplinkStatus};

use super::published::Published;

/// Implements [`ControlBackend`] over the published stock table, health and uplink status.
#[derive(Debug, Clone)]
pub struct DaemonBackend {
    pub store: String,
    pub epoch: String,
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
