//! The uplink's settings: broker, protocol, keep-alive, credentials, TLS, limits.
//!
//! Built from a config the plan (`crate::plan`) has checked as a whole, so nothing here is
//! validated again: the broker url, keep-alive, client id, credentials and TLS files are what the
//! config's rules let through. Everything rumqttc would `assert!` on (a sub-second keep-alive)
//! is refused by those rules, before an option ever reaches rumqttc.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tagtally_config::{BrokerUrl, Secret};

use crate::uplink::status::StatusIdentity;
use tagtally_contract::Topics;
use tagtally_core::BackoffPolicy;
use tagtally_tls::{client_config, TlsError, TlsFiles};

/// MQTT's largest encodable packet (remaining length of 268 435 455 bytes plus the fixed header).
pub const MQTT_MAX_PACKET: usize = 268_435_460;

/// Largest in-flight window: rumqttc allocates packet ids 1..=inflight and we give it twice the
/// window (see `task.rs`), which must still fit into a u16.
pub const MAX_WINDOW: usize = 1024;

/// MQTT protocol version spoken to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// MQTT 3.1.1 (protocol level 4): what every broker speaks; the default.
    #[default]
    V311,
    /// MQTT 5.
    V5,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::V311 => "3.1.1",
            Protocol::V5 => "5",
        })
    }
}

/// Username and password for the MQTT CONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Password; read from `password-file`, never inline (SPEC §4); empty when the broker
    /// authenticates by user name alone.
    pub password: Secret,
}

/// TLS for an `mqtts://` broker: the files it came from (named in link-down reasons) and the
/// client configuration built from them once, so a bad file is a start-up refusal, not a
/// connection failure repeated forever.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    /// The files.
    pub files: TlsFiles,
    /// The rustls configuration built from them.
    pub config: Arc<rustls::ClientConfig>,
}

impl TlsSetup {
    /// Loads `files` (or the system roots, without a CA file).
    pub fn load(files: TlsFiles) -> Result<TlsSetup, TlsError> {
        let config = client_config(&files)?;
        Ok(TlsSetup { files, config })
    }
}

/// Everything the uplink needs to know; built once from the `[mqtt]` config section.
#[derive(Debug, Clone)]
pub struct UplinkSettings {
    /// Broker address, and whether the url said mqtts.
    pub broker: BrokerUrl,
    /// MQTT client identifier (default `tagtally-{store}`).
    pub client_id: String,
    /// Protocol version.
    pub protocol: Protocol,
    /// Keep-alive, whole seconds from 1 to 65535 (the config's rule); a dead link is noticed
    /// after about two of them.
    pub keep_alive: Duration,
    /// Optional username/password.
    pub credentials: Option<Credentials>,
    /// TLS, for an `mqtts://` broker (the plan sets it exactly then); `None` speaks plain TCP.
    pub tls: Option<TlsSetup>,
    /// Topic names for this store.
    pub topics: Topics,
    /// Most QoS 1 publishes (deltas and retained messages) on the wire without their PUBACK
    /// (1 to [`MAX_WINDOW`]; other values are taken as the nearest bound).
    pub window: usize,
    /// Reconnect backoff bounds.
    pub backoff: BackoffPolicy,
    /// TCP + TLS + CONNACK must complete within this (whole seconds; at least 1).
    pub connect_timeout: Duration,
    /// A reader's retained health is republished at most this often while it keeps changing.
    pub reader_min_interval: Duration,
    /// Largest inbound packet rumqttc reads (see [`inbound_packet_limit`]).
    pub max_incoming_packet: usize,
    /// Largest PUBLISH packet we send (`max-message-bytes`, at least 2048 by the config's rule);
    /// on MQTT 5 the broker's Maximum Packet Size too, whichever is smaller.
    pub max_message_bytes: usize,
    /// Heartbeat of the retained status while connected (at least 1 s by the config's rule).
    pub status_interval: Duration,
    /// Each kind of HQ command is served at most once per this interval.
    pub command_min_interval: Duration,
    /// Epoch, boot and version: who `status` speaks for.
    pub identity: StatusIdentity,
}

/// The largest inbound packet to read, by protocol.
///
/// MQTT 5: 64 KiB, announced in CONNECT as our Maximum Packet Size, so the broker itself discards
/// anything larger for us (MQTT 5 §3.1.2.11.4) and the link stays up. MQTT 3.1.1 has no way to
/// tell the broker: rumqttc refuses a larger packet by dropping the connection, and a retained one
/// would come back at every reconnect. So on 3.1.1 the bound is 16 MiB — far above any real
/// command (4 KiB, `MAX_COMMAND_BYTES`), large enough to read an oversized one and drop it
/// (counted) without losing the link, and a bounded, transient buffer on a gateway.
pub fn inbound_packet_limit(protocol: Protocol) -> usize {
    match protocol {
        Protocol::V5 => 64 * 1024,
        Protocol::V311 => 16 * 1024 * 1024,
    }
}

impl UplinkSettings {
    /// Settings with the defaults for everything but the store, broker and topic prefix (all
    /// three as the config's rules let them through).
    pub fn new(store: &str, broker: BrokerUrl, topic_prefix: &str) -> UplinkSettings {
        UplinkSettings {
            broker,
            client_id: format!("tagtally-{store}"),
            protocol: Protocol::default(),
            keep_alive: Duration::from_secs(30),
            credentials: None,
            tls: None,
            topics: Topics::trusted(topic_prefix, store),
            window: 64,
            backoff: BackoffPolicy::STANDARD,
            connect_timeout: Duration::from_secs(10),
            reader_min_interval: Duration::from_secs(5),
            max_incoming_packet: inbound_packet_limit(Protocol::default()),
            max_message_bytes: 128 * 1024,
            status_interval: Duration::from_secs(60),
            command_min_interval: Duration::from_secs(5),
            identity: StatusIdentity::default(),
        }
    }
}
