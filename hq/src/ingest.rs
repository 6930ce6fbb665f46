//! From the broker to the database: one MQTT connection (5, or 3.1.1) with a persistent
//! session (an MQTT 5 shared subscription when a group is configured), messages batched, applied
//! in one transaction, and acknowledged only after that transaction committed (rumqttc manual
//! acks), in the order they were received.
//!
//! What is never acknowledged is redelivered by the broker: after a crash of this instance
//! (to this client id's session, or to another member of the group), after a lost connection,
//! and on purpose: a message read beyond `[apply] read-ahead-bytes` is left with the broker and
//! the connection is opened again once the applier has worked through what it kept
//! (`crate::handover`). A message is acknowledged only on the connection it came on: a resumed
//! session resends everything unacknowledged under the same packet ids, so acknowledging an old
//! copy as well as the new one would acknowledge one packet id twice, and mosquitto takes a
//! PUBACK for the first in-flight message with its id, which in a backlog of more than 65 535
//! messages can be another one. An old copy that was applied but not acknowledged comes again
//! and applies as a duplicate, which the apply rules ignore (one `hq_applied` row a seq).

use crate::broker::{open, BrokerOptions, Delivery, LinkClient, LinkEvent, LinkLoop, SessionKind};
use crate::db::{Applied, BatchApplier};
use crate::handover::Handover;
use crate::metrics::Metrics;
use crate::wire::{decode, topic_filters};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tagtally_config::HqMqtt;
use tokio::sync::{mpsc, watch};

/// First wait before reconnecting after a lost connection.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
/// Longest wait between reconnection attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(10);
/// What one waiting message costs besides its topic and payload.
const HANDOVER_ENTRY_BYTES: usize = 256;
/// Longest wait between retries of a batch the database could not take.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A message as received, with the connection it came on.
#[derive(Debug)]
pub struct Received {
    delivery: Delivery,
    connection: u64,
    at: Instant,
}

/// The connection acknowledgements go out on: its client and its number.
#[derive(Debug, Clone)]
pub struct Link {
    /// Counts connections; a message is acknowledged only on the one it came on.
    pub connection: u64,
    /// The current connection's client.
    pub client: LinkClient,
}

/// What a connection attempt needs: broker, session and flow-control window.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Where and how to connect.
    pub broker: BrokerOptions,
    /// `[mqtt]` (client id, group, prefix, session expiry, message bound).
    pub mqtt: HqMqtt,
    /// The receive maximum (MQTT 5).
    pub in_flight: u16,
    /// `[apply] read-ahead-bytes`: most bytes read from the broker waiting for the applier
    /// (payload, topic and a fixed cost per message).
    pub read_ahead_bytes: usize,
}

/// Builds the client and its event loop. The broker may hold up to `in_flight` messages
/// unacknowledged with us (MQTT 5 receive maximum), which bounds a batch's memory.
pub fn connect(settings: &ConnectionSettings) -> (LinkClient, LinkLoop) {
    let kind = SessionKind::Subscriber {
        session_expiry: settings.mqtt.session_expiry,
        receive_maximum: settings.in_flight,
        max_packet: settings.mqtt.max_message_bytes + 65_536,
    };
    // Room for every acknowledgement of several batches.
    let capacity = usize::from(settings.in_flight) * 8 + 64;
    open(&settings.broker, &settings.mqtt.client_id, kind, capacity)
}

/// The subscription filters: `$share/{group}/...` with a group, plain otherwise.
pub fn filters(mqtt: &HqMqtt) -> Vec<String> {
    topic_filters(&mqtt.topic_prefix)
        .into_iter()
        .map(|filter| match &mqtt.group {
            Some(group) => format!("$share/{group}/{filter}"),
            None => filter,
        })
        .collect()
}

/// How one connection ended.
enum Ended {
    /// Closed by us once what was read ahead was applied, to be sent what was left.
    OnPurpose,
    /// Lost (or never made): the broker, the network, a missed keep-alive.
    Lost,
}

