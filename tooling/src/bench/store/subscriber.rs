//! HQ's side of `tagtally bench store`: an MQTT subscriber on a thread of its own that stamps every delta on receipt and records its seq and the probe changes it carries.
//!
//! It runs on its own thread and single-threaded runtime, not on the runtime that drives the
//! emulated readers, so a busy inventory round cannot delay the moment a delta is stamped.
//! Parsing happens after the stamp.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde::Deserialize;
use tagtally_config::HostPort;
use thiserror::Error;
use tokio::sync::oneshot;

use super::daemon_config::{DOOR, STORE, TOPIC_PREFIX};

/// How long the subscription may take.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest message accepted: a cold start's delta or a snapshot of a big store.
const MAX_PACKET: usize = 16 * 1024 * 1024;

/// One delta message as received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeltaSeen {
    /// Its seq.
    pub seq: u64,
    /// When it was received (before parsing).
    pub received: Instant,
    /// Changes it carried.
    pub changes: usize,
}

/// A change of a probe tag's own (door, GTIN) count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeChange {
    /// The probe's index.
    pub probe: usize,
    /// +1 when it arrived, -1 when it left.
    pub delta: i64,
    /// When the delta carrying it was received.
    pub received: Instant,
    /// That delta's seq.
    pub seq: u64,
}

/// Everything received.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    /// Every delta message, duplicates included, in order of receipt.
    pub deltas: Vec<DeltaSeen>,
    /// Probe changes, in order of receipt.
    pub probe_changes: Vec<ProbeChange>,
    /// Epochs seen in deltas (one, unless the store's state was wiped mid-run).
    pub epochs: BTreeSet<String>,
    /// Snapshot messages.
    pub snapshots: u64,
    /// Other messages (status, reader health).
    pub other: u64,
    /// Delta messages that did not parse.
    pub invalid: u64,
}

impl Recorded {
    /// The highest seq received.
    pub fn max_seq(&self) -> u64 {
        self.deltas.iter().map(|d| d.seq).max().unwrap_or(0)
    }
}

/// Why the subscriber could not start.
#[derive(Debug, Error)]
pub enum SubscriberError {
    /// Its thread or runtime could not be created.
    #[error("cannot start the subscriber: {0}")]
    Start(std::io::Error),
    /// No SUBACK in time.
    #[error("no subscription to {filter} on {broker} within {SUBSCRIBE_TIMEOUT:?}")]
    NotSubscribed { broker: String, filter: String },
}

#[derive(Debug, Deserialize)]
struct DeltaMsg {
    epoch: String,
    seq: u64,
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    zone: String,
    sku: String,
    delta: i64,
}

