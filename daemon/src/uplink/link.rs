//! One MQTT connection attempt over rumqttc, MQTT 3.1.1 or 5 behind one small interface.
//!
//! The task builds a fresh client and event loop for every attempt and throws both away when the
//! connection ends: rumqttc's own retransmission queue is memory-only and would re-send with the
//! packet ids of a dead connection, while ours (the outbox plus the in-flight window) re-sends the
//! same bytes under fresh ids. One owner of retransmission is what keeps the pkid map correct.
//!
//! Errors are translated into a [`DownReason`] that says what to check (ca-file, password, port).

use std::sync::Arc;

use bytes::Bytes;
use rumqttc::v5 as mqtt5;
use rustls::ClientConfig;

use crate::uplink::settings::{Protocol, UplinkSettings, MQTT_MAX_PACKET};
use crate::uplink::status::DownReason;

/// What the connection reports, reduced to what the uplink acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// CONNACK accepted; MQTT 5 brokers may announce their Maximum Packet Size.
    Connected {
        /// The broker's Maximum Packet Size, if it announced one.
        max_packet: Option<u32>,
    },
    /// A QoS 1 publish was written with this packet id (in hand-over order).
    Published(u16),
    /// PUBACK for a packet id; `rejected` holds an MQTT 5 failure reason.
    PubAck {
        /// Packet id.
        pkid: u16,
        /// MQTT 5 reason code name when the broker refused the message.
        rejected: Option<String>,
    },
    /// An inbound publish on one of our subscriptions.
    Inbound {
        /// Topic it arrived on (raw bytes: only compared, never trusted as text).
        topic: Bytes,
        /// The payload (bounded by the inbound packet limit; see `settings::inbound_packet_limit`).
        payload: Bytes,
        /// The retain flag: a retained command is never carried out.
        retain: bool,
    },
    /// SUBACK for our command subscriptions: how many filters the broker refused (an ACL, or a
    /// broker without wildcard support).
    SubAck {
        /// Filters refused.
        refused: usize,
    },
    /// Our DISCONNECT went out (graceful shutdown).
    Disconnected,
    /// Anything else (pings, suback, our own outgoing acks).
    Other,
}

/// The publishing half of a connection.
#[derive(Debug, Clone)]
pub enum LinkClient {
    /// MQTT 3.1.1.
    V311(rumqttc::AsyncClient),
    /// MQTT 5.
    V5(mqtt5::AsyncClient),
}

/// The event-loop half of a connection, to be polled by its one owner.
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

/// Builds client and event loop for one attempt. `pkid_space` bounds rumqttc's packet ids and its
/// own in-flight limit; `capacity` sizes the request channel (the task never exceeds it);
/// `offline` is the last will (the `offline` status of this connection).
pub fn open(
    settings: &UplinkSettings,
    tls: Option<&Arc<ClientConfig>>,
    pkid_space: u16,
    capacity: usize,
    offline: &Bytes,
) -> (LinkClient, LinkLoop) {
    let broker = &settings.broker;
    let status_topic = settings.topics.status();
    let transport = match tls {
        Some(config) => rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(
            Arc::clone(config),
        )),
        None => rumqttc::Transport::tcp(),
    };
    let timeout_secs = settings.connect_timeout.as_secs().max(1);
    match settings.protocol {
        Protocol::V311 => {
            let mut o = rumqttc::MqttOptions::new(
                settings.client_id.clone(),
                broker.address.host.clone(),
                broker.address.port,
            );
            o.set_keep_alive(settings.keep_alive)
                // Our outbox owns retransmission, so the broker need keep nothing for us.
                .set_clean_session(true)
                .set_last_will(rumqttc::LastWill::new(
                    status_topic,
                    offline.to_vec(),
                    rumqttc::QoS::AtLeastOnce,
                    true,
                ))
                .set_transport(transport)
                .set_inflight(pkid_space)
                .set_max_packet_size(settings.max_incoming_packet, MQTT_MAX_PACKET);
            if let Some(c) = &settings.credentials {
                o.set_credentials(c.username.clone(), c.password.expose());
            }
            let (client, mut eventloop) = rumqttc::AsyncClient::new(o, capacity);
            let mut net = eventloop.network_options();
            net.set_connection_timeout(timeout_secs);
            eventloop.set_network_options(net);
            (
                LinkClient::V311(client),
                LinkLoop::V311(Box::new(eventloop)),
            )
        }
        Protocol::V5 => {
            let mut o = mqtt5::MqttOptions::new(
                settings.client_id.clone(),
                broker.address.host.clone(),
                broker.address.port,
            );
            o.set_keep_alive(settings.keep_alive)
                // Clean start with no session expiry: the broker drops our session on
                // disconnect and holds no state for a store that never comes back.
                .set_clean_start(true)
                .set_session_expiry_interval(None)
                .set_last_will(mqtt5::mqttbytes::v5::LastWill::new(
                    status_topic,
                    offline.to_vec(),
                    mqtt5::mqttbytes::QoS::AtLeastOnce,
                    true,
                    None,
                ))
                .set_transport(transport)
                .set_outgoing_inflight_upper_limit(pkid_space)
                .set_max_packet_size(u32::try_from(settings.max_incoming_packet).ok())
                .set_connection_timeout(timeout_secs);
            if let Some(c) = &settings.credentials {
                o.set_credentials(c.username.clone(), c.password.expose());
            }
            let (client, eventloop) = mqtt5::AsyncClient::new(o, capacity);
            (LinkClient::V5(client), LinkLoop::V5(Box::new(eventloop)))
        }
    }
}

