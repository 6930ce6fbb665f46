//! What the uplink reports about itself: link state with reasons (for `tagtally status` and logs)
//! and the retained `status` payload HQ sees (SPEC §6).

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

/// Schema name of the retained status payload.
pub const STATUS_SCHEMA: &str = "tagtally.status/1";

/// The retained status payload: `{"schema":"tagtally.status/1","store":..,"state":"online"}`.
/// The last will carries the same bytes with `"offline"`.
pub fn status_payload(store: &str, online: bool) -> Bytes {
    let state = if online { "online" } else { "offline" };
    // Written by hand to keep SPEC §6's field order; the store is JSON-escaped all the same.
    let store = serde_json::Value::from(store);
    Bytes::from(format!(
        r#"{{"schema":"{STATUS_SCHEMA}","store":{store},"state":"{state}"}}"#
    ))
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_payloads() {
        assert_eq!(
            status_payload("paris-01", true),
            r#"{"schema":"tagtally.status/1","store":"paris-01","state":"online"}"#
        );
        assert_eq!(
            status_payload("paris-01", false),
            r#"{"schema":"tagtally.status/1","store":"paris-01","state":"offline"}"#
        );
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
