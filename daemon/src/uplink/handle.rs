//! The daemon's side of the uplink: inputs that never block, and the status to show.
//!
//! Inputs are latest-wins values behind a mutex plus a wake-up, never a bounded channel: the
//! engine must not stall on a slow network, and the uplink's own event sends can then never
//! deadlock with an input waiting on the uplink.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::{watch, Notify};

use crate::uplink::status::UplinkStatus;
use tagtally_contract::{check_reader, TopicError};

/// Inputs waiting for the uplink task.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    /// Highest committed seq announced.
    pub committed: Option<u64>,
    /// Highest committed EPCIS seq announced.
    pub epcis_committed: Option<u64>,
    /// Newest snapshot not yet taken by the task.
    pub snapshot: Option<SnapshotOut>,
    /// Kept deltas to re-publish for `cmd/replay`, in seq order, not yet taken by the task.
    pub replays: Vec<(u64, Bytes)>,
    /// The state disk has no room (`status` says `disk_full`).
    pub disk_full: bool,
    /// Reader health updates not yet taken by the task, in arrival order.
    pub readers: Vec<(String, Bytes)>,
    /// The newest count result (`count`, retained) not yet taken by the task.
    pub count: Option<Bytes>,
    /// Standing retained messages (topic, payload; an empty payload clears a topic) not yet
    /// taken by the task, newest last.
    pub standing: Vec<(String, Bytes)>,
    /// Graceful shutdown requested.
    pub shutdown: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    inputs: Mutex<Inputs>,
    pub wake: Notify,
}

impl Shared {
    /// Locks the inputs; a poisoned lock only means a panicking holder, and the data (plain
    /// values) is still consistent, so it is used as is.
    pub fn lock(&self) -> MutexGuard<'_, Inputs> {
        self.inputs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A snapshot to publish: its parts in order (part k goes to `snapshot/{k}`, part 1 to
/// `snapshot`), and how many parts an earlier snapshot may have left retained (those beyond this
/// one are cleared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotOut {
    /// The parts' payloads, part 1 first.
    pub parts: Vec<Bytes>,
    /// The most parts any earlier snapshot had.
    pub earlier_parts: u32,
}

/// Cloneable handle to a running uplink.
#[derive(Debug, Clone)]
pub struct UplinkHandle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) status: watch::Receiver<UplinkStatus>,
}

impl UplinkHandle {
    /// Announces that deltas up to `seq` are committed to the outbox.
    pub fn committed(&self, seq: u64) {
        let mut inputs = self.shared.lock();
        inputs.committed = Some(inputs.committed.map_or(seq, |c| c.max(seq)));
        drop(inputs);
        self.shared.wake.notify_one();
    }

    /// Announces that `epcis` messages up to EPCIS seq `seq` are committed to the EPCIS outbox.
    pub fn epcis_committed(&self, seq: u64) {
        let mut inputs = self.shared.lock();
        inputs.epcis_committed = Some(inputs.epcis_committed.map_or(seq, |c| c.max(seq)));
        drop(inputs);
        self.shared.wake.notify_one();
    }

    /// Publishes a snapshot (retained, in parts); only the newest one matters if several queue up.
    pub fn publish_snapshot(&self, snapshot: SnapshotOut) {
        self.shared.lock().snapshot = Some(snapshot);
        self.shared.wake.notify_one();
    }

    /// Re-publishes kept deltas (byte-identical, in the order given) for `cmd/replay`. They are
    /// not outbox records: nothing is reported when the broker acknowledges them, and a
    /// disconnect drops those not yet acknowledged (HQ asks again).
    pub fn replay(&self, deltas: Vec<(u64, Bytes)>) {
        if deltas.is_empty() {
            return;
        }
        self.shared.lock().replays.extend(deltas);
        self.shared.wake.notify_one();
    }

    /// Whether the state disk is full, for `status`.
    pub fn disk_full(&self, full: bool) {
        let mut inputs = self.shared.lock();
        if inputs.disk_full != full {
            inputs.disk_full = full;
            drop(inputs);
            self.shared.wake.notify_one();
        }
    }

    /// Records a reader's health payload (retained under `readers/{reader}`, rate-limited).
    pub fn reader_health(&self, reader: &str, payload: Bytes) -> Result<(), TopicError> {
        check_reader(reader)?;
        let mut inputs = self.shared.lock();
        // Bounded: only the newest value per reader is kept until the task takes them.
        inputs.readers.retain(|(name, _)| name != reader);
        inputs.readers.push((reader.to_owned(), payload));
        drop(inputs);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Publishes a count result (retained on `count`); only the newest matters if several queue up.
    pub fn publish_count(&self, payload: Bytes) {
        self.shared.lock().count = Some(payload);
        self.shared.wake.notify_one();
    }

    /// Publishes standing retained messages (discrepancies and replenishment parts; an empty
    /// payload clears a part an earlier, longer message left), kept and published again after
    /// every reconnect. A later payload for the same topic replaces an earlier one.
    pub fn publish_standing(&self, messages: Vec<(String, Bytes)>) {
        if messages.is_empty() {
            return;
        }
        let mut inputs = self.shared.lock();
        // Bounded by the topics in use: only the newest payload per topic waits.
        inputs
            .standing
            .retain(|(topic, _)| messages.iter().all(|(t, _)| t != topic));
        inputs.standing.extend(messages);
        drop(inputs);
        self.shared.wake.notify_one();
    }

    /// Asks for a graceful stop: in-flight messages get a short grace period, `offline` is
    /// published, and the connection is closed with DISCONNECT.
    pub fn shutdown(&self) {
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_one();
    }

    /// The current status (link state, acked seq, in-flight count), updated as it changes.
    pub fn status(&self) -> watch::Receiver<UplinkStatus> {
        self.status.clone()
    }
}