/// The request channel refused a request: the task sized it wrong or the loop is gone.
#[derive(Debug, thiserror::Error)]
#[error("mqtt client refused a request: {0}")]
pub struct RequestError(String);

impl LinkClient {
    /// Hands a QoS 1 publish to the event loop without waiting.
    pub fn publish(&self, topic: &str, payload: &Bytes, retain: bool) -> Result<(), RequestError> {
        match self {
            LinkClient::V311(c) => c
                .try_publish(topic, rumqttc::QoS::AtLeastOnce, retain, payload.to_vec())
                .map_err(|e| RequestError(e.to_string())),
            LinkClient::V5(c) => c
                .try_publish(
                    topic,
                    mqtt5::mqttbytes::QoS::AtLeastOnce,
                    retain,
                    payload.to_vec(),
                )
                .map_err(|e| RequestError(e.to_string())),
        }
    }

    /// Subscribes to inbound topics at QoS 1 without waiting; each filter says whether its
    /// retained messages are wanted (HQ's book stock) or not (commands). On MQTT 5 the broker is
    /// asked not to send retained commands (Retain Handling 2); on 3.1.1 it sends them and the
    /// task ignores them by their retain flag.
    pub fn subscribe_commands(&self, filters: &[(String, bool)]) -> Result<(), RequestError> {
        match self {
            LinkClient::V311(c) => c
                .try_subscribe_many(filters.iter().map(|(f, _)| {
                    rumqttc::SubscribeFilter::new(f.clone(), rumqttc::QoS::AtLeastOnce)
                }))
                .map_err(|e| RequestError(e.to_string())),
            LinkClient::V5(c) => c
                .try_subscribe_many(filters.iter().map(|(f, retained)| {
                    let mut filter = mqtt5::mqttbytes::v5::Filter::new(
                        f.clone(),
                        mqtt5::mqttbytes::QoS::AtLeastOnce,
                    );
                    filter.retain_forward_rule = if *retained {
                        mqtt5::mqttbytes::v5::RetainForwardRule::OnEverySubscribe
                    } else {
                        mqtt5::mqttbytes::v5::RetainForwardRule::Never
                    };
                    filter
                }))
                .map_err(|e| RequestError(e.to_string())),
        }
    }

    /// Asks for a clean DISCONNECT (no last will) without waiting.
    pub fn disconnect(&self) -> Result<(), RequestError> {
        match self {
            LinkClient::V311(c) => c.try_disconnect().map_err(|e| RequestError(e.to_string())),
            LinkClient::V5(c) => c.try_disconnect().map_err(|e| RequestError(e.to_string())),
        }
    }
}

