//! The uplink task: owns the MQTT connection, is the only publisher, and reports acks in order.
//!
//! Futures its loop waits on, per connection:
//! * events of the connection's poller (a child task that does nothing but poll rumqttc's event
//!   loop, so that loop is never cancelled mid-write by a `select!`),
//! * the input wake-up of [`UplinkHandle`] (commits, snapshots, reader health, shutdown),
//! * the next held-back reader-health publish, the status heartbeat (`status-interval`), the next
//!   held-back HQ command (`command-min-interval`), an outbox read retry, the shutdown grace period.
//!
//! Every message is checked against the packet limit before it is handed over (`max-message-bytes`,
//! or the broker's smaller MQTT 5 Maximum Packet Size): a delta that does not fit (one committed by
//! an older version or under a larger limit) is not sent but reported as [`UplinkEvent::Refused`],
//! and so is one the broker refuses with an MQTT 5 PUBACK reason code; the daemon folds it into a
//! resync snapshot. Nothing refused ever blocks the messages after it.
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

use crate::operations::BookPart;
use tagtally_contract::size::publish_packet_len;
use tagtally_contract::{
    parse_inbound, Inbound, InboundRefusal, StoreState, MAX_COMMAND_BYTES, MAX_EXPECTED_PART_BYTES,
    MAX_SALE_BYTES,
};
use tagtally_core::{Backoff, RepeatLimiter};

