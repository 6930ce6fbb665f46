//! `[mqtt]`: the uplink to headquarters (SPEC §6, §9).
//!
//! Beyond SPEC §4 this section has `protocol` (brokers of both MQTT versions are in use),
//! `keep-alive` (rumqttc panics on a sub-second one, so it is checked here), `outbox-max-bytes`
//! (SPEC §7 asks for a configurable bound on the on-disk outbox) and `reconnect-backoff-max`
//! (the cap of the reconnect backoff, which SPEC §7 asks to be capped).

use crate::duration::Interval;
use crate::error::{ConfigProblem, ErrorSink};
use crate::host_port::{HostPort, HostPortError};
use crate::paths::{resolve, FileRef, FileRole};
use crate::secret::Secret;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Broker port for `mqtt://` when the url names none.
pub const DEFAULT_MQTT_PORT: u16 = 1883;
/// Broker port for `mqtts://` when the url names none.
pub const DEFAULT_MQTTS_PORT: u16 = 8883;
/// `topic-prefix` when not given.
pub const DEFAULT_TOPIC_PREFIX: &str = "tagtally/v1";
/// `flush-interval` when not given.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// `snapshot-interval` when not given.
pub const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// `keep-alive` when not given: rumqttc's own default, gentle on a store's mobile link.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(60);
/// `outbox-max-bytes` when not given: days of deltas for a busy store.
pub const DEFAULT_OUTBOX_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Least `outbox-max-bytes`: below this a short broker outage would already fold deltas.
pub const MIN_OUTBOX_MAX_BYTES: u64 = 1024 * 1024;
/// `reconnect-backoff-max` when not given.
pub const DEFAULT_RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// `status-interval` when not given: the heartbeat of the retained status.
pub const DEFAULT_STATUS_INTERVAL: Duration = Duration::from_secs(60);
/// `max-message-bytes` when not given: AWS IoT's 128 KiB, the smallest limit of a common broker.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 128 * 1024;
/// Least `max-message-bytes`: one (zone, SKU) pair with the longest names, its envelope and topic.
pub const MIN_MAX_MESSAGE_BYTES: u64 = 2048;
/// Most `max-message-bytes`: MQTT's largest packet.
pub const MAX_MAX_MESSAGE_BYTES: u64 = 268_435_455;
/// `history-max-bytes` when not given.
pub const DEFAULT_HISTORY_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// `history-max-age` when not given.
pub const DEFAULT_HISTORY_MAX_AGE: Duration = Duration::from_secs(7 * 86_400);
/// `command-min-interval` when not given.
pub const DEFAULT_COMMAND_MIN_INTERVAL: Duration = Duration::from_secs(5);
/// Longest client id accepted.
pub const MAX_CLIENT_ID_LEN: usize = 256;
/// Longest topic prefix accepted.
pub const MAX_TOPIC_PREFIX_LEN: usize = 256;

