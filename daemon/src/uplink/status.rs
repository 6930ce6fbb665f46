//! What the uplink reports about itself: link state with reasons (for `tagtally status` and logs)
//! and the retained `status` payload HQ sees (SPEC §6).

use std::fmt;
use std::time::{Duration, SystemTime};

use std::borrow::Cow;

use bytes::Bytes;
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::{StatusMessage, StatusRefusal, StatusSchema, StoreState};

/// Schema name of the retained status payload.
pub const STATUS_SCHEMA: &str = StatusSchema::NAME;

/// Who is speaking in `status`: fixed for one boot of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusIdentity {
    /// The state database's epoch.
    pub epoch: String,
    /// This start's number, counted durably in the state database.
    pub boot: u64,
    /// The daemon's version.
    pub version: String,
}

impl Default for StatusIdentity {
    fn default() -> Self {
        StatusIdentity {
            epoch: "unknown".to_owned(),
            boot: 1,
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// A message that could not be published within the size bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The topic it was for.
    pub topic: String,
    /// Its PUBLISH packet size.
    pub bytes: usize,
    /// The limit.
    pub limit: usize,
    /// The delta seq, when a delta.
    pub seq: Option<u64>,
}

/// The retained `status` payload (`tagtally.status/2`); the last will is the same with
/// `state: Offline` and the time its connection was opened.
pub fn status_payload(
    store: &str,
    identity: &StatusIdentity,
    connection: u64,
    time: SystemTime,
    state: StoreState,
    seq: u64,
    refused: Option<&Refusal>,
) -> Bytes {
    let micros = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let time = rfc3339_from_micros(micros);
    Bytes::from(
        StatusMessage {
            schema: StatusSchema,
            store: Cow::Borrowed(store),
            epoch: Cow::Borrowed(&identity.epoch),
            boot: identity.boot,
            connection: connection.max(1),
            time: Cow::Owned(time),
            state,
            version: Cow::Borrowed(&identity.version),
            seq,
            refused: refused.map(|r| StatusRefusal {
                topic: Cow::Borrowed(&r.topic),
                bytes: r.bytes as u64,
                limit: r.limit as u64,
                seq: r.seq,
            }),
        }
        .encode(),
    )
}

/// Why the link to the broker is down, in words a technician can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// TCP connect or I/O failed (refused, reset, unreachable, closed by the broker).
    Network(String),
    /// TCP, TLS or CONNACK did not complete in time.
    Timeout,
    /// The TLS handshake failed (unknown CA, wrong host name, plaintext port, client cert refused).
    Tls(String),
    /// The broker answered CONNECT with a refusal code.
    Refused(String),
    /// The broker sent something that is not MQTT as we know it, or broke the protocol.
    Protocol(String),
    /// No answer to our pings within the keep-alive.
    KeepAlive,
    /// MQTT 5 broker refused a publish (PUBACK reason code >= 0x80); it is retried.
    PublishRejected {
        /// Topic of the refused message.
        topic: String,
        /// The reason code name.
        reason: String,
    },
    /// The outbox could not be read.
    Outbox(String),
}

/// What came in on the command topics, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboundCounters {
    /// `cmd/snapshot` requests accepted (before coalescing).
    pub snapshot_requests: u64,
    /// `cmd/replay` requests accepted (before coalescing).
    pub replay_requests: u64,
    /// `cmd/sale` messages accepted (before coalescing).
    pub sale_requests: u64,
    /// EPCs of accepted sales dropped because too many waited at once (see `uplink/commands.rs`).
    pub sale_epcs_dropped: u64,
    /// Requests merged into another one by `command-min-interval` (sales: by the sale interval).
    pub coalesced: u64,
    /// Retained commands ignored (a retained command would fire at every reconnect).
    pub retained_ignored: u64,
    /// Commands dropped as malformed or larger than the bound.
    pub malformed: u64,
    /// Parts of HQ's book stock (`expected`) accepted and handed to the engine.
    pub book_parts: u64,
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::Network(e) => write!(f, "network: {e}"),
            DownReason::Timeout => f.write_str("timed out connecting to the broker"),
            DownReason::Tls(e) => write!(f, "tls: {e}"),
            DownReason::Refused(e) => write!(f, "broker refused the connection: {e}"),
            DownReason::Protocol(e) => write!(f, "protocol: {e}"),
            DownReason::KeepAlive => f.write_str("broker stopped answering pings"),
            DownReason::PublishRejected { topic, reason } => {
                write!(f, "broker rejected a publish to {topic}: {reason}")
            }
            DownReason::Outbox(e) => write!(f, "outbox: {e}"),
        }
    }
}

