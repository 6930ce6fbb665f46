//! From the broker to the database: one MQTT connection (5, or 3.1.1) with a persistent
//! session (an MQTT 5 shared subscription when a group is configured), messages batched, applied
//! in one transaction, and acknowledged only after that transaction committed (rumqttc manual
//! acks).
//!
//! What is never acknowledged is redelivered by the broker: after a crash of this instance
//! (to this client id's session, or to another member of the group). Across a reconnect that
//! resumed the session, packet ids keep naming the same messages, so what was applied is
//! acknowledged on the new connection; after a reconnect to a new session nothing old is
//! acknowledged. Applying a message twice is a duplicate, which the apply rules ignore.

use crate::broker::{open, BrokerOptions, Delivery, LinkClient, LinkEvent, LinkLoop, SessionKind};
use crate::db::{Applied, BatchApplier};
use crate::handover::Handover;
use crate::metrics::Metrics;
use crate::wire::{decode, topic_filters};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tagtally_config::HqMqtt;
use tokio::sync::{mpsc, watch};

/// Longest wait between reconnection attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(10);
/// Bytes that may wait for the applier (payload, topic and [`HANDOVER_ENTRY_BYTES`] each). Not
/// a multiple of the receive maximum: mosquitto 2.0 resuming a session with a backlog delivers
/// far beyond it (measured: 1 024 waiting with a receive maximum of 16).
const HANDOVER_MAX_BYTES: usize = 64 * 1024 * 1024;
/// What one waiting message costs besides its topic and payload.
const HANDOVER_ENTRY_BYTES: usize = 256;
/// Longest wait between retries of a batch the database could not take.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A message as received, with the broker session it belongs to.
#[derive(Debug)]
pub struct Received {
    delivery: Delivery,
    session: u64,
    at: Instant,
}

/// The connection acknowledgements go out on: its client and the broker session it resumed.
/// A packet id names the same message for as long as the session lasts, across reconnects
/// (the broker resends unacknowledged messages under their ids), so a message is acknowledged
/// on whatever connection is current, as long as it is still the session that delivered it.
#[derive(Debug, Clone)]
pub struct Link {
    /// Counts sessions: a new one whenever the broker answered `session_present = false`.
    pub session: u64,
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
}

/// Builds the client and its event loop. The broker may hold up to `in_flight` messages
/// unacknowledged with us (MQTT 5 receive maximum), which bounds a batch's memory.
pub fn connect(settings: &ConnectionSettings) -> (LinkClient, LinkLoop) {
    let kind = SessionKind::Subscriber {
        session_expiry: settings.mqtt.session_expiry,
        receive_maximum: settings.in_flight,
        max_packet: settings.mqtt.max_message_bytes + 65_536,
    };
    // Room for every acknowledgement of several batches, so queueing one never fails in practice.
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

/// Keeps a connection up forever, a fresh client per attempt (rumqttc would otherwise replay
/// acknowledgements queued for a dead connection on the next one, under packet ids that now
/// name other messages): subscribes after every connect and hands each message on with its
/// connection. Ends when `to_applier` is closed.
pub async fn poll_connection(
    settings: ConnectionSettings,
    to_applier: mpsc::Sender<Received>,
    link: watch::Sender<Option<Link>>,
    metrics: Arc<Metrics>,
) {
    let subscriptions = filters(&settings.mqtt);
    let mut wait = Duration::from_millis(100);
    let mut session = 0;
    // Kept across reconnects: if the session resumed, what waits here can still be applied and
    // acknowledged; if not, applying it again is a duplicate.
    let mut handover = Handover::new(
        HANDOVER_MAX_BYTES / HANDOVER_ENTRY_BYTES,
        HANDOVER_MAX_BYTES,
    );
    loop {
        let (client, mut event_loop) = connect(&settings);
        loop {
            let event = tokio::select! {
                // Hand over first, so what waits goes before anything newer.
                permit = to_applier.reserve(), if !handover.is_empty() => {
                    let Ok(permit) = permit else { return };
                    if let Some(received) = handover.pop() {
                        permit.send(received);
                    }
                    continue;
                }
                event = event_loop.poll(), if handover.has_room() => event,
            };
            match event {
                Ok(LinkEvent::Connected { session_present }) => {
                    if !session_present {
                        session += 1;
                    }
                    tracing::info!(session_present, session, "connected to the broker");
                    link.send_replace(Some(Link {
                        session,
                        client: client.clone(),
                    }));
                    metrics.set_mqtt_connected(true);
                    wait = Duration::from_millis(100);
                    // Queued, not awaited: the event loop must keep running to send it.
                    if let Err(error) = client.try_subscribe(&subscriptions) {
                        tracing::warn!(%error, "cannot subscribe");
                    }
                }
                Ok(LinkEvent::Message(delivery)) => {
                    let bytes =
                        delivery.payload().len() + delivery.topic().len() + HANDOVER_ENTRY_BYTES;
                    let received = Received {
                        delivery,
                        session,
                        at: Instant::now(),
                    };
                    // Never waits: a full applier queue leaves the message in the handover,
                    // and reading (and so the keep-alive) goes on.
                    if handover.is_empty() {
                        match to_applier.try_send(received) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(received)) => {
                                handover.push(received, bytes);
                                metrics.handover(handover.len());
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => return,
                        }
                    } else {
                        handover.push(received, bytes);
                        metrics.handover(handover.len());
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    if metrics.mqtt_connected() {
                        tracing::warn!(
                            %error,
                            handover_peak = handover.peak(),
                            "broker connection lost; reconnecting"
                        );
                    }
                    metrics.set_mqtt_connected(false);
                    link.send_replace(None);
                    break;
                }
            }
        }
        if to_applier.is_closed() {
            return;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RECONNECT_MAX);
    }
}

/// Batches, applies, commits, then acknowledges, until `from_broker` closes.
#[allow(clippy::too_many_arguments)]
pub async fn apply_loop(
    mut from_broker: mpsc::Receiver<Received>,
    mut link: watch::Receiver<Option<Link>>,
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
        // Acknowledged once connected again, if the session survived; a new session has
        // forgotten these packet ids and redelivers nothing of them.
        let Ok(current) = link
            .wait_for(Option::is_some)
            .await
            .map(|link| link.clone())
        else {
            return;
        };
        let Some(current) = current else {
            continue;
        };
        for received in batch {
            metrics.committed_after(received.at.elapsed());
            if received.session != current.session {
                continue;
            }
            // Queued without waiting: the event loop may be waiting for this task to take the
            // next message. An ack that finds the queue full is not sent; the broker then
            // delivers that message again after a reconnect, which applies as a duplicate.
            match current.client.try_ack(&received.delivery) {
                Ok(()) => metrics.acked(),
                Err(error) => tracing::debug!(%error, "acknowledgement not queued"),
            }
        }
    }
}