/// The uplink's settings, with defaults applied and paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Mqtt {
    /// Where the broker is and whether to speak TLS (`url`).
    pub broker: BrokerUrl,
    /// MQTT client id (`client-id`, default `"tagtally-" + store`).
    pub client_id: String,
    /// User name (`username`), if the broker wants one.
    pub username: Option<String>,
    /// File holding the password (`password-file`); the password itself is never in the config.
    pub password_file: Option<PathBuf>,
    /// The password, read from `password-file` by the loader's file checks (once, with the
    /// rules of [`crate::read_secret_file`]); `None` without a password file, or when the file
    /// checks were skipped ([`crate::FileChecks::Skip`]).
    pub password: Option<Secret>,
    /// CA certificates to trust instead of the system roots (`ca-file`, PEM).
    pub ca_file: Option<PathBuf>,
    /// Certificate and key for mutual TLS (`client-cert` and `client-key`, PEM).
    pub client_cert: Option<ClientCert>,
    /// Topics are `{topic-prefix}/{store}/...` (`topic-prefix`, default "tagtally/v1").
    pub topic_prefix: String,
    /// How often the engine commits a batch and publishes its delta (`flush-interval`, default 1 s).
    pub flush_interval: Duration,
    /// How often a full snapshot is published (`snapshot-interval`, default 15 min).
    pub snapshot_interval: Duration,
    /// MQTT protocol version (`protocol`, "3.1.1" or "5", default "3.1.1").
    pub protocol: MqttProtocol,
    /// MQTT keep-alive, whole seconds from 1 to 65535 (`keep-alive`, default 60 s).
    pub keep_alive: Duration,
    /// Bound of the on-disk outbox of unacknowledged deltas (`outbox-max-bytes`, default 64 MiB).
    pub outbox_max_bytes: u64,
    /// Cap of the exponential reconnect backoff (`reconnect-backoff-max`, default 60 s).
    pub reconnect_backoff_max: Duration,
    /// Heartbeat of the retained status while connected (`status-interval`, default 60 s).
    pub status_interval: Duration,
    /// Largest PUBLISH packet the store sends (`max-message-bytes`, default 131072); on MQTT 5
    /// the broker's Maximum Packet Size too, whichever is smaller.
    pub max_message_bytes: u64,
    /// Acknowledged deltas kept for `cmd/replay`, in payload bytes (`history-max-bytes`,
    /// default 64 MiB; 0 keeps none).
    pub history_max_bytes: u64,
    /// Oldest acknowledged delta kept for `cmd/replay` (`history-max-age`, default 7 days).
    pub history_max_age: Duration,
    /// `cmd/snapshot` and `cmd/replay` are coalesced to at most one each per this interval
    /// (`command-min-interval`, default 5 s).
    pub command_min_interval: Duration,
}

/// A broker address from `mqtt://host[:port]` or `mqtts://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// `mqtts://`: TLS with rustls.
    pub tls: bool,
    /// Host and port (1883 or 8883 when not written).
    pub address: HostPort,
}

/// Why a broker url was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerUrlError {
    /// No `scheme://`.
    #[error("it has no scheme; write mqtt://host[:port] or mqtts://host[:port]")]
    NoScheme,
    /// A scheme other than mqtt or mqtts.
    #[error("scheme `{scheme}` is not mqtt or mqtts")]
    Scheme {
        /// The scheme as written.
        scheme: String,
    },
    /// `user:password@` in the url: a secret inline.
    #[error("credentials do not belong in the url: use `username` and `password-file`")]
    Credentials,
    /// Anything after the host and port.
    #[error("a path, query or fragment has no meaning for mqtt")]
    Path,
    /// A bad host or port.
    #[error("{0}")]
    Address(HostPortError),
    /// An IPv6 literal: the MQTT client joins host and port as `host:port`, which an IPv6
    /// address cannot survive.
    #[error("ipv6 literals are not supported; use a host name")]
    Ipv6,
}

impl BrokerUrl {
    /// Parses `mqtt://host[:port]` or `mqtts://host[:port]`, with an optional trailing `/`.
    pub fn parse(url: &str) -> Result<BrokerUrl, BrokerUrlError> {
        let (scheme, rest) = url.split_once("://").ok_or(BrokerUrlError::NoScheme)?;
        let tls = match scheme {
            "mqtt" => false,
            "mqtts" => true,
            _ => {
                return Err(BrokerUrlError::Scheme {
                    scheme: scheme.to_owned(),
                })
            }
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err(BrokerUrlError::Credentials);
        }
        if authority.contains(['/', '?', '#']) {
            return Err(BrokerUrlError::Path);
        }
        let default_port = if tls {
            DEFAULT_MQTTS_PORT
        } else {
            DEFAULT_MQTT_PORT
        };
        let address =
            HostPort::parse(authority, Some(default_port)).map_err(BrokerUrlError::Address)?;
        if address.host.contains(':') {
            return Err(BrokerUrlError::Ipv6);
        }
        Ok(BrokerUrl { tls, address })
    }
}

/// `mqtt://host:port` or `mqtts://host:port`, the port always written.
impl fmt::Display for BrokerUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        write!(formatter, "{scheme}://{}", self.address)
    }
}

