//! One MQTT connection of `tagtally hq`, MQTT 3.1.1 or 5, plain or TLS, behind one small
//! interface: the subscriber (persistent session, manual acknowledgements) and the command
//! publisher (clean start) both open theirs here.
//!
//! On 3.1.1 there is no shared subscription: every instance subscribes to every store's topics
//! and gets every message; the per-store row lock of the apply keeps each delta applied once.
//! There is no receive maximum either: the broker's own in-flight limit (mosquitto's
//! `max_inflight_messages`) bounds what is delivered unacknowledged.

use bytes::Bytes;
use rumqttc::v5 as mqtt5;
use std::sync::Arc;
use std::time::Duration;
use tagtally_config::{HqMqtt, MqttProtocol, Secret};

/// The rustls client configuration of `mqtts://` (see `tagtally_tls::client_config`).
pub type TlsConfig = Arc<rustls::ClientConfig>;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct BrokerOptions {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// MQTT version.
    pub protocol: MqttProtocol,
    /// TLS, for `mqtts://`.
    pub tls: Option<TlsConfig>,
    /// User name and password.
    pub credentials: Option<(String, Option<Secret>)>,
    /// Keep-alive.
    pub keep_alive: Duration,
}

impl BrokerOptions {
    /// The options of `[mqtt]`, with the TLS configuration built from its files.
    pub fn from_config(mqtt: &HqMqtt, tls: Option<TlsConfig>) -> BrokerOptions {
        BrokerOptions {
            host: mqtt.broker.address.host.clone(),
            port: mqtt.broker.address.port,
            protocol: mqtt.protocol,
            tls,
            credentials: mqtt
                .username
                .clone()
                .map(|user| (user, mqtt.password.clone())),
            keep_alive: mqtt.keep_alive,
        }
    }

    /// Plain MQTT 5 to `address`, without credentials (the tests' and bench's brokers).
    pub fn plain(address: std::net::SocketAddr) -> BrokerOptions {
        BrokerOptions {
            host: address.ip().to_string(),
            port: address.port(),
            protocol: MqttProtocol::V5,
            tls: None,
            credentials: None,
            keep_alive: Duration::from_secs(10),
        }
    }

    fn transport(&self) -> rumqttc::Transport {
        match &self.tls {
            Some(config) => rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(
                Arc::clone(config),
            )),
            None => rumqttc::Transport::tcp(),
        }
    }

    fn password(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_ref().map_or("", Secret::expose)))
    }
}

/// How the session is kept, for [`open`].
#[derive(Debug, Clone, Copy)]
pub enum SessionKind {
    /// A persistent session acknowledged by hand after commit: `session_expiry` (MQTT 5; on
    /// 3.1.1 the broker's own expiry applies), at most `receive_maximum` unacknowledged
    /// messages (MQTT 5 only), packets up to `max_packet` bytes accepted.
    Subscriber {
        /// MQTT 5 session expiry.
        session_expiry: Duration,
        /// MQTT 5 receive maximum.
        receive_maximum: u16,
        /// Largest packet accepted.
        max_packet: usize,
    },
    /// A clean session that only publishes.
    Publisher,
}

/// A message as delivered, of either version.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// MQTT 3.1.1.
    V311(rumqttc::Publish),
    /// MQTT 5.
    V5(mqtt5::mqttbytes::v5::Publish),
}

impl Delivery {
    /// The topic's bytes.
    pub fn topic(&self) -> &[u8] {
        match self {
            Delivery::V311(publish) => publish.topic.as_bytes(),
            Delivery::V5(publish) => &publish.topic,
        }
    }

    /// The payload.
    pub fn payload(&self) -> &Bytes {
        match self {
            Delivery::V311(publish) => &publish.payload,
            Delivery::V5(publish) => &publish.payload,
        }
    }
}