impl LinkLoop {
    /// Next event; an error ends this connection (the caller drops the loop and backs off).
    /// `established` says whether this connection got its CONNACK: a broker hanging up on a link
    /// that never got one may be a TLS listener, one that worked is not, and the reason says so
    /// only when it can apply. Cancel-safe as rumqttc's `poll` is: a cancelled call loses no event.
    pub async fn poll(
        &mut self,
        settings: &UplinkSettings,
        established: bool,
    ) -> Result<LinkEvent, DownReason> {
        let why = Why {
            s: settings,
            established,
        };
        match self {
            LinkLoop::V311(l) => match l.poll().await {
                Ok(event) => Ok(v311_event(event)),
                Err(e) => Err(v311_error(e, &why)),
            },
            LinkLoop::V5(l) => match l.poll().await {
                Ok(event) => Ok(v5_event(event)),
                Err(e) => Err(v5_error(e, &why)),
            },
        }
    }
}

fn v311_event(event: rumqttc::Event) -> LinkEvent {
    use rumqttc::{Event, Outgoing, Packet};
    match event {
        Event::Incoming(Packet::ConnAck(_)) => LinkEvent::Connected { max_packet: None },
        Event::Incoming(Packet::PubAck(ack)) => LinkEvent::PubAck {
            pkid: ack.pkid,
            rejected: None,
        },
        Event::Incoming(Packet::Publish(p)) => LinkEvent::Inbound {
            topic: Bytes::from(p.topic.into_bytes()),
            payload: p.payload,
            retain: p.retain,
        },
        Event::Incoming(Packet::SubAck(ack)) => LinkEvent::SubAck {
            refused: ack
                .return_codes
                .iter()
                .filter(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                .count(),
        },
        Event::Outgoing(Outgoing::Publish(pkid)) => LinkEvent::Published(pkid),
        Event::Outgoing(Outgoing::Disconnect) => LinkEvent::Disconnected,
        _ => LinkEvent::Other,
    }
}

fn v5_event(event: mqtt5::Event) -> LinkEvent {
    use mqtt5::mqttbytes::v5::{Packet, PubAckReason};
    use mqtt5::Event;
    use rumqttc::Outgoing;
    match event {
        Event::Incoming(Packet::ConnAck(ack)) => LinkEvent::Connected {
            max_packet: ack.properties.and_then(|p| p.max_packet_size),
        },
        Event::Incoming(Packet::PubAck(ack)) => LinkEvent::PubAck {
            pkid: ack.pkid,
            rejected: match ack.reason {
                PubAckReason::Success | PubAckReason::NoMatchingSubscribers => None,
                other => Some(format!("{other:?}")),
            },
        },
        Event::Incoming(Packet::Publish(p)) => LinkEvent::Inbound {
            topic: p.topic,
            payload: p.payload,
            retain: p.retain,
        },
        Event::Incoming(Packet::SubAck(ack)) => LinkEvent::SubAck {
            refused: ack
                .return_codes
                .iter()
                .filter(|c| !matches!(c, mqtt5::mqttbytes::v5::SubscribeReasonCode::Success(_)))
                .count(),
        },
        Event::Outgoing(Outgoing::Publish(pkid)) => LinkEvent::Published(pkid),
        Event::Outgoing(Outgoing::Disconnect) => LinkEvent::Disconnected,
        _ => LinkEvent::Other,
    }
}

fn v311_error(e: rumqttc::ConnectionError, why: &Why<'_>) -> DownReason {
    let s = why.s;
    use rumqttc::{ConnectReturnCode as C, ConnectionError as E, StateError};
    match e {
        E::Io(io) => io_reason(&io, why),
        E::Tls(tls) => tls_reason(&tls, why),
        E::NetworkTimeout | E::FlushTimeout => DownReason::Timeout,
        E::ConnectionRefused(code) => DownReason::Refused(match code {
            C::BadUserNamePassword => refused_credentials(s, "bad username or password"),
            C::NotAuthorized => refused_credentials(s, "not authorized"),
            C::BadClientId => format!("client id {:?} rejected", s.client_id),
            C::RefusedProtocolVersion => {
                "mqtt 3.1.1 not accepted (try protocol = \"5\")".to_owned()
            }
            other => format!("{other:?}"),
        }),
        E::MqttState(StateError::AwaitPingResp) => DownReason::KeepAlive,
        E::MqttState(StateError::Io(io)) => io_reason(&io, why),
        E::MqttState(StateError::ConnectionAborted) => {
            io_reason(&std::io::ErrorKind::UnexpectedEof.into(), why)
        }
        // TLS 1.3 reports a refused client certificate after the handshake, on the first read.
        E::MqttState(StateError::Deserialization(rumqttc::Error::Io(io))) => io_reason(&io, why),
        E::MqttState(state) => protocol_reason(&state.to_string(), why),
        E::NotConnAck(packet) => protocol_reason(&format!("expected connack, got {packet:?}"), why),
        E::RequestsDone => DownReason::Protocol("request channel closed".to_owned()),
    }
}

fn v5_error(e: mqtt5::ConnectionError, why: &Why<'_>) -> DownReason {
    let s = why.s;
    use mqtt5::mqttbytes::v5::ConnectReturnCode as C;
    use mqtt5::{ConnectionError as E, StateError};
    match e {
        E::Io(io) => io_reason(&io, why),
        E::Tls(tls) => tls_reason(&tls, why),
        E::Timeout(_) => DownReason::Timeout,
        E::ConnectionRefused(code) => DownReason::Refused(match code {
            C::BadUserNamePassword => refused_credentials(s, "bad username or password"),
            C::NotAuthorized => refused_credentials(s, "not authorized"),
            C::ClientIdentifierNotValid | C::BadClientId => {
                format!("client id {:?} rejected", s.client_id)
            }
            C::UnsupportedProtocolVersion | C::RefusedProtocolVersion => {
                "mqtt 5 not accepted (try protocol = \"3.1.1\")".to_owned()
            }
            other => format!("{other:?}"),
        }),
        E::MqttState(StateError::AwaitPingResp) => DownReason::KeepAlive,
        E::MqttState(StateError::Io(io)) => io_reason(&io, why),
        E::MqttState(StateError::ConnectionAborted) => {
            io_reason(&std::io::ErrorKind::UnexpectedEof.into(), why)
        }
        E::MqttState(StateError::Deserialization(mqtt5::mqttbytes::Error::Io(io))) => {
            io_reason(&io, why)
        }
        E::MqttState(state) => protocol_reason(&state.to_string(), why),
        E::NotConnAck(packet) => protocol_reason(&format!("expected connack, got {packet:?}"), why),
        E::RequestsDone => DownReason::Protocol("request channel closed".to_owned()),
    }
}

fn refused_credentials(s: &UplinkSettings, what: &str) -> String {
    match &s.credentials {
        Some(c) => format!(
            "{what} (user {:?}; check username and password-file)",
            c.username
        ),
        None => format!("{what} (no username configured; the broker may require one)"),
    }
}

/// What a link-down reason is worded from: the settings, and whether the connection had worked.
struct Why<'a> {
    s: &'a UplinkSettings,
    established: bool,
}