/// A client certificate and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// `client-cert`.
    pub cert_file: PathBuf,
    /// `client-key`.
    pub key_file: PathBuf,
}

/// The MQTT protocol version spoken to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MqttProtocol {
    /// MQTT 3.1.1, which every broker speaks.
    #[default]
    V3_1_1,
    /// MQTT 5.
    V5,
}

impl<'de> Deserialize<'de> for MqttProtocol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ProtocolVisitor)
    }
}

struct ProtocolVisitor;

impl Visitor<'_> for ProtocolVisitor {
    type Value = MqttProtocol;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("\"3.1.1\" or \"5\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<MqttProtocol, E> {
        match text {
            "3.1.1" => Ok(MqttProtocol::V3_1_1),
            "5" => Ok(MqttProtocol::V5),
            _ => Err(E::invalid_value(de::Unexpected::Str(text), &self)),
        }
    }

    // `protocol = 5` without quotes is what people type; it means the same.
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<MqttProtocol, E> {
        match number {
            5 => Ok(MqttProtocol::V5),
            _ => Err(E::invalid_value(de::Unexpected::Signed(number), &self)),
        }
    }
}

/// `keep-alive`: whole seconds, 1 to 65535 (MQTT carries it as a 16-bit number of seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Interval")]
pub(crate) struct KeepAlive(pub Duration);

/// A `keep-alive` MQTT cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keep-alive must be whole seconds from 1s to 65535s, not {0:?}")]
pub struct BadKeepAlive(pub Duration);

/// Least keep-alive on MQTT 5: rumqttc's MQTT 5 client asserts it (a shorter one would abort).
pub const MIN_MQTT5_KEEP_ALIVE: Duration = Duration::from_secs(5);

/// Why `keep-alive` does not suit `protocol`, located at the keep-alive.
pub(crate) fn check_keep_alive(
    keep_alive: Option<&Spanned<KeepAlive>>,
    protocol: MqttProtocol,
    sink: &mut ErrorSink,
) {
    if let Some(keep_alive) = keep_alive {
        if protocol == MqttProtocol::V5 && keep_alive.get_ref().0 < MIN_MQTT5_KEEP_ALIVE {
            sink.at(
                keep_alive.span(),
                ConfigProblem::Toml(format!(
                    "keep-alive must be at least 5s on protocol \"5\", not {}s",
                    keep_alive.get_ref().0.as_secs()
                )),
            );
        }
    }
}

impl TryFrom<Interval> for KeepAlive {
    type Error = BadKeepAlive;

    fn try_from(interval: Interval) -> Result<Self, BadKeepAlive> {
        let duration = interval.0;
        if duration.subsec_nanos() == 0 && (1..=u64::from(u16::MAX)).contains(&duration.as_secs()) {
            Ok(KeepAlive(duration))
        } else {
            Err(BadKeepAlive(duration))
        }
    }
}

/// `outbox-max-bytes`: at least [`MIN_OUTBOX_MAX_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct OutboxMaxBytes(pub u64);

/// An `outbox-max-bytes` below the minimum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("outbox-max-bytes must be at least 1048576 (1 MiB), not {0}")]
pub struct BadOutboxMaxBytes(pub i64);

impl TryFrom<i64> for OutboxMaxBytes {
    type Error = BadOutboxMaxBytes;

    fn try_from(bytes: i64) -> Result<Self, BadOutboxMaxBytes> {
        match u64::try_from(bytes) {
            Ok(bytes) if bytes >= MIN_OUTBOX_MAX_BYTES => Ok(OutboxMaxBytes(bytes)),
            _ => Err(BadOutboxMaxBytes(bytes)),
        }
    }
}

/// `max-message-bytes`: between [`MIN_MAX_MESSAGE_BYTES`] and [`MAX_MAX_MESSAGE_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct MaxMessageBytes(pub u64);

/// A `max-message-bytes` out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("max-message-bytes must be from 2048 to 268435455 (an mqtt packet), not {0}")]
pub struct BadMaxMessageBytes(pub i64);

impl TryFrom<i64> for MaxMessageBytes {
    type Error = BadMaxMessageBytes;