/// What the connection reports, reduced to what `tagtally hq` acts on.
// Nearly every event is a message, which moves on as it is: boxing it would cost an allocation
// per message to shrink the rare others.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum LinkEvent {
    /// CONNACK accepted; whether the broker resumed our session.
    Connected {
        /// The broker's session-present flag.
        session_present: bool,
    },
    /// A message on one of our subscriptions.
    Message(Delivery),
    /// Our DISCONNECT went out (after everything queued before it): the connection is over.
    Closed,
    /// Anything else.
    Other,
}

/// Why a request could not be queued or the connection ended.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LinkError(String);

/// The requesting half of a connection.
#[derive(Debug, Clone)]
pub enum LinkClient {
    /// MQTT 3.1.1.
    V311(rumqttc::AsyncClient),
    /// MQTT 5.
    V5(mqtt5::AsyncClient),
}

/// The event-loop half, polled by its one owner.
pub enum LinkLoop {
    /// MQTT 3.1.1.
    V311(Box<rumqttc::EventLoop>),
    /// MQTT 5.
    V5(Box<mqtt5::EventLoop>),
}

impl std::fmt::Debug for LinkLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkLoop::V311(_) => "LinkLoop::V311",
            LinkLoop::V5(_) => "LinkLoop::V5",
        })
    }
}

/// Builds a fresh client and event loop for `client_id`; `capacity` sizes the request queue.
pub fn open(
    options: &BrokerOptions,
    client_id: &str,
    kind: SessionKind,
    capacity: usize,
) -> (LinkClient, LinkLoop) {
    match options.protocol {
        MqttProtocol::V3_1_1 => {
            let mut o = rumqttc::MqttOptions::new(client_id, options.host.clone(), options.port);
            o.set_keep_alive(options.keep_alive)
                .set_transport(options.transport());
            if let Some((user, password)) = options.password() {
                o.set_credentials(user, password);
            }
            match kind {
                SessionKind::Subscriber { max_packet, .. } => {
                    o.set_clean_session(false)
                        .set_manual_acks(true)
                        .set_max_packet_size(max_packet, max_packet);
                }
                SessionKind::Publisher => {
                    o.set_clean_session(true);
                }
            }
            let (client, event_loop) = rumqttc::AsyncClient::new(o, capacity);
            (
                LinkClient::V311(client),
                LinkLoop::V311(Box::new(event_loop)),
            )
        }
        MqttProtocol::V5 => {
            let mut o = mqtt5::MqttOptions::new(client_id, options.host.clone(), options.port);
            o.set_keep_alive(options.keep_alive)
                .set_transport(options.transport());
            if let Some((user, password)) = options.password() {
                o.set_credentials(user, password);
            }
            match kind {
                SessionKind::Subscriber {
                    session_expiry,
                    receive_maximum,
                    max_packet,
                } => {
                    o.set_clean_start(false)
                        .set_session_expiry_interval(Some(
                            u32::try_from(session_expiry.as_secs()).unwrap_or(u32::MAX),
                        ))
                        .set_manual_acks(true)
                        .set_receive_maximum(Some(receive_maximum.max(1)))
                        // The broker drops anything larger for us instead of breaking the
                        // connection with it.
                        .set_max_packet_size(Some(u32::try_from(max_packet).unwrap_or(u32::MAX)));
                }
                SessionKind::Publisher => {
                    o.set_clean_start(true);
                }
            }
            let (client, event_loop) = mqtt5::AsyncClient::new(o, capacity);
            (LinkClient::V5(client), LinkLoop::V5(Box::new(event_loop)))
        }
    }
}

impl LinkClient {
    /// Queues the acknowledgement of `delivery`, waiting for room in the request queue (the
    /// event loop empties it while it is polled; once the event loop is gone this fails).
    /// Acknowledgements leave in the order they were queued.
    pub async fn ack(&self, delivery: &Delivery) -> Result<(), LinkError> {
        let result = match (self, delivery) {
            (LinkClient::V311(client), Delivery::V311(publish)) => {
                client.ack(publish).await.map_err(|e| e.to_string())
            }
            (LinkClient::V5(client), Delivery::V5(publish)) => {
                client.ack(publish).await.map_err(|e| e.to_string())
            }
            _ => Err("delivery of another protocol version".to_owned()),
        };
        result.map_err(LinkError)
    }