/// The link as the daemon shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Opening TCP/TLS and waiting for the CONNACK.
    Connecting,
    /// Connected; publishing.
    Online,
    /// Down; the next attempt is after `retry_in`.
    Down {
        /// Why the last attempt or connection failed.
        reason: DownReason,
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// Shut down on request.
    Stopped,
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkState::Connecting => f.write_str("connecting"),
            LinkState::Online => f.write_str("online"),
            LinkState::Down { reason, retry_in } => {
                write!(
                    f,
                    "down ({reason}); retry in {:.1}s",
                    retry_in.as_secs_f64()
                )
            }
            LinkState::Stopped => f.write_str("stopped"),
        }
    }
}

/// A snapshot of the uplink for `tagtally status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UplinkStatus {
    /// Current link state.
    pub state: LinkState,
    /// Highest delta seq acknowledged by the broker (all below it are acknowledged too).
    pub acked_through: Option<u64>,
    /// Messages published and not yet acknowledged.
    pub in_flight: usize,
    /// Successful connections so far.
    pub connections: u64,
    /// Failed attempts in a row (0 while online).
    pub failures: u32,
    /// When the broker last acknowledged anything.
    pub last_ack: Option<SystemTime>,
    /// The most recent reason the link went down (kept while online, for diagnosis).
    pub last_error: Option<DownReason>,
    /// The largest PUBLISH packet sent on this connection: `max-message-bytes`, or the broker's
    /// smaller Maximum Packet Size (MQTT 5).
    pub packet_limit: usize,
    /// The last message not published for its size, in this run.
    pub last_refused: Option<Refusal>,
    /// Messages not published for their size, in this run.
    pub refused: u64,
    /// Commands from HQ.
    pub inbound: InboundCounters,
    /// The broker acknowledged this connection's command subscriptions (`cmd/...`): HQ's
    /// requests reach the store from now on. False while offline, and when it refused them.
    pub commands_subscribed: bool,
}

impl Default for UplinkStatus {
    fn default() -> Self {
        UplinkStatus {
            state: LinkState::Connecting,
            acked_through: None,
            in_flight: 0,
            connections: 0,
            failures: 0,
            last_ack: None,
            last_error: None,
            packet_limit: 0,
            last_refused: None,
            refused: 0,
            inbound: InboundCounters::default(),
            commands_subscribed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_payloads() {
        let identity = StatusIdentity {
            epoch: "e".into(),
            boot: 4,
            version: "9.9.9".into(),
        };
        let t = SystemTime::UNIX_EPOCH;
        assert_eq!(
            status_payload("paris-01", &identity, 2, t, StoreState::Online, 17, None),
            r#"{"schema":"tagtally.status/2","store":"paris-01","epoch":"e","boot":4,"connection":2,"time":"1970-01-01T00:00:00.000Z","state":"online","version":"9.9.9","seq":17}"#
        );
        let refusal = Refusal {
            topic: "p/s/delta".into(),
            bytes: 5000,
            limit: 4096,
            seq: Some(3),
        };
        let text = status_payload(
            "paris-01",
            &identity,
            2,
            t,
            StoreState::Offline,
            17,
            Some(&refusal),
        );
        assert!(text.ends_with(
            br#""state":"offline","version":"9.9.9","seq":17,"refused":{"topic":"p/s/delta","bytes":5000,"limit":4096,"seq":3}}"#
        ));
    }

    #[test]
    fn states_read_well() {
        let s = LinkState::Down {
            reason: DownReason::Refused("bad username or password".into()),
            retry_in: Duration::from_millis(2500),
        };
        assert_eq!(
            s.to_string(),
            "down (broker refused the connection: bad username or password); retry in 2.5s"
        );
    }
}
