//! The uplink task: owns the MQTT connection, is the only publisher, and reports acks in order.
//!
//! Futures its loop waits on, per connection:
//! * events of the connection's poller (a child task that does nothing but poll rumqttc's event
//!   loop, so that loop is never cancelled mid-write by a `select!`),
//! * the input wake-up of [`UplinkHandle`] (commits, snapshots, reader health, shutdown),
//! * the next held-back reader-health publish, an outbox read retry, the shutdown grace period.
//!
//! Between connections it sleeps out the backoff delay (a shutdown request cuts it short).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};
use tracing::{debug, error, info, warn};

use crate::uplink::backoff::{jitter_random, Backoff};
use crate::uplink::handle::{Shared, UplinkHandle};
use crate::uplink::inflight::{InFlight, Message, Retired};
use crate::uplink::link::{self, LinkClient, LinkEvent, RequestError};
use crate::uplink::readers::ReaderHealth;
use crate::uplink::settings::{UplinkSettings, MAX_WINDOW};
use crate::uplink::source::DeltaSource;
use crate::uplink::status::{status_payload, DownReason, LinkState, UplinkStatus};

/// Extra window room for retained messages, so a window full of deltas never holds back
/// `status` after a reconnect.
const RETAINED_RESERVE: usize = 8;
/// A connection that stayed up this long proves the settings work: the backoff starts over.
/// Shorter ones (a broker that accepts and then kicks us) keep growing the delay.
const STABLE_AFTER: Duration = Duration::from_secs(30);
/// How long a graceful shutdown waits for in-flight PUBACKs and the `offline` status.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// How long a graceful shutdown waits for the DISCONNECT to be written.
const DISCONNECT_GRACE: Duration = Duration::from_secs(1);
/// A failing outbox read is retried after this.
const SOURCE_RETRY: Duration = Duration::from_secs(1);
/// The same failure is logged again (at warn) at most this often; in between at debug.
const LOG_REMINDER: Duration = Duration::from_secs(300);
/// Capacity of the event channel to the daemon.
const EVENT_CAPACITY: usize = 1024;
/// Capacity of the poller-to-task channel.
const POLL_CAPACITY: usize = 256;

/// What the uplink tells the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UplinkEvent {
    /// The broker acknowledged the delta with this seq and every delta before it that this
    /// uplink published. Emitted once per delta, in ascending seq order, even when PUBACKs
    /// arrive out of order. The daemon may now delete it from the outbox.
    Acked(u64),
    /// The link changed state.
    Link(LinkState),
    /// HQ asked for a fresh snapshot (`cmd/snapshot`).
    SnapshotRequested,
}

/// A running uplink: its handle, its events and its task.
#[derive(Debug)]
pub struct Uplink {
    /// Inputs and status.
    pub handle: UplinkHandle,
    /// Acks, link changes and snapshot requests, in the order they happened.
    pub events: mpsc::Receiver<UplinkEvent>,
    /// The task; it ends only after [`UplinkHandle::shutdown`].
    pub task: JoinHandle<()>,
}

/// Spawns the uplink task on the current runtime. The settings come from a checked config
/// (see [`UplinkSettings`]); the window, which no config sets, is kept within its bounds.
pub fn spawn<S: DeltaSource>(mut settings: UplinkSettings, source: S) -> Uplink {
    settings.window = settings.window.clamp(1, MAX_WINDOW);
    let tls = settings.tls.as_ref().map(|tls| Arc::clone(&tls.config));
    let (status_tx, status_rx) = watch::channel(UplinkStatus::default());
    let (events_tx, events_rx) = mpsc::channel(EVENT_CAPACITY);
    let shared = Arc::new(Shared::default());
    let capacity = settings.window + RETAINED_RESERVE;
    let task = Task {
        health: ReaderHealth::new(settings.reader_min_interval),
        backoff: Backoff::new(settings.backoff),
        delta_topic: settings.topics.delta(),
        settings: Arc::new(settings),
        tls,
        source,
        shared: Arc::clone(&shared),
        status: status_tx,
        events: events_tx,
        inflight: InFlight::new(capacity),
        cursor: None,
        source_dirty: true,
        source_retry_at: None,
        snapshot: None,
        retained: VecDeque::new(),
        shutdown: false,
        last_log: None,
    };
    let task = tokio::spawn(task.run());
    Uplink {
        handle: UplinkHandle {
            shared,
            status: status_rx,
        },
        events: events_rx,
        task,
    }
}