    fn try_from(bytes: i64) -> Result<Self, BadMaxMessageBytes> {
        match u64::try_from(bytes) {
            Ok(b) if (MIN_MAX_MESSAGE_BYTES..=MAX_MAX_MESSAGE_BYTES).contains(&b) => {
                Ok(MaxMessageBytes(b))
            }
            _ => Err(BadMaxMessageBytes(bytes)),
        }
    }
}

/// `history-max-bytes`: 0 (no history) or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct HistoryMaxBytes(pub u64);

/// A negative `history-max-bytes`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("history-max-bytes must be 0 or more, not {0}")]
pub struct BadHistoryMaxBytes(pub i64);

impl TryFrom<i64> for HistoryMaxBytes {
    type Error = BadHistoryMaxBytes;

    fn try_from(bytes: i64) -> Result<Self, BadHistoryMaxBytes> {
        u64::try_from(bytes)
            .map(HistoryMaxBytes)
            .map_err(|_| BadHistoryMaxBytes(bytes))
    }
}

/// `status-interval`: at least one second, so a heartbeat never floods the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Interval")]
pub(crate) struct StatusInterval(pub Duration);

/// A `status-interval` below one second.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status-interval must be at least 1s, not {0:?}")]
pub struct BadStatusInterval(pub Duration);

impl TryFrom<Interval> for StatusInterval {
    type Error = BadStatusInterval;

    fn try_from(interval: Interval) -> Result<Self, BadStatusInterval> {
        if interval.0 >= Duration::from_secs(1) {
            Ok(StatusInterval(interval.0))
        } else {
            Err(BadStatusInterval(interval.0))
        }
    }
}

/// The `[mqtt]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct MqttSpec {
    pub url: Spanned<String>,
    #[serde(default)]
    pub client_id: Option<Spanned<String>>,
    #[serde(default)]
    pub username: Option<Spanned<String>>,
    #[serde(default)]
    pub password_file: Option<Spanned<PathBuf>>,
    /// Only here to be refused with a message that says where the password goes instead.
    #[serde(default)]
    pub password: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    pub ca_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    pub client_cert: Option<Spanned<PathBuf>>,
    #[serde(default)]
    pub client_key: Option<Spanned<PathBuf>>,
    #[serde(default)]
    pub topic_prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub flush_interval: Option<Interval>,
    #[serde(default)]
    pub snapshot_interval: Option<Interval>,
    #[serde(default)]
    pub protocol: Option<MqttProtocol>,
    #[serde(default)]
    pub keep_alive: Option<Spanned<KeepAlive>>,
    #[serde(default)]
    pub outbox_max_bytes: Option<OutboxMaxBytes>,
    #[serde(default)]
    pub reconnect_backoff_max: Option<Interval>,
    #[serde(default)]
    pub status_interval: Option<StatusInterval>,
    #[serde(default)]
    pub max_message_bytes: Option<MaxMessageBytes>,
    #[serde(default)]
    pub history_max_bytes: Option<HistoryMaxBytes>,
    #[serde(default)]
    pub history_max_age: Option<Interval>,
    #[serde(default)]
    pub command_min_interval: Option<Interval>,
}