impl Why<'_> {
    /// A plain connection that a broker hangs up on or answers with garbage before CONNACK may
    /// have reached a TLS listener; after a CONNACK the scheme was right, so no hint.
    fn scheme_hint(&self) -> &'static str {
        if self.s.broker.tls || self.established {
            ""
        } else {
            " (if this port speaks tls, use an mqtts:// url)"
        }
    }
}

/// A garbled answer right after connecting usually means the URL scheme does not match the port.
fn protocol_reason(detail: &str, why: &Why<'_>) -> DownReason {
    DownReason::Protocol(format!("{}{}", lower_first(detail), why.scheme_hint()))
}

fn io_reason(io: &std::io::Error, why: &Why<'_>) -> DownReason {
    let s = why.s;
    // tokio-rustls reports handshake failures as io errors wrapping the rustls error.
    if let Some(tls) = io
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return DownReason::Tls(rustls_reason(tls, s));
    }
    let what = match io.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::UnexpectedEof
        | std::io::ErrorKind::ConnectionAborted => {
            // A TLS listener hangs up on a plaintext CONNECT: say which scheme would fit.
            let hint = why.scheme_hint();
            let how = if io.kind() == std::io::ErrorKind::ConnectionReset {
                "reset"
            } else {
                "closed"
            };
            format!("connection {how} by the broker{hint}")
        }
        _ => lower_first(&io.to_string()),
    };
    DownReason::Network(format!("{}: {what}", s.broker))
}