#[derive(Debug, Default)]
struct Shared {
    recorded: Mutex<Recorded>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.recorded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The running subscriber; [`Subscriber::stop`] ends it and hands over what it recorded.
#[derive(Debug)]
pub struct Subscriber {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Subscriber {
    /// Connects to `broker`, subscribes to the bench store's topics and returns once the broker
    /// confirmed the subscription. `probe_skus` maps each probe's SKU to its index.
    pub fn start(
        broker: &HostPort,
        probe_skus: HashMap<String, usize>,
    ) -> Result<Subscriber, SubscriberError> {
        let filter = format!("{TOPIC_PREFIX}/{STORE}/#");
        let shared = Arc::new(Shared::default());
        let (stop_tx, stop_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let mut options = MqttOptions::new(
            format!("tagtally-bench-hq-{}", std::process::id()),
            broker.host.clone(),
            broker.port,
        );
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SubscriberError::Start)?;
        let thread_shared = Arc::clone(&shared);
        let thread_filter = filter.clone();
        let thread = std::thread::Builder::new()
            .name("bench-hq".into())
            .spawn(move || {
                runtime.block_on(listen(
                    options,
                    thread_filter,
                    probe_skus,
                    thread_shared,
                    ready_tx,
                    stop_rx,
                ));
            })
            .map_err(SubscriberError::Start)?;
        let subscriber = Subscriber {
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        match ready_rx.recv_timeout(SUBSCRIBE_TIMEOUT) {
            Ok(()) => Ok(subscriber),
            Err(_) => Err(SubscriberError::NotSubscribed {
                broker: broker.to_string(),
                filter,
            }),
        }
    }

    /// Waits until a delta with a seq of at least `seq` was received, at most `timeout`; true if so.
    pub fn wait_for_seq(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut recorded = self.shared.lock();
        while recorded.max_seq() < seq {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            recorded = self
                .shared
                .changed
                .wait_timeout(recorded, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        true
    }

    /// Stops listening and returns everything received.
    pub fn stop(mut self) -> Recorded {
        self.end();
        std::mem::take(&mut *self.shared.lock())
    }

    fn end(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.end();
    }
}

async fn listen(
    options: MqttOptions,
    filter: String,
    probe_skus: HashMap<String, usize>,
    shared: Arc<Shared>,
    ready: std::sync::mpsc::Sender<()>,
    mut stop: oneshot::Receiver<()>,
) {
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let mut ready = Some(ready);
    loop {
        let event = tokio::select! {
            _ = &mut stop => return,
            event = eventloop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let received = Instant::now();
                record(
                    &shared,
                    &publish.topic,
                    &publish.payload,
                    received,
                    &probe_skus,
                );
            }
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                // Clean session: subscribe again after every (re)connect.
                let _ = client.try_subscribe(filter.clone(), QoS::AtLeastOnce);
            }
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(%error, "bench subscriber reconnecting");
                // rumqttc reconnects on the next poll; pace the attempts.
                tokio::select! {
                    _ = &mut stop => return,
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    }
}

fn record(
    shared: &Shared,
    topic: &str,
    payload: &[u8],
    received: Instant,
    probe_skus: &HashMap<String, usize>,
) {
    let kind = topic.rsplit('/').next().unwrap_or_default();
    let parsed = match kind {
        "delta" => Some(serde_json::from_slice::<DeltaMsg>(payload)),
        _ => None,
    };
    let mut recorded = shared.lock();
    match (kind, parsed) {
        (_, Some(Ok(delta))) => {
            recorded.deltas.push(DeltaSeen {
                seq: delta.seq,
                received,
                changes: delta.changes.len(),
            });
            for change in &delta.changes {
                if change.zone != DOOR {
                    continue;
                }
                if let Some(&probe) = probe_skus.get(&change.sku) {
                    recorded.probe_changes.push(ProbeChange {
                        probe,
                        delta: change.delta,
                        received,
                        seq: delta.seq,
                    });
                }
            }
            if !recorded.epochs.contains(&delta.epoch) {
                recorded.epochs.insert(delta.epoch);
            }
        }
        (_, Some(Err(_))) => recorded.invalid += 1,
        ("snapshot", None) => recorded.snapshots += 1,
        _ => recorded.other += 1,
    }
    drop(recorded);
    shared.changed.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_seqs_and_probe_changes_are_recorded() {
        let shared = Shared::default();
        let skus = HashMap::from([("00614141900001".to_owned(), 1usize)]);
        let at = Instant::now();
        let delta = br#"{"schema":"tagtally.delta/1","store":"bench-store","epoch":"e1","seq":7,"time":"2026-01-01T00:00:00Z",
            "changes":[{"zone":"floor","sku":"00614141900001","delta":1,"count":1},
                       {"zone":"door","sku":"00614141900001","delta":1,"count":1},
                       {"zone":"door","sku":"00614141000001","delta":-1,"count":0}]}"#;
        record(&shared, "tagtally/v1/bench-store/delta", delta, at, &skus);
        record(&shared, "tagtally/v1/bench-store/delta", b"{", at, &skus);
        record(
            &shared,
            "tagtally/v1/bench-store/snapshot",
            b"{}",
            at,
            &skus,
        );
        record(&shared, "tagtally/v1/bench-store/status", b"{}", at, &skus);
        let recorded = shared.lock();
        assert_eq!(
            recorded.deltas,
            vec![DeltaSeen {
                seq: 7,
                received: at,
                changes: 3
            }]
        );
        assert_eq!(
            recorded.probe_changes,
            vec![ProbeChange {
                probe: 1,
                delta: 1,
                received: at,
                seq: 7
            }]
        );
        assert_eq!(recorded.max_seq(), 7);
        assert_eq!(
            (recorded.invalid, recorded.snapshots, recorded.other),
            (1, 1, 1)
        );
        assert_eq!(recorded.epochs.len(), 1);
    }
}