impl MqttSpec {
    fn tls_keys(&self) -> TlsKeys<'_> {
        TlsKeys {
            ca_file: self.ca_file.as_ref(),
            client_cert: self.client_cert.as_ref(),
            client_key: self.client_key.as_ref(),
        }
    }

    /// Checks the keys against each other, resolves paths against `base` and lists the files
    /// named in `files` for the file-system checks. `store` is `None` when it was invalid,
    /// which has been reported already.
    pub(crate) fn build(
        &self,
        store: Option<&str>,
        base: &Path,
        files: &mut Vec<FileRef>,
        sink: &mut ErrorSink,
    ) -> Option<Mqtt> {
        let errors_before = sink.len();
        if let Some(password) = &self.password {
            sink.at(
                password.span(),
                ConfigProblem::InlineSecret {
                    what: "mqtt password",
                    file_key: "password-file",
                },
            );
        }
        let broker = BrokerUrl::parse(self.url.get_ref())
            .map_err(|reason| {
                sink.at(
                    self.url.span(),
                    ConfigProblem::BadMqttUrl {
                        url: self.url.get_ref().clone(),
                        reason,
                    },
                )
            })
            .ok();
        let tls = self.tls_keys();
        if let Some(broker) = &broker {
            tls.check_need_tls(broker, sink);
        }
        if let (Some(password_file), None) = (&self.password_file, &self.username) {
            sink.at(password_file.span(), ConfigProblem::PasswordWithoutUsername);
        }
        let client_cert = tls.client_cert(base, sink);
        let client_id = self.client_id(store, sink);
        let topic_prefix = self.topic_prefix(sink);
        check_keep_alive(
            self.keep_alive.as_ref(),
            self.protocol.unwrap_or_default(),
            sink,
        );

        let mut file = |key, path: &Option<Spanned<PathBuf>>, role| {
            path.as_ref().map(|path| {
                let resolved = resolve(base, path.get_ref());
                files.push(FileRef {
                    key,
                    path: resolved.clone(),
                    span: path.span(),
                    role,
                });
                resolved
            })
        };
        let password_file = file("password-file", &self.password_file, FileRole::Password);
        let ca_file = tls.list_files(base, files);
        if let Some(username) = &self.username {
            if let Some(reason) = username_problem(username.get_ref()) {
                sink.at(username.span(), ConfigProblem::BadUsername { reason });
            }
        }

        if sink.len() > errors_before {
            return None;
        }
        Some(Mqtt {
            broker: broker?,
            client_id: client_id?,
            username: self.username.as_ref().map(|name| name.get_ref().clone()),
            password_file,
            password: None,
            ca_file,
            client_cert,
            topic_prefix: topic_prefix?,
            flush_interval: self.flush_interval.map_or(DEFAULT_FLUSH_INTERVAL, |d| d.0),
            snapshot_interval: self
                .snapshot_interval
                .map_or(DEFAULT_SNAPSHOT_INTERVAL, |d| d.0),
            protocol: self.protocol.unwrap_or_default(),
            keep_alive: self
                .keep_alive
                .as_ref()
                .map_or(DEFAULT_KEEP_ALIVE, |k| k.get_ref().0),
            outbox_max_bytes: self
                .outbox_max_bytes
                .map_or(DEFAULT_OUTBOX_MAX_BYTES, |b| b.0),
            reconnect_backoff_max: self
                .reconnect_backoff_max
                .map_or(DEFAULT_RECONNECT_BACKOFF_MAX, |d| d.0),
            status_interval: self
                .status_interval
                .map_or(DEFAULT_STATUS_INTERVAL, |d| d.0),
            max_message_bytes: self
                .max_message_bytes
                .map_or(DEFAULT_MAX_MESSAGE_BYTES, |b| b.0),
            history_max_bytes: self
                .history_max_bytes
                .map_or(DEFAULT_HISTORY_MAX_BYTES, |b| b.0),
            history_max_age: self
                .history_max_age
                .map_or(DEFAULT_HISTORY_MAX_AGE, |d| d.0),
            command_min_interval: self
                .command_min_interval
                .map_or(DEFAULT_COMMAND_MIN_INTERVAL, |d| d.0),
        })
    }

    fn client_id(&self, store: Option<&str>, sink: &mut ErrorSink) -> Option<String> {
        let Some(client_id) = &self.client_id else {
            return store.map(|store| format!("tagtally-{store}"));
        };
        let text = client_id.get_ref();
        match client_id_problem(text) {
            Some(reason) => {
                sink.at(
                    client_id.span(),
                    ConfigProblem::BadClientId {
                        client_id: text.clone(),
                        reason,
                    },
                );
                None
            }
            None => Some(text.clone()),
        }
    }

    fn topic_prefix(&self, sink: &mut ErrorSink) -> Option<String> {
        let Some(prefix) = &self.topic_prefix else {
            return Some(DEFAULT_TOPIC_PREFIX.to_owned());
        };
        match topic_prefix_problem(prefix.get_ref()) {
            Some(reason) => {
                sink.at(
                    prefix.span(),
                    ConfigProblem::BadTopicPrefix {
                        prefix: prefix.get_ref().clone(),
                        reason,
                    },
                );
                None
            }
            None => Some(prefix.get_ref().clone()),
        }
    }
}

