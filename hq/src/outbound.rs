//! A connection that only publishes (the HQ service's commands, the emulated fleet's
//! payloads), kept apart from the subscribing one so a stalled publish can never hold back an
//! acknowledgement. Each connection attempt gets a fresh client: rumqttc's in-memory
//! retransmission state would otherwise outlive a broker that forgot the session, and stall.
//! What was in flight when a connection died is lost; the callers repair that (gap requests
//! are asked again by backoff, a store's heartbeat exposes a lost delta).

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use std::net::SocketAddr;
use std::time::Duration;
use tagtally_config::Secret;
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
    /// Starts the connection task for `client_id` (clean start) to the broker at `host:port`.
    pub fn start(
        host: String,
        port: u16,
        client_id: String,
        credentials: Option<(String, Option<Secret>)>,
    ) -> (Outbound, JoinHandle<()>) {
        let (queue, mut pending) = mpsc::unbounded_channel::<Outgoing>();
        let task = tokio::spawn(async move {
            let mut wait = Duration::from_millis(100);
            loop {
                let mut options = MqttOptions::new(client_id.clone(), host.clone(), port);
                options.set_keep_alive(Duration::from_secs(10));
                if let Some((user, password)) = &credentials {
                    options.set_credentials(
                        user.clone(),
                        password.as_ref().map_or("", Secret::expose),
                    );
                }
                let (client, mut event_loop) = AsyncClient::new(options, 1024);
                loop {
                    tokio::select! {
                        event = event_loop.poll() => match event {
                            Ok(Event::Incoming(_)) => wait = Duration::from_millis(100),
                            Ok(Event::Outgoing(_)) => {}
                            Err(_) => break,
                        },
                        next = pending.recv() => match next {
                            Some(message) => {
                                // Full only when the broker stopped answering: that connection
                                // is about to fail, and the message goes with it.
                                let _ = client.try_publish(message.topic, QoS::AtLeastOnce, message.retain, message.payload);
                            }
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
        Outbound::start(
            address.ip().to_string(),
            address.port(),
            client_id.to_owned(),
            None,
        )
    }

    /// Queues a message (never blocks).
    pub fn send(&self, message: Outgoing) {
        let _ = self.queue.send(message);
    }
}