/// How a connection ended.
enum End {
    Down(DownReason),
    Shutdown,
}

/// Graceful-stop progress within a connection.
#[derive(Clone, Copy)]
enum Stop {
    /// Waiting for in-flight PUBACKs (and `offline`) until the deadline.
    Draining(Instant),
    /// DISCONNECT requested; waiting for it to be written until the deadline.
    Disconnecting(Instant),
}

/// Aborts the poller when the connection scope ends, however it ends (an aborted uplink task
/// included): the socket closes without DISCONNECT, exactly like a killed process.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Task<S> {
    settings: Arc<UplinkSettings>,
    tls: Option<Arc<rustls::ClientConfig>>,
    source: S,
    shared: Arc<Shared>,
    status: watch::Sender<UplinkStatus>,
    events: mpsc::Sender<UplinkEvent>,
    inflight: InFlight,
    delta_topic: String,
    /// Seq of the newest delta read from the source by this uplink.
    cursor: Option<u64>,
    /// The source may hold deltas beyond `cursor`.
    source_dirty: bool,
    source_retry_at: Option<Instant>,
    /// Newest snapshot payload, republished after every connect.
    snapshot: Option<Bytes>,
    health: ReaderHealth,
    backoff: Backoff,
    /// Retained messages waiting for window room (one per topic, newest payload).
    retained: VecDeque<(String, Bytes)>,
    shutdown: bool,
    /// Last failure logged at warn, and when.
    last_log: Option<(String, Instant)>,
}