/// What makes `username` unusable in an MQTT CONNECT, if anything.
fn username_problem(username: &str) -> Option<&'static str> {
    if username.is_empty() {
        Some("it is empty; leave `username` out if the broker wants none")
    } else if username.len() > usize::from(u16::MAX) {
        Some("it is longer than the 65535 bytes MQTT carries")
    } else {
        None
    }
}

/// What makes `text` unusable as an MQTT client id, if anything.
pub(crate) fn client_id_problem(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        Some("it is empty")
    } else if text.len() > MAX_CLIENT_ID_LEN {
        Some("it is longer than 256 bytes")
    } else if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("it contains spaces or control characters")
    } else {
        None
    }
}

/// What makes `prefix` unusable as the start of a publish topic, if anything.
pub(crate) fn topic_prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.is_empty() {
        Some("it is empty")
    } else if prefix.len() > MAX_TOPIC_PREFIX_LEN {
        Some("it is longer than 256 bytes")
    } else if prefix.contains(['+', '#']) {
        Some("wildcards `+` and `#` cannot appear in a topic one publishes to")
    } else if prefix.starts_with('$') {
        Some("topics starting with `$` are reserved for the broker")
    } else if prefix.starts_with('/') || prefix.ends_with('/') || prefix.contains("//") {
        Some("it has an empty topic level (a leading, trailing or doubled `/`)")
    } else if prefix.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    }
}

/// `ca-file`, `client-cert` and `client-key` as written: the one set of rules for them, shared
/// by the store's `[mqtt]` and `tagtally hq`'s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TlsKeys<'a> {
    pub ca_file: Option<&'a Spanned<PathBuf>>,
    pub client_cert: Option<&'a Spanned<PathBuf>>,
    pub client_key: Option<&'a Spanned<PathBuf>>,
}

