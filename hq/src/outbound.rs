//! A connection that only publishes (the HQ service's commands, the emulated fleet's
//! payloads), kept apart from the subscribing one so a stalled publish can never hold back an
//! acknowledgement. Each connection attempt gets a fresh client: rumqttc's in-memory
//! retransmission state would otherwise outlive a broker that forgot the session, and stall.
//! What was in flight when a connection died is lost; the callers repair that (gap requests
//! are asked again by backoff, a store's heartbeat exposes a lost delta). A burst larger than
//! rumqttc's request queue waits in this connection's own queue instead.

use crate::broker::{open, BrokerOptions, LinkEvent, SessionKind};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One message to publish at QoS 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// Retained.
    pub retain: bool,
}

/// The sending half; the connection task ends when every sender is dropped.
#[derive(Debug, Clone)]
pub struct Outbound {
    queue: mpsc::UnboundedSender<Outgoing>,
}

impl Outbound {
    /// Starts the connection task for `client_id` (clean start) to the broker of `options`.
    pub fn start(options: BrokerOptions, client_id: String) -> (Outbound, JoinHandle<()>) {
        let (queue, mut pending) = mpsc::unbounded_channel::<Outgoing>();
        let task = tokio::spawn(async move {
            let mut wait = Duration::from_millis(100);
            // A message rumqttc's request queue had no room for (its in-flight window is full
            // until the broker acknowledges): offered again after each event, and nothing more
            // is taken from `pending` meanwhile, so a burst waits instead of being dropped.
            let mut held: Option<Outgoing> = None;
            loop {
                let (client, mut event_loop) =
                    open(&options, &client_id, SessionKind::Publisher, 1024);
                let offer = |message: Outgoing| {
                    let sent = client.try_publish(
                        message.topic.clone(),
                        message.payload.clone(),
                        message.retain,
                    );
                    sent.is_err().then_some(message)
                };
                loop {
                    if let Some(message) = held.take() {
                        held = offer(message);
                    }
                    tokio::select! {
                        event = event_loop.poll() => match event {
                            Ok(LinkEvent::Connected { .. }) => wait = Duration::from_millis(100),
                            Ok(_) => {}
                            Err(_) => break,
                        },
                        next = pending.recv(), if held.is_none() => match next {
                            Some(message) => held = offer(message),
                            None => return,
                        },
                    }
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        });
        (Outbound { queue }, task)
    }

    /// Starts one to a broker at `address`, without credentials.
    pub fn start_to(address: SocketAddr, client_id: &str) -> (Outbound, JoinHandle<()>) {
        Outbound::start(BrokerOptions::plain(address), client_id.to_owned())
    }

    /// Queues a message (never blocks).
    pub fn send(&self, message: Outgoing) {
        let _ = self.queue.send(message);
    }
}