/// Keeps a connection up forever, a fresh client per attempt (rumqttc would otherwise replay
/// acknowledgements queued for a dead connection on the next one, under packet ids that now
/// name other messages): subscribes after every connect and hands each message on with its
/// connection. `finished` is the applier's count of messages it is done with (applied, and
/// acknowledged where that was due). Ends when `to_applier` is closed.
pub async fn poll_connection(
    settings: ConnectionSettings,
    to_applier: mpsc::Sender<Received>,
    mut finished: watch::Receiver<u64>,
    link: watch::Sender<Option<Link>>,
    metrics: Arc<Metrics>,
) {
    let subscriptions = filters(&settings.mqtt);
    let mut wait = RECONNECT_MIN;
    let mut connection = 0;
    // Kept across lost connections: what waits here is applied; if the session resumed, the
    // broker sends it again and that copy is a duplicate, if not, this is the only copy.
    let mut handover = Handover::new(
        (settings.read_ahead_bytes / HANDOVER_ENTRY_BYTES).max(1),
        settings.read_ahead_bytes,
    );
    loop {
        let (client, mut event_loop) = connect(&settings);
        // Our DISCONNECT is queued behind the last acknowledgement.
        let mut closing = false;
        // Our DISCONNECT went out; until when we wait for the broker to close the connection.
        let mut closed_by = None;
        let ended = loop {
            let event = tokio::select! {
                // Hand over first, so what waits goes before anything newer.
                permit = to_applier.reserve(), if !handover.is_empty() => {
                    let Ok(permit) = permit else { return };
                    if let Some(received) = handover.pop() {
                        permit.send(received);
                    }
                    continue;
                }
                changed = finished.changed(),
                    if !closing && handover.leaving() && handover.is_empty() =>
                {
                    if changed.is_err() {
                        return;
                    }
                    if handover.drained(*finished.borrow_and_update()) {
                        // Every acknowledgement is queued by now, so it goes out before this.
                        match client.try_disconnect() {
                            Ok(()) => closing = true,
                            Err(error) => {
                                tracing::warn!(%error, "cannot close the connection");
                                break Ended::Lost;
                            }
                        }
                    }
                    continue;
                }
                // A broker that never closes after our DISCONNECT: closed from this side.
                () = until(closed_by) => break Ended::OnPurpose,
                // Always polled, at the bound too: pings, PINGRESPs and acknowledgements go
                // on whatever the applier's pace.
                event = event_loop.poll() => event,
            };
            match event {
                Ok(LinkEvent::Connected { session_present }) => {
                    connection += 1;
                    handover.connected();
                    tracing::info!(session_present, connection, "connected to the broker");
                    link.send_replace(Some(Link {
                        connection,
                        client: client.clone(),
                    }));
                    metrics.set_mqtt_connected(true);
                    wait = RECONNECT_MIN;
                    // A resumed session keeps the subscriptions this process made: subscribing
                    // again would make the broker re-send every retained status and snapshot of
                    // the fleet (MQTT 3.1.1 §3.8.4) on each reconnect, on purpose ones included.
                    // The first connection of a process always subscribes (the config may have
                    // changed what to subscribe to).
                    let resumed = session_present && connection > 1;
                    // Queued, not awaited: the event loop must keep running to send it.
                    if !resumed {
                        if let Err(error) = client.try_subscribe(&subscriptions) {
                            tracing::warn!(%error, "cannot subscribe");
                        }
                    }
                }
                Ok(LinkEvent::Message(delivery)) => {
                    let bytes =
                        delivery.payload().len() + delivery.topic().len() + HANDOVER_ENTRY_BYTES;
                    let received = Received {
                        delivery,
                        connection,
                        at: Instant::now(),
                    };
                    if handover.offer(received, bytes).is_err() {
                        // Neither kept nor acknowledged: the broker keeps it in our session.
                        metrics.left_with_broker();
                        continue;
                    }
                    // Handed over as far as the applier has room, without waiting: reading
                    // (and so the keep-alive) goes on.
                    while !handover.is_empty() {
                        match to_applier.try_reserve() {
                            Ok(permit) => {
                                if let Some(received) = handover.pop() {
                                    permit.send(received);
                                }
                            }
                            Err(mpsc::error::TrySendError::Full(())) => break,
                            Err(mpsc::error::TrySendError::Closed(())) => return,
                        }
                    }
                    metrics.handover(handover.len());
                }
                // Not closed from this side yet: closing a socket with unread data in it
                // resets the connection, and a broker may then drop what it had not read
                // yet (mosquitto does: the last acknowledgements, measured). The broker
                // closes once it has read our DISCONNECT, so everything before it too.
                Ok(LinkEvent::Closed) => {
                    closed_by = Some(tokio::time::Instant::now() + settings.broker.keep_alive);
                }
                Ok(LinkEvent::Other) => {}
                Err(_) if closed_by.is_some() => break Ended::OnPurpose,
                Err(error) => {
                    if metrics.mqtt_connected() {
                        metrics.connection_lost();
                        tracing::warn!(
                            %error,
                            handover_peak = handover.peak(),
                            "broker connection lost; reconnecting"
                        );
                    }
                    break Ended::Lost;
                }
            }
        };
        metrics.set_mqtt_connected(false);
        link.send_replace(None);
        // Gone before any wait, so an acknowledgement waiting for room in its queue fails
        // instead of waiting for a connection that is over.
        drop(event_loop);
        if to_applier.is_closed() {
            return;
        }
        match ended {
            Ended::OnPurpose => {
                metrics.reconnected_on_purpose();
                tracing::debug!(
                    connection,
                    "what was read ahead is applied; reconnecting for what was left"
                );
            }
            Ended::Lost => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RECONNECT_MAX);
            }
        }
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Batches, applies, commits, then acknowledges, until `from_broker` closes.
#[allow(clippy::too_many_arguments)]
pub async fn apply_loop(
    mut from_broker: mpsc::Receiver<Received>,
    mut link: watch::Receiver<Option<Link>>,
    finished: watch::Sender<u64>,
    applier: BatchApplier,
    prefix: String,
    max_message_bytes: usize,
    batch_max: usize,
    linger: Duration,
    metrics: Arc<Metrics>,
) {
    while let Some(first) = from_broker.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + linger;
        while batch.len() < batch_max {
            match tokio::time::timeout_at(deadline, from_broker.recv()).await {
                Ok(Some(received)) => batch.push(received),
                _ => break,
            }
        }
        let mut messages = Vec::with_capacity(batch.len());
        for received in &batch {
            metrics.received();
            match decode(
                &prefix,
                received.delivery.topic(),
                received.delivery.payload(),
                max_message_bytes,
            ) {
                Ok(message) => messages.push(message),
                Err(refusal) => {
                    metrics.refused(&refusal);
                    tracing::debug!(%refusal, "message refused");
                }
            }
        }
        let mut wait = Duration::from_millis(50);
        loop {
            match applier.apply(&messages).await {
                Ok(results) => {
                    metrics.batch(true);
                    for result in results {
                        match result {
                            Applied::Done(outcome) => metrics.outcome(outcome),
                            Applied::Refused => metrics.db_refused(),
                        }
                    }
                    break;
                }
                Err(error) => {
                    metrics.batch(false);
                    tracing::warn!(%error, messages = messages.len(), "batch not applied; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RETRY_MAX);
                }
            }
        }
        // Acknowledged once connected, on the connection each message came on; one that came
        // on an earlier connection is sent again by the broker if it still has it.
        let Ok(current) = link
            .wait_for(Option::is_some)
            .await
            .map(|link| link.clone())
        else {
            return;
        };
        for received in &batch {
            metrics.committed_after(received.at.elapsed());
            let Some(current) = current
                .as_ref()
                .filter(|c| c.connection == received.connection)
            else {
                continue;
            };
            // Waits for room in the request queue (the connection task polls it all the
            // time), so no acknowledgement is skipped and they leave in order; fails only when
            // that connection is over.
            match current.client.ack(&received.delivery).await {
                Ok(()) => metrics.acked(),
                Err(error) => tracing::debug!(%error, "acknowledgement not queued"),
            }
        }
        finished.send_modify(|count| *count += batch.len() as u64);
    }
}