impl<S: DeltaSource> Task<S> {
    async fn run(mut self) {
        'outer: loop {
            self.absorb_inputs();
            if self.shutdown {
                break;
            }
            self.set_state(LinkState::Connecting).await;
            let (end, online_since) = self.connection().await;
            let retired = self.inflight.on_disconnect();
            self.report(retired).await;
            self.retained.clear();
            let reason = match end {
                End::Shutdown => break,
                End::Down(reason) => reason,
            };
            if online_since.is_some_and(|t| t.elapsed() >= STABLE_AFTER) {
                self.backoff.reset();
            }
            let delay = self.backoff.next_delay(jitter_random());
            self.log_down(&reason, delay);
            let failures = self.backoff.failures();
            self.status.send_modify(|s| {
                s.failures = failures;
                s.last_error = Some(reason.clone());
                s.in_flight = 0;
            });
            self.set_state(LinkState::Down {
                reason,
                retry_in: delay,
            })
            .await;
            let deadline = Instant::now() + delay;
            loop {
                tokio::select! {
                    _ = sleep_until(deadline) => break,
                    _ = self.shared.wake.notified() => {
                        self.absorb_inputs();
                        if self.shutdown {
                            break 'outer;
                        }
                    }
                }
            }
        }
        info!("mqtt uplink stopped");
        self.set_state(LinkState::Stopped).await;
    }

    /// One connection from attempt to end; returns how it ended and when it came online.
    async fn connection(&mut self) -> (End, Option<Instant>) {
        let capacity = self.settings.window + RETAINED_RESERVE;
        // Twice the window: every outstanding id lies within the last `capacity` allocations,
        // so rumqttc never meets an id that is still in use (no collision stalls).
        let pkid_space = u16::try_from(capacity * 2).unwrap_or(u16::MAX);
        let (client, mut link) =
            link::open(&self.settings, self.tls.as_ref(), pkid_space, capacity + 4);
        let (tx, mut rx) = mpsc::channel(POLL_CAPACITY);
        let settings = Arc::clone(&self.settings);
        let _poller = AbortOnDrop(tokio::spawn(async move {
            loop {
                let event = link.poll(&settings).await;
                let failed = event.is_err();
                if tx.send(event).await.is_err() || failed {
                    break;
                }
            }
        }));

        let mut online_since: Option<Instant> = None;
        let mut stop: Option<Stop> = None;
        loop {
            let online = online_since.is_some();
            let reader_due = self
                .health
                .next_due()
                .filter(|_| online)
                .map(Instant::from_std);
            let source_retry = self.source_retry_at.filter(|_| online);
            let stop_deadline = match stop {
                Some(Stop::Draining(t) | Stop::Disconnecting(t)) => Some(t),
                None => None,
            };
            let far = Instant::now() + Duration::from_secs(86_400);
            tokio::select! {
                event = rx.recv() => {
                    let Some(event) = event else {
                        return (End::Down(DownReason::Protocol("mqtt event loop ended".into())), online_since);
                    };
                    let event = match event {
                        Ok(event) => event,
                        Err(reason) if stop.is_some() => {
                            debug!(%reason, "connection closed while stopping");
                            return (End::Shutdown, online_since);
                        }
                        Err(reason) => return (End::Down(reason), online_since),
                    };
                    match self.on_event(event, &client, &mut online_since).await {
                        Ok(true) => return (End::Shutdown, online_since),
                        Ok(false) => {}
                        Err(reason) => return (End::Down(reason), online_since),
                    }
                }
                _ = self.shared.wake.notified() => {
                    self.absorb_inputs();
                    if self.shutdown && stop.is_none() {
                        if !online {
                            return (End::Shutdown, online_since);
                        }
                        let offline = status_payload(self.settings.topics.store(), false);
                        self.enqueue_retained(self.settings.topics.status(), offline);
                        stop = Some(Stop::Draining(Instant::now() + SHUTDOWN_GRACE));
                    }
                }
                _ = sleep_until(reader_due.unwrap_or(far)), if reader_due.is_some() => {}
                _ = sleep_until(source_retry.unwrap_or(far)), if source_retry.is_some() => {
                    self.source_retry_at = None;
                    self.source_dirty = true;
                }
                _ = sleep_until(stop_deadline.unwrap_or(far)), if stop_deadline.is_some() => {
                    match stop {
                        Some(Stop::Draining(_)) => {
                            warn!(in_flight = self.inflight.outstanding(), "shutdown grace over with messages unacknowledged; they stay in the outbox");
                            if client.disconnect().is_err() {
                                return (End::Shutdown, online_since);
                            }
                            stop = Some(Stop::Disconnecting(Instant::now() + DISCONNECT_GRACE));
                        }
                        _ => return (End::Shutdown, online_since),
                    }
                }
            }
            if online_since.is_some() {
                let stopping = stop.is_some();
                if let Err(e) = self.pump(&client, stopping) {
                    return (End::Down(DownReason::Protocol(e.to_string())), online_since);
                }
                if matches!(stop, Some(Stop::Draining(_))) && self.inflight.is_empty() {
                    if client.disconnect().is_err() {
                        return (End::Shutdown, online_since);
                    }
                    stop = Some(Stop::Disconnecting(Instant::now() + DISCONNECT_GRACE));
                }
            }
        }
    }

    /// Handles one connection event; `Ok(true)` means the graceful stop completed.
    async fn on_event(
        &mut self,
        event: LinkEvent,
        client: &LinkClient,
        online_since: &mut Option<Instant>,
    ) -> Result<bool, DownReason> {
        match event {
            LinkEvent::Connected => {
                *online_since = Some(Instant::now());
                self.on_connected(client).await?;
            }
            LinkEvent::Published(pkid) => {
                self.inflight
                    .on_outgoing(pkid)
                    .map_err(|e| DownReason::Protocol(e.to_string()))?;
            }
            LinkEvent::PubAck {
                pkid,
                rejected: None,
            } => {
                let retired = self
                    .inflight
                    .on_puback(pkid)
                    .map_err(|e| DownReason::Protocol(e.to_string()))?;
                self.report(retired).await;
            }
            LinkEvent::PubAck {
                pkid,
                rejected: Some(reason),
            } => {
                // Not acknowledged: the message stays unacked and goes out again after the
                // backoff. Skipping it would be a silent gap at HQ.
                let topic = self.inflight.describe(pkid);
                return Err(DownReason::PublishRejected { topic, reason });
            }
            LinkEvent::Inbound { topic, len } => {
                if topic == self.settings.topics.cmd_snapshot().as_bytes() {
                    info!("snapshot requested by hq");
                    let _ = self.events.send(UplinkEvent::SnapshotRequested).await;
                } else {
                    let shown: String = String::from_utf8_lossy(&topic).chars().take(200).collect();
                    let shown = tagtally_protocol::text::Escaped(&shown);
                    warn!(topic = %shown, bytes = len, "ignored inbound message on an unexpected topic");
                }
            }
            LinkEvent::Disconnected => return Ok(true),
            LinkEvent::Other => {}
        }
        Ok(false)
    }

    async fn on_connected(&mut self, client: &LinkClient) -> Result<(), DownReason> {
        let failures = self.backoff.failures();
        if failures > 0 || self.last_log.is_some() {
            info!(broker = %self.settings.broker, failures, "mqtt link up again");
        } else {
            info!(broker = %self.settings.broker, protocol = %self.settings.protocol, "mqtt link up");
        }
        self.last_log = None;
        self.status.send_modify(|s| {
            s.connections += 1;
            s.failures = 0;
        });
        self.set_state(LinkState::Online).await;
        let request_err = |e: RequestError| DownReason::Protocol(e.to_string());
        // Clean session: subscriptions do not survive a disconnect, so renew them every time.
        client
            .subscribe(&self.settings.topics.cmd_snapshot())
            .map_err(request_err)?;
        let topics = &self.settings.topics;
        let online = status_payload(topics.store(), true);
        let (status_topic, snapshot_topic) = (topics.status(), topics.snapshot());
        self.enqueue_retained(status_topic, online);
        // The broker may have lost retained messages (restart without persistence): republish
        // the newest snapshot and reader health. Harmless duplicates otherwise.
        if let Some(snapshot) = self.snapshot.clone() {
            self.enqueue_retained(snapshot_topic, snapshot);
        }
        for (reader, payload) in self.health.all_for_connect(std::time::Instant::now()) {
            if let Ok(topic) = self.settings.topics.reader(&reader) {
                self.enqueue_retained(topic, payload);
            }
        }
        self.publish_retained(client).map_err(request_err)?;
        for message in self.inflight.resend() {
            if let Message::Delta { payload, .. } = &message {
                client
                    .publish(&self.delta_topic, payload, false)
                    .map_err(request_err)?;
            }
        }
        Ok(())
    }

    /// Publishes what fits in the window: retained messages first (within the reserve), then
    /// new deltas from the source in seq order (not while stopping).
    fn pump(&mut self, client: &LinkClient, stopping: bool) -> Result<(), RequestError> {
        for (reader, payload) in self.health.due(std::time::Instant::now()) {
            if let Ok(topic) = self.settings.topics.reader(&reader) {
                self.enqueue_retained(topic, payload);
            }
        }
        self.publish_retained(client)?;
        if stopping {
            return Ok(());
        }
        let window = self.settings.window;
        while self.source_dirty && self.source_retry_at.is_none() && self.inflight.has_room(window)
        {
            let room = window - self.inflight.len();
            let batch = match self.source.read_after(self.cursor, room) {
                Ok(batch) => batch,
                Err(e) => {
                    let reason = DownReason::Outbox(e.to_string());
                    error!(%reason, "reading the outbox failed; retrying");
                    self.status.send_modify(|s| s.last_error = Some(reason));
                    self.source_retry_at = Some(Instant::now() + SOURCE_RETRY);
                    break;
                }
            };
            if batch.len() < room {
                self.source_dirty = false;
            }
            if batch.is_empty() {
                break;
            }
            for delta in batch {
                if self.cursor.is_some_and(|c| delta.seq <= c) {
                    warn!(
                        seq = delta.seq,
                        cursor = self.cursor,
                        "outbox returned an old seq; skipped"
                    );
                    continue;
                }
                if let Some(c) = self.cursor.filter(|c| delta.seq != c + 1) {
                    // Only the store may fold old deltas into a resync snapshot; say so loudly.
                    warn!(
                        after = c,
                        seq = delta.seq,
                        "outbox seq jumps; the records between are gone from the outbox"
                    );
                }
                self.cursor = Some(delta.seq);
                let payload = delta.payload;
                client.publish(&self.delta_topic, &payload, false)?;
                self.inflight.push(Message::Delta {
                    seq: delta.seq,
                    payload,
                });
            }
        }
        let outstanding = self.inflight.outstanding();
        self.status.send_if_modified(|s| {
            let changed = s.in_flight != outstanding;
            s.in_flight = outstanding;
            changed
        });
        Ok(())
    }

    fn publish_retained(&mut self, client: &LinkClient) -> Result<(), RequestError> {
        let limit = self.settings.window + RETAINED_RESERVE;
        while self.inflight.has_room(limit) {
            let Some((topic, payload)) = self.retained.pop_front() else {
                break;
            };
            client.publish(&topic, &payload, true)?;
            self.inflight.push(Message::Retained { topic, payload });
        }
        Ok(())
    }

    fn enqueue_retained(&mut self, topic: String, payload: Bytes) {
        match self.retained.iter_mut().find(|(t, _)| *t == topic) {
            Some(slot) => slot.1 = payload,
            None => self.retained.push_back((topic, payload)),
        }
    }

    fn absorb_inputs(&mut self) {
        let mut inputs = self.shared.lock();
        if let Some(c) = inputs.committed {
            if self.cursor.is_none_or(|k| c > k) {
                self.source_dirty = true;
            }
        }
        let snapshot = inputs.snapshot.take();
        let readers = std::mem::take(&mut inputs.readers);
        self.shutdown |= inputs.shutdown;
        drop(inputs);
        if let Some(snapshot) = snapshot {
            self.snapshot = Some(snapshot.clone());
            self.enqueue_retained(self.settings.topics.snapshot(), snapshot);
        }
        for (reader, payload) in readers {
            self.health.update(&reader, payload);
        }
    }

    async fn report(&mut self, retired: Retired) {
        let outstanding = self.inflight.outstanding();
        let last = retired.deltas.last().copied();
        let any = last.is_some() || retired.retained > 0;
        self.status.send_modify(|s| {
            if last.is_some() {
                s.acked_through = last;
            }
            if any {
                s.last_ack = Some(SystemTime::now());
            }
            s.in_flight = outstanding;
        });
        for seq in retired.deltas {
            let _ = self.events.send(UplinkEvent::Acked(seq)).await;
        }
    }

    async fn set_state(&mut self, state: LinkState) {
        let changed = self.status.send_if_modified(|s| {
            let changed = s.state != state;
            s.state = state.clone();
            changed
        });
        if changed {
            let _ = self.events.send(UplinkEvent::Link(state)).await;
        }
    }

    fn log_down(&mut self, reason: &DownReason, delay: Duration) {
        let text = reason.to_string();
        let now = Instant::now();
        let repeat = matches!(&self.last_log, Some((t, at)) if *t == text && now.duration_since(*at) < LOG_REMINDER);
        let failures = self.backoff.failures();
        if repeat {
            debug!(broker = %self.settings.broker, failures, retry_in_ms = delay.as_millis() as u64, "mqtt link still down: {text}");
        } else {
            warn!(broker = %self.settings.broker, failures, retry_in_ms = delay.as_millis() as u64, "mqtt link down: {text}");
            self.last_log = Some((text, now));
        }
    }
}