    /// Queues a DISCONNECT (normal, the session kept) behind everything queued before it,
    /// without waiting; the event loop reports [`LinkEvent::Closed`] once it went out.
    pub fn try_disconnect(&self) -> Result<(), LinkError> {
        match self {
            LinkClient::V311(client) => client.try_disconnect().map_err(|e| e.to_string()),
            LinkClient::V5(client) => client.try_disconnect().map_err(|e| e.to_string()),
        }
        .map_err(LinkError)
    }

    /// Queues a subscription to `filters` at QoS 1 without waiting.
    pub fn try_subscribe(&self, filters: &[String]) -> Result<(), LinkError> {
        match self {
            LinkClient::V311(client) => client
                .try_subscribe_many(filters.iter().map(|filter| {
                    rumqttc::SubscribeFilter::new(filter.clone(), rumqttc::QoS::AtLeastOnce)
                }))
                .map_err(|e| LinkError(e.to_string())),
            LinkClient::V5(client) => client
                .try_subscribe_many(filters.iter().map(|filter| {
                    mqtt5::mqttbytes::v5::Filter::new(
                        filter.clone(),
                        mqtt5::mqttbytes::QoS::AtLeastOnce,
                    )
                }))
                .map_err(|e| LinkError(e.to_string())),
        }
    }

    /// Queues a QoS 1 publish without waiting.
    pub fn try_publish(
        &self,
        topic: String,
        payload: Vec<u8>,
        retain: bool,
    ) -> Result<(), LinkError> {
        match self {
            LinkClient::V311(client) => client
                .try_publish(topic, rumqttc::QoS::AtLeastOnce, retain, payload)
                .map_err(|e| LinkError(e.to_string())),
            LinkClient::V5(client) => client
                .try_publish(topic, mqtt5::mqttbytes::QoS::AtLeastOnce, retain, payload)
                .map_err(|e| LinkError(e.to_string())),
        }
    }
}

impl LinkLoop {
    /// Drives the connection until its next event; an error ends this connection.
    pub async fn poll(&mut self) -> Result<LinkEvent, LinkError> {
        match self {
            LinkLoop::V311(event_loop) => {
                match event_loop
                    .poll()
                    .await
                    .map_err(|e| LinkError(e.to_string()))?
                {
                    rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(ack)) => {
                        Ok(LinkEvent::Connected {
                            session_present: ack.session_present,
                        })
                    }
                    rumqttc::Event::Incoming(rumqttc::Packet::Publish(publish)) => {
                        Ok(LinkEvent::Message(Delivery::V311(publish)))
                    }
                    rumqttc::Event::Outgoing(rumqttc::Outgoing::Disconnect) => {
                        Ok(LinkEvent::Closed)
                    }
                    _ => Ok(LinkEvent::Other),
                }
            }
            LinkLoop::V5(event_loop) => {
                match event_loop
                    .poll()
                    .await
                    .map_err(|e| LinkError(e.to_string()))?
                {
                    mqtt5::Event::Incoming(mqtt5::Incoming::ConnAck(ack)) => {
                        Ok(LinkEvent::Connected {
                            session_present: ack.session_present,
                        })
                    }
                    mqtt5::Event::Incoming(mqtt5::Incoming::Publish(publish)) => {
                        Ok(LinkEvent::Message(Delivery::V5(publish)))
                    }
                    mqtt5::Event::Outgoing(rumqttc::Outgoing::Disconnect) => Ok(LinkEvent::Closed),
                    _ => Ok(LinkEvent::Other),
                }
            }
        }
    }
}