impl TlsKeys<'_> {
    /// Refuses each TLS file key on a plain `mqtt://` broker.
    pub(crate) fn check_need_tls(&self, broker: &BrokerUrl, sink: &mut ErrorSink) {
        if broker.tls {
            return;
        }
        let tls_keys = [
            ("ca-file", self.ca_file),
            ("client-cert", self.client_cert),
            ("client-key", self.client_key),
        ];
        for (key, path) in tls_keys {
            if let Some(path) = path {
                sink.at(path.span(), ConfigProblem::TlsFileWithoutTls { key });
            }
        }
    }

    /// The client identity: both files or neither.
    pub(crate) fn client_cert(&self, base: &Path, sink: &mut ErrorSink) -> Option<ClientCert> {
        match (self.client_cert, self.client_key) {
            (Some(cert), Some(key)) => Some(ClientCert {
                cert_file: resolve(base, cert.get_ref()),
                key_file: resolve(base, key.get_ref()),
            }),
            (Some(cert), None) => {
                sink.at(
                    cert.span(),
                    ConfigProblem::UnpairedClientCert {
                        present: "client-cert",
                        missing: "client-key",
                    },
                );
                None
            }
            (None, Some(key)) => {
                sink.at(
                    key.span(),
                    ConfigProblem::UnpairedClientCert {
                        present: "client-key",
                        missing: "client-cert",
                    },
                );
                None
            }
            (None, None) => None,
        }
    }

    /// Lists the files for the file-system checks; returns the resolved `ca-file`.
    pub(crate) fn list_files(&self, base: &Path, files: &mut Vec<FileRef>) -> Option<PathBuf> {
        let mut file = |key, path: Option<&Spanned<PathBuf>>, role| {
            path.map(|path| {
                let resolved = resolve(base, path.get_ref());
                files.push(FileRef {
                    key,
                    path: resolved.clone(),
                    span: path.span(),
                    role,
                });
                resolved
            })
        };
        let ca_file = file("ca-file", self.ca_file, FileRole::Certificate);
        file("client-cert", self.client_cert, FileRole::Certificate);
        file("client-key", self.client_key, FileRole::PrivateKey);
        ca_file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_and_mqtts_with_default_ports() {
        let plain = BrokerUrl::parse("mqtt://broker").unwrap();
        assert!(!plain.tls);
        assert_eq!(plain.address.port, 1883);
        let tls = BrokerUrl::parse("mqtts://broker.hq.example").unwrap();
        assert!(tls.tls);
        assert_eq!(tls.address.port, 8883);
        let explicit = BrokerUrl::parse("mqtts://broker.hq.example:9883/").unwrap();
        assert_eq!(explicit.address.port, 9883);
    }

    #[test]
    fn other_schemes_and_no_scheme_are_refused() {
        assert_eq!(
            BrokerUrl::parse("https://broker"),
            Err(BrokerUrlError::Scheme {
                scheme: "https".into()
            })
        );
        assert_eq!(
            BrokerUrl::parse("MQTT://broker"),
            Err(BrokerUrlError::Scheme {
                scheme: "MQTT".into()
            })
        );
        assert_eq!(
            BrokerUrl::parse("broker:1883"),
            Err(BrokerUrlError::NoScheme)
        );
    }

    #[test]
    fn credentials_and_paths_in_the_url_are_refused() {
        assert_eq!(
            BrokerUrl::parse("mqtts://user:secret@broker"),
            Err(BrokerUrlError::Credentials)
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://broker/topic"),
            Err(BrokerUrlError::Path)
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://broker?x=1"),
            Err(BrokerUrlError::Path)
        );
    }

    #[test]
    fn ipv6_literals_are_refused_and_display_writes_the_port() {
        assert_eq!(
            BrokerUrl::parse("mqtt://[::1]:1883"),
            Err(BrokerUrlError::Ipv6)
        );
        for (text, shown) in [
            ("mqtt://broker", "mqtt://broker:1883"),
            ("mqtts://10.0.0.1:8883/", "mqtts://10.0.0.1:8883"),
        ] {
            assert_eq!(BrokerUrl::parse(text).unwrap().to_string(), shown);
        }
    }

    #[test]
    fn keep_alive_is_whole_seconds_within_u16() {
        let keep_alive = |d| KeepAlive::try_from(Interval(d));
        assert!(keep_alive(Duration::from_secs(1)).is_ok());
        assert!(keep_alive(Duration::from_secs(65_535)).is_ok());
        assert!(keep_alive(Duration::from_millis(500)).is_err());
        assert!(keep_alive(Duration::from_millis(1500)).is_err());
        assert!(keep_alive(Duration::from_secs(65_536)).is_err());
    }

    #[test]
    fn outbox_has_a_floor() {
        assert!(OutboxMaxBytes::try_from(1_048_576).is_ok());
        assert!(OutboxMaxBytes::try_from(1_048_575).is_err());
        assert!(OutboxMaxBytes::try_from(-1).is_err());
    }

    #[test]
    fn size_and_interval_bounds() {
        assert!(MaxMessageBytes::try_from(2048).is_ok());
        assert!(MaxMessageBytes::try_from(2047).is_err());
        assert!(MaxMessageBytes::try_from(268_435_456).is_err());
        assert!(HistoryMaxBytes::try_from(0).is_ok());
        assert!(HistoryMaxBytes::try_from(-1).is_err());
        assert!(StatusInterval::try_from(Interval(Duration::from_millis(999))).is_err());
        assert!(StatusInterval::try_from(Interval(Duration::from_secs(1))).is_ok());
    }

    #[test]
    fn topic_prefix_rules() {
        assert_eq!(topic_prefix_problem("tagtally/v1"), None);
        assert_eq!(topic_prefix_problem("retail/eu/tagtally"), None);
        for bad in ["", "a/+/b", "a/#", "$SYS/x", "/a", "a/", "a//b", "a\u{0}b"] {
            assert!(topic_prefix_problem(bad).is_some(), "{bad:?}");
        }
    }
}