fn tls_reason(e: &rumqttc::TlsError, why: &Why<'_>) -> DownReason {
    let s = why.s;
    match e {
        rumqttc::TlsError::Io(io) => match io.kind() {
            // A peer that hangs up on a ClientHello is almost always a plaintext listener.
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                DownReason::Tls(format!(
                    "{}:{} closed the connection during the tls handshake (plaintext port? then use an mqtt:// url)",
                    s.broker.address.host, s.broker.address.port
                ))
            }
            _ => io_reason(io, why),
        },
        rumqttc::TlsError::TLS(tls) => DownReason::Tls(rustls_reason(tls, s)),
        rumqttc::TlsError::DNSName(_) | rumqttc::TlsError::Addr(_) => DownReason::Tls(format!(
            "host {:?} is not a valid tls server name",
            s.broker.address.host
        )),
        other => DownReason::Tls(lower_first(&other.to_string())),
    }
}

fn rustls_reason(e: &rustls::Error, s: &UplinkSettings) -> String {
    use rustls::{AlertDescription as A, CertificateError as CE, Error as R};
    let host = &s.broker.address.host;
    match e {
        R::InvalidCertificate(CE::UnknownIssuer) => format!(
            "the certificate of {host} is not signed by a trusted ca ({})",
            match s.tls.as_ref().and_then(|tls| tls.files.ca_file.as_ref()) {
                Some(p) => format!("check ca-file {}", p.display()),
                None => "no ca-file given, system roots used".to_owned(),
            }
        ),
        R::InvalidCertificate(CE::NotValidForName)
        | R::InvalidCertificate(CE::NotValidForNameContext { .. }) => {
            format!("the broker's certificate is not valid for host {host}")
        }
        R::InvalidCertificate(CE::Expired) | R::InvalidCertificate(CE::ExpiredContext { .. }) => {
            format!("the certificate of {host} has expired")
        }
        R::InvalidMessage(_) => format!(
            "{}:{} did not answer with tls (plaintext port? then use an mqtt:// url)",
            host, s.broker.address.port
        ),
        R::AlertReceived(A::CertificateRequired) => {
            "the broker requires a client certificate (set client-cert and client-key)".to_owned()
        }
        R::AlertReceived(
            A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::DecryptError,
        ) => "the broker rejected our client certificate (check client-cert and client-key)"
            .to_owned(),
        other => lower_first(&other.to_string()),
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> UplinkSettings {
        UplinkSettings::new("s1", tagtally_config::BrokerUrl::parse(url).unwrap(), "p")
    }

    #[test]
    fn tls_failures_say_what_to_check() {
        let s = settings("mqtts://broker.example:8883");
        let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(
            rustls_reason(&unknown, &s),
            "the certificate of broker.example is not signed by a trusted ca (no ca-file given, system roots used)"
        );
        let plain = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert!(rustls_reason(&plain, &s).contains("plaintext port"));
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, unknown);
        let why = Why {
            s: &s,
            established: false,
        };
        assert!(matches!(io_reason(&io, &why), DownReason::Tls(_)));
    }

    #[test]
    fn refusals_name_the_user() {
        let mut s = settings("mqtt://b");
        s.credentials = Some(crate::uplink::settings::Credentials {
            username: "store-7".into(),
            password: tagtally_config::Secret::new("pw".into()),
        });
        let r = v311_error(
            rumqttc::ConnectionError::ConnectionRefused(
                rumqttc::ConnectReturnCode::BadUserNamePassword,
            ),
            &Why {
                s: &s,
                established: false,
            },
        );
        assert_eq!(
            r.to_string(),
            "broker refused the connection: bad username or password (user \"store-7\"; check username and password-file)"
        );
    }

    #[test]
    fn the_tls_hint_comes_only_where_it_can_apply() {
        let eof = || std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let reason = |url: &str, established: bool| {
            let s = settings(url);
            let why = Why { s: &s, established };
            (
                io_reason(&eof(), &why).to_string(),
                protocol_reason("malformed packet", &why).to_string(),
            )
        };
        // A plain connection closed before its CONNACK: maybe a TLS listener.
        let (closed, garbled) = reason("mqtt://b:8883", false);
        assert!(closed.contains("use an mqtts:// url"), "{closed}");
        assert!(garbled.contains("use an mqtts:// url"), "{garbled}");
        // A link that worked and was lost later (broker restart, network cut): the scheme was right.
        let (closed, garbled) = reason("mqtt://b:1883", true);
        assert!(
            closed.ends_with("connection closed by the broker"),
            "{closed}"
        );
        assert!(!garbled.contains("tls"), "{garbled}");
        // Already TLS: never.
        let (closed, _) = reason("mqtts://b:8883", false);
        assert!(!closed.contains("use an mqtts"), "{closed}");
    }
}