use crate::uplink::commands::{Command, CommandGate};
use crate::uplink::handle::{Shared, SnapshotOut, UplinkHandle};
use crate::uplink::inflight::{InFlight, Message, Retired};
use crate::uplink::link::{self, LinkClient, LinkEvent, RequestError};
use crate::uplink::readers::ReaderHealth;
use crate::uplink::settings::{Protocol, UplinkSettings, MAX_WINDOW};
use crate::uplink::source::DeltaSource;
use crate::uplink::status::{status_payload, DownReason, LinkState, Refusal, UplinkStatus};

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
    /// HQ asked for a fresh snapshot (`cmd/snapshot`), coalesced per `command-min-interval`.
    SnapshotRequested {
        /// Echo it in the snapshot.
        request_id: Option<String>,
    },
    /// HQ asked for deltas again (`cmd/replay`), coalesced per `command-min-interval`.
    ReplayRequested {
        /// First seq.
        from_seq: u64,
        /// Last seq.
        to_seq: u64,
        /// Echo it in a resync snapshot this causes.
        request_id: Option<String>,
    },
    /// The till sold these tags (`cmd/sale`), merged over at most [`SALE_MIN_INTERVAL`](super::commands::SALE_MIN_INTERVAL).
    SaleRequested {
        /// The sold EPCs, each valid (1 to 62 bytes).
        epcs: Vec<Vec<u8>>,
        /// The request ids of the merged messages, for the log.
        request_ids: Vec<String>,
    },
    /// The broker acknowledged the `epcis` message with this EPCIS seq and every earlier one this
    /// uplink published (or reported refused); in ascending order, once per acknowledgement that
    /// retired any. The daemon may delete them all from the EPCIS outbox.
    EpcisAcked(u64),
    /// The `epcis` message `seq` cannot be published (larger than the packet limit, or refused by
    /// the broker): drop it (counted); it is never sent again by this uplink.
    EpcisRefused {
        /// Its EPCIS seq.
        seq: u64,
        /// Its PUBLISH packet size (0 when the broker refused it).
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A part of HQ's book stock (`expected`, `expected/{k}`), checked by the contract.
    BookPart(BookPart),
    /// The delta `seq` cannot be published: larger than the packet limit, or refused by the
    /// broker. Fold it into a resync snapshot; it is never sent again by this uplink.
    Refused {
        /// Its seq.
        seq: u64,
        /// Its PUBLISH packet size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
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
    let settings_gate = settings.command_min_interval;
    let settings_limit = settings.max_message_bytes;
    let task = Task {
        health: ReaderHealth::new(settings.reader_min_interval),
        backoff: Backoff::new(settings.backoff, fastrand::u64(..)),
        delta_topic: settings.topics.delta(),
        epcis_topic: settings.topics.epcis(),
        epcis_cursor: None,
        epcis_dirty: true,
        refused_epcis: Vec::new(),
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
        replays: VecDeque::new(),
        retained: VecDeque::new(),
        count_result: None,
        standing: std::collections::BTreeMap::new(),
        shutdown: false,
        down_log: RepeatLimiter::new(LOG_REMINDER),
        gate: CommandGate::new(settings_gate),
        committed_seq: 0,
        disk_full: false,
        packet_limit: settings_limit,
        status_due: None,
        refusal: None,
        refused_deltas: Vec::new(),
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
    epcis_topic: String,
    /// EPCIS seq of the newest `epcis` message read from the source by this uplink.
    epcis_cursor: Option<u64>,
    /// The source may hold `epcis` messages beyond `epcis_cursor`.
    epcis_dirty: bool,
    /// `epcis` messages not sent for their size, to report with the next acks.
    refused_epcis: Vec<(u64, usize)>,
    /// Seq of the newest delta read from the source by this uplink.
    cursor: Option<u64>,
    /// The source may hold deltas beyond `cursor`.
    source_dirty: bool,
    source_retry_at: Option<Instant>,
    /// The snapshot being published, part by part.
    snapshot: Option<PendingSnapshot>,
    /// Kept deltas to re-publish for `cmd/replay`.
    replays: VecDeque<(u64, Bytes)>,
    health: ReaderHealth,
    backoff: Backoff,
    /// Retained messages waiting for window room (one per topic, newest payload).
    retained: VecDeque<(String, Bytes)>,
    /// The last count result, published again on every connection.
    count_result: Option<Bytes>,
    /// Standing retained messages by topic (discrepancies, replenishment), published again on
    /// every connection; an empty payload is a clear.
    standing: std::collections::BTreeMap<String, Bytes>,
    shutdown: bool,
    /// The link-down reason last logged at warn; repeats go to debug until `LOG_REMINDER` passed.
    down_log: RepeatLimiter,
    gate: CommandGate,
    /// The newest committed seq announced (`seq` in status).
    committed_seq: u64,
    disk_full: bool,
    /// The packet limit of the current connection.
    packet_limit: usize,
    /// When the next heartbeat status is due (while online).
    status_due: Option<Instant>,
    /// The last message not published for its size.
    refusal: Option<Refusal>,
    /// Deltas not sent for their size, to report with the next acks (pump cannot await).
    refused_deltas: Vec<(u64, usize)>,
}

/// A snapshot on its way out: its parts in order, then the clearing of retained parts an earlier,
/// larger snapshot left behind.
struct PendingSnapshot {
    parts: Vec<Bytes>,
    next: usize,
    /// Part numbers still to clear (an empty retained message each).
    clear: std::ops::RangeInclusive<u32>,
}

impl PendingSnapshot {
    fn new(out: SnapshotOut) -> PendingSnapshot {
        let parts = u32::try_from(out.parts.len()).unwrap_or(u32::MAX);
        PendingSnapshot {
            parts: out.parts,
            next: 0,
            clear: (parts + 1)..=out.earlier_parts,
        }
    }

    /// The next (part number, payload) to publish; an empty payload clears a stale part.
    fn peek(&self) -> Option<(u32, Bytes)> {
        if let Some(part) = self.parts.get(self.next) {
            return Some((self.next as u32 + 1, part.clone()));
        }
        let k = *self.clear.start() + (self.next - self.parts.len()) as u32;
        (k <= *self.clear.end()).then(|| (k, Bytes::new()))
    }

    /// The part [`PendingSnapshot::peek`] named is on its way.
    fn advance(&mut self) {
        self.next += 1;
    }

    /// The part last advanced past was not taken after all.
    fn retreat(&mut self) {
        self.next = self.next.saturating_sub(1);
    }
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
            let delay = self.backoff.next_delay();
            self.log_down(&reason, delay);
            let failures = self.backoff.attempts();
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
        let will = self.status_payload(self.status.borrow().connections + 1, StoreState::Offline);
        let (client, mut link) = link::open(
            &self.settings,
            self.tls.as_ref(),
            pkid_space,
            capacity + 4,
            &will,
        );
        let (tx, mut rx) = mpsc::channel(POLL_CAPACITY);
        let settings = Arc::clone(&self.settings);
        let _poller = AbortOnDrop(tokio::spawn(async move {
            let mut established = false;
            loop {
                let event = link.poll(&settings, established).await;
                established |= matches!(event, Ok(LinkEvent::Connected { .. }));
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
            let status_due = self.status_due.filter(|_| online && stop.is_none());
            let command_due = self
                .gate
                .next_due()
                .filter(|_| online)
                .map(Instant::from_std);
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
                        let connection = self.status.borrow().connections;
                        let offline = self.status_payload(connection, StoreState::Offline);
                        self.enqueue_retained(self.settings.topics.status(), offline);
                        stop = Some(Stop::Draining(Instant::now() + SHUTDOWN_GRACE));
                    }
                }
                _ = sleep_until(reader_due.unwrap_or(far)), if reader_due.is_some() => {}
                _ = sleep_until(status_due.unwrap_or(far)), if status_due.is_some() => {
                    self.status_due = Some(Instant::now() + self.settings.status_interval);
                    self.enqueue_status();
                }
                _ = sleep_until(command_due.unwrap_or(far)), if command_due.is_some() => {
                    self.serve_commands().await;
                }
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
                if !self.refused_deltas.is_empty() || !self.refused_epcis.is_empty() {
                    self.report(Retired::default()).await;
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
            LinkEvent::Connected { max_packet } => {
                *online_since = Some(Instant::now());
                self.packet_limit = max_packet
                    .and_then(|m| usize::try_from(m).ok())
                    .map_or(self.settings.max_message_bytes, |m| {
                        m.min(self.settings.max_message_bytes)
                    });
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
                // Refused, not lost: a delta is folded into a resync snapshot by the daemon, so
                // it never blocks the ones after it (SPEC §6.1); a retained message is dropped
                // (the next one of its topic replaces it).
                let topic = self.inflight.describe(pkid);
                error!(%topic, %reason, "the broker refused a publish; it is not sent again");
                self.status.send_modify(|s| {
                    s.last_error = Some(DownReason::PublishRejected {
                        topic: topic.clone(),
                        reason: reason.clone(),
                    })
                });
                let retired = self
                    .inflight
                    .on_puback_refused(pkid)
                    .map_err(|e| DownReason::Protocol(e.to_string()))?;
                self.report(retired).await;
            }
            LinkEvent::Inbound {
                topic,
                payload,
                retain,
            } => self.on_inbound(&topic, &payload, retain).await,
            LinkEvent::SubAck { refused } => {
                if refused > 0 {
                    error!(
                        refused,
                        "the broker refused the command subscriptions: cmd/snapshot and cmd/replay from HQ cannot reach this store (check the broker's ACL)"
                    );
                }
                self.status
                    .send_modify(|s| s.commands_subscribed = refused == 0);
            }
            LinkEvent::Disconnected => return Ok(true),
            LinkEvent::Other => {}
        }
        Ok(false)
    }

    async fn on_connected(&mut self, client: &LinkClient) -> Result<(), DownReason> {
        let failures = self.backoff.attempts();
        if failures > 0 || self.down_log.has_complained() {
            info!(broker = %self.settings.broker, failures, "mqtt link up again");
        } else {
            info!(broker = %self.settings.broker, protocol = %self.settings.protocol, "mqtt link up");
        }
        self.down_log.clear();
        let limit = self.packet_limit;
        self.status.send_modify(|s| {
            s.connections += 1;
            s.failures = 0;
            s.packet_limit = limit;
        });
        if limit < self.settings.max_message_bytes {
            info!(
                broker_limit = limit,
                max_message_bytes = self.settings.max_message_bytes,
                "the broker's maximum packet size is below max-message-bytes; it applies"
            );
        }
        // The daemon answers `Online` with a fresh snapshot (reason `reconnect`), which also
        // restores retained messages a broker without persistence lost.
        self.set_state(LinkState::Online).await;
        let request_err = |e: RequestError| DownReason::Protocol(e.to_string());
        // Clean session: subscriptions do not survive a disconnect, so renew them every time.
        let topics = &self.settings.topics;
        client
            .subscribe_commands(&[
                (topics.cmd_snapshot(), false),
                (topics.cmd_replay(), false),
                (topics.cmd_sale(), false),
                (topics.expected(), true),
                (topics.expected_later_parts(), true),
            ])
            .map_err(request_err)?;
        self.status_due = Some(Instant::now() + self.settings.status_interval);
        self.enqueue_status();
        for (reader, payload) in self.health.all_for_connect(std::time::Instant::now()) {
            if let Ok(topic) = self.settings.topics.reader(&reader) {
                self.enqueue_retained(topic, payload);
            }
        }
        if let Some(count) = self.count_result.clone() {
            // Restores it on a broker without persistence.
            self.enqueue_retained(self.settings.topics.count(), count);
        }
        for (topic, payload) in self.standing.clone() {
            self.enqueue_retained(topic, payload);
        }
        self.publish_retained(client).map_err(request_err)?;
        for message in self.inflight.resend() {
            // Re-sent deltas fitted the limit of the connection they were first sent on; a
            // smaller limit now is found again by the next size check after a restart at worst.
            match &message {
                Message::Delta { payload, .. } => client
                    .publish(&self.delta_topic, payload, false)
                    .map_err(request_err)?,
                Message::Epcis { payload, .. } => client
                    .publish(&self.epcis_topic, payload, false)
                    .map_err(request_err)?,
                Message::Retained { .. } | Message::Replay { .. } => {}
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
        self.publish_snapshot_parts(client)?;
        if self.snapshot.is_some() {
            // Deltas wait for the snapshot: a delta acknowledged after it proves the broker
            // has the whole snapshot (what clearing a resync range relies on).
            return Ok(());
        }
        self.publish_replays(client)?;
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
                let payload = delta.payload;
                let bytes = self.packet_len(&self.delta_topic, &payload);
                if bytes > self.packet_limit {
                    self.cursor = Some(delta.seq);
                    self.refuse(self.delta_topic.clone(), bytes, Some(delta.seq));
                    self.refused_deltas.push((delta.seq, bytes));
                    continue;
                }
                // The cursor passes a delta only once the client took it: a refused hand-over
                // (the link dying under us) leaves it to be read again after the reconnect. (It
                // used to move first, so that delta was never sent, and the ack of the next one
                // deleted it from the outbox unsent.)
                if let Err(e) = client.publish(&self.delta_topic, &payload, false) {
                    // Read again (from the cursor) once the link is back.
                    self.source_dirty = true;
                    return Err(e);
                }
                self.cursor = Some(delta.seq);
                self.inflight.push(Message::Delta {
                    seq: delta.seq,
                    payload,
                });
            }
        }
        self.publish_epcis(client)?;
        let outstanding = self.inflight.outstanding();
        self.status.send_if_modified(|s| {
            let changed = s.in_flight != outstanding;
            s.in_flight = outstanding;
            changed
        });
        Ok(())
    }

    /// Committed `epcis` messages in EPCIS seq order, with the window room the deltas left.
    fn publish_epcis(&mut self, client: &LinkClient) -> Result<(), RequestError> {
        let window = self.settings.window;
        while self.epcis_dirty && self.source_retry_at.is_none() && self.inflight.has_room(window) {
            let room = window - self.inflight.len();
            let batch = match self.source.read_epcis_after(self.epcis_cursor, room) {
                Ok(batch) => batch,
                Err(e) => {
                    let reason = DownReason::Outbox(e.to_string());
                    error!(%reason, "reading the epcis outbox failed; retrying");
                    self.status.send_modify(|s| s.last_error = Some(reason));
                    self.source_retry_at = Some(Instant::now() + SOURCE_RETRY);
                    break;
                }
            };
            if batch.len() < room {
                self.epcis_dirty = false;
            }
            for message in batch {
                if self.epcis_cursor.is_some_and(|c| message.seq <= c) {
                    continue;
                }
                let bytes = self.packet_len(&self.epcis_topic, &message.payload);
                if bytes > self.packet_limit {
                    self.epcis_cursor = Some(message.seq);
                    self.refuse(self.epcis_topic.clone(), bytes, None);
                    self.refused_epcis.push((message.seq, bytes));
                    continue;
                }
                // As for deltas: the cursor passes a message only once the client took it.
                if let Err(e) = client.publish(&self.epcis_topic, &message.payload, false) {
                    self.epcis_dirty = true;
                    return Err(e);
                }
                self.epcis_cursor = Some(message.seq);
                self.inflight.push(Message::Epcis {
                    seq: message.seq,
                    payload: message.payload,
                });
            }
        }
        Ok(())
    }

    fn publish_retained(&mut self, client: &LinkClient) -> Result<(), RequestError> {
        let limit = self.settings.window + RETAINED_RESERVE;
        while self.inflight.has_room(limit) {
            let Some((topic, payload)) = self.retained.pop_front() else {
                break;
            };
            let bytes = self.packet_len(&topic, &payload);
            if bytes > self.packet_limit {
                self.refuse(topic, bytes, None);
                continue;
            }
            if let Err(e) = client.publish(&topic, &payload, true) {
                self.retained.push_front((topic, payload));
                return Err(e);
            }
            self.inflight.push(Message::Retained { topic, payload });
        }
        Ok(())
    }

    /// Snapshot parts in order, then the clearing of stale parts, within the retained window.
    fn publish_snapshot_parts(&mut self, client: &LinkClient) -> Result<(), RequestError> {
        let limit = self.settings.window + RETAINED_RESERVE;
        while self.inflight.has_room(limit) {
            let Some(pending) = self.snapshot.as_mut() else {
                break;
            };
            let Some((part, payload)) = pending.peek() else {
                self.snapshot = None;
                break;
            };
            pending.advance();
            let topic = self.settings.topics.snapshot_part(part);
            let bytes = self.packet_len(&topic, &payload);
            if bytes > self.packet_limit {
                // Built for a larger limit than this connection's: the daemon builds the next
                // one for this limit (it reads it from the status).
                self.refuse(topic, bytes, None);
                continue;
            }
            if let Err(e) = client.publish(&topic, &payload, true) {
                // Not taken: the part goes out first after the reconnect.
                if let Some(pending) = self.snapshot.as_mut() {
                    pending.retreat();
                }
                return Err(e);
            }
            self.inflight.push(Message::Retained { topic, payload });
        }
        Ok(())
    }

    /// Replayed deltas, within the delta window.
    fn publish_replays(&mut self, client: &LinkClient) -> Result<(), RequestError> {
        while self.inflight.has_room(self.settings.window) {
            let Some((seq, payload)) = self.replays.pop_front() else {
                break;
            };
            let bytes = self.packet_len(&self.delta_topic, &payload);
            if bytes > self.packet_limit {
                self.refuse(self.delta_topic.clone(), bytes, Some(seq));
                continue;
            }
            if let Err(e) = client.publish(&self.delta_topic, &payload, false) {
                self.replays.push_front((seq, payload));
                return Err(e);
            }
            self.inflight.push(Message::Replay { seq, payload });
        }
        Ok(())
    }

    fn packet_len(&self, topic: &str, payload: &[u8]) -> usize {
        publish_packet_len(
            topic.len(),
            payload.len(),
            self.settings.protocol == Protocol::V5,
        )
    }

    /// A message not published for its size: logged, counted, shown in status and `status`.
    fn refuse(&mut self, topic: String, bytes: usize, seq: Option<u64>) {
        let limit = self.packet_limit;
        error!(
            %topic,
            bytes,
            limit,
            seq,
            "message larger than the packet limit is not published{}",
            if seq.is_some() { "; it is folded into a resync snapshot" } else { "" }
        );
        let refusal = Refusal {
            topic,
            bytes,
            limit,
            seq,
        };
        self.refusal = Some(refusal.clone());
        self.status.send_modify(|s| {
            s.refused += 1;
            s.last_refused = Some(refusal);
        });
        self.enqueue_status();
    }

    /// The `status` payload of this boot for `connection` in `state`, as of now.
    fn status_payload(&self, connection: u64, state: StoreState) -> Bytes {
        status_payload(
            self.settings.topics.store(),
            &self.settings.identity,
            connection,
            SystemTime::now(),
            state,
            self.committed_seq,
            self.refusal.as_ref(),
        )
    }

    /// Queues the current status (online, or disk full) for publishing.
    fn enqueue_status(&mut self) {
        let state = if self.disk_full {
            StoreState::DiskFull
        } else {
            StoreState::Online
        };
        let connection = self.status.borrow().connections;
        let payload = self.status_payload(connection, state);
        self.enqueue_retained(self.settings.topics.status(), payload);
    }

    /// A message on a command topic: bounded, never retained, parsed, then through the gate.
    async fn on_inbound(&mut self, topic: &[u8], payload: &[u8], retain: bool) {
        // Outside text reaches the log only through the one escaping rule.
        let shown = || -> String {
            let text: String = String::from_utf8_lossy(topic).chars().take(200).collect();
            tagtally_protocol::text::Escaped(&text).to_string()
        };
        let command = match parse_inbound(&self.settings.topics, topic, payload, retain) {
            Ok(Inbound::Snapshot(c)) => Command::Snapshot {
                request_id: c.request_id.map(|r| r.into_owned()),
            },
            Ok(Inbound::Replay(c)) => Command::Replay {
                from_seq: c.from_seq,
                to_seq: c.to_seq,
                request_id: c.request_id.map(|r| r.into_owned()),
            },
            Ok(Inbound::Sale(c)) => Command::Sale {
                epcs: c.epc_bytes(),
                request_ids: c.request_id.map(|r| r.into_owned()).into_iter().collect(),
            },
            Ok(Inbound::Expected(part)) => {
                self.status.send_modify(|s| s.inbound.book_parts += 1);
                let _ = self
                    .events
                    .send(UplinkEvent::BookPart(BookPart::from(part)))
                    .await;
                return;
            }
            // HQ removed a retained part: the book in force stays until a whole new one arrives.
            Err(InboundRefusal::Cleared) => return,
            Err(InboundRefusal::UnexpectedTopic) => {
                warn!(topic = %shown(), bytes = payload.len(), "ignored inbound message on an unexpected topic");
                self.status.send_modify(|s| s.inbound.malformed += 1);
                return;
            }
            Err(InboundRefusal::Retained) => {
                warn!(topic = %shown(), bytes = payload.len(), "ignored a retained command (commands must not be retained)");
                self.status.send_modify(|s| s.inbound.retained_ignored += 1);
                return;
            }
            Err(InboundRefusal::Malformed(e)) => {
                let bytes = payload.len().min(
                    MAX_COMMAND_BYTES
                        .max(MAX_SALE_BYTES)
                        .max(MAX_EXPECTED_PART_BYTES)
                        + 1,
                );
                warn!(topic = %shown(), bytes, error = %e, "dropped a malformed command");
                self.status.send_modify(|s| s.inbound.malformed += 1);
                return;
            }
        };
        self.status.send_modify(|s| match command {
            Command::Snapshot { .. } => s.inbound.snapshot_requests += 1,
            Command::Replay { .. } => s.inbound.replay_requests += 1,
            Command::Sale { .. } => s.inbound.sale_requests += 1,
        });
        self.gate.offer(command);
        self.serve_commands().await;
    }

    /// Hands the daemon the commands the gate lets through now.
    async fn serve_commands(&mut self) {
        let coalesced = self.gate.coalesced();
        let sale_epcs_dropped = self.gate.sale_epcs_dropped();
        self.status.send_modify(|s| {
            s.inbound.coalesced = coalesced;
            s.inbound.sale_epcs_dropped = sale_epcs_dropped;
        });
        for command in self.gate.due(std::time::Instant::now()) {
            let event = match command {
                Command::Snapshot { request_id } => {
                    info!(request_id, "snapshot requested by hq");
                    UplinkEvent::SnapshotRequested { request_id }
                }
                Command::Replay {
                    from_seq,
                    to_seq,
                    request_id,
                } => {
                    info!(from_seq, to_seq, request_id, "replay requested by hq");
                    UplinkEvent::ReplayRequested {
                        from_seq,
                        to_seq,
                        request_id,
                    }
                }
                Command::Sale { epcs, request_ids } => {
                    UplinkEvent::SaleRequested { epcs, request_ids }
                }
            };
            let _ = self.events.send(event).await;
        }
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
        if let Some(c) = inputs.committed {
            self.committed_seq = self.committed_seq.max(c);
        }
        if let Some(c) = inputs.epcis_committed {
            if self.epcis_cursor.is_none_or(|k| c > k) {
                self.epcis_dirty = true;
            }
        }
        let snapshot = inputs.snapshot.take();
        let readers = std::mem::take(&mut inputs.readers);
        let replays = std::mem::take(&mut inputs.replays);
        let count = inputs.count.take();
        let standing = std::mem::take(&mut inputs.standing);
        let disk_full = inputs.disk_full;
        self.shutdown |= inputs.shutdown;
        drop(inputs);
        if let Some(snapshot) = snapshot {
            self.snapshot = Some(PendingSnapshot::new(snapshot));
        }
        self.replays.extend(replays);
        if disk_full != self.disk_full {
            self.disk_full = disk_full;
            self.enqueue_status();
        }
        for (reader, payload) in readers {
            self.health.update(&reader, payload);
        }
        if let Some(count) = count {
            self.enqueue_retained(self.settings.topics.count(), count.clone());
            self.count_result = Some(count);
        }
        for (topic, payload) in standing {
            self.enqueue_retained(topic.clone(), payload.clone());
            if payload.is_empty() {
                // A clear needs no repeating once the topic holds nothing.
                self.standing.remove(&topic);
            } else {
                self.standing.insert(topic, payload);
            }
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
        let limit = self.packet_limit;
        for seq in retired.refused {
            let _ = self
                .events
                .send(UplinkEvent::Refused {
                    seq,
                    bytes: 0,
                    limit,
                })
                .await;
        }
        for (seq, bytes) in std::mem::take(&mut self.refused_deltas) {
            let _ = self
                .events
                .send(UplinkEvent::Refused { seq, bytes, limit })
                .await;
        }
        // Refusals first: an ack through a later seq would otherwise delete a refused message
        // before it is counted as dropped.
        let refused_epcis = retired
            .epcis_refused
            .into_iter()
            .map(|seq| (seq, 0))
            .chain(std::mem::take(&mut self.refused_epcis));
        for (seq, bytes) in refused_epcis {
            let _ = self
                .events
                .send(UplinkEvent::EpcisRefused { seq, bytes, limit })
                .await;
        }
        if let Some(seq) = retired.epcis {
            let _ = self.events.send(UplinkEvent::EpcisAcked(seq)).await;
        }
    }

    async fn set_state(&mut self, state: LinkState) {
        let changed = self.status.send_if_modified(|s| {
            let changed = s.state != state;
            if state != LinkState::Online {
                s.commands_subscribed = false;
            }
            s.state = state.clone();
            changed
        });
        if changed {
            let _ = self.events.send(UplinkEvent::Link(state)).await;
        }
    }

    fn log_down(&mut self, reason: &DownReason, delay: Duration) {
        let text = reason.to_string();
        let failures = self.backoff.attempts();
        if self.down_log.allow(&text, Instant::now().into_std()) {
            warn!(broker = %self.settings.broker, failures, retry_in_ms = delay.as_millis() as u64, "mqtt link down: {text}");
        } else {
            debug!(broker = %self.settings.broker, failures, retry_in_ms = delay.as_millis() as u64, "mqtt link still down: {text}");
        }
    }
}
