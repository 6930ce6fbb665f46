//! Validated uplink settings: broker URL, protocol, keep-alive, credentials, TLS files, limits.
//!
//! Everything rumqttc would `assert!` on (sub-second keep-alive, zero in-flight) is rejected here,
//! with an error carrying the offending value, before an option ever reaches rumqttc.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::uplink::backoff::BackoffSettings;
use crate::uplink::status::StatusIdentity;
use tagtally_contract::{TopicError, Topics};

/// MQTT's largest encodable packet (remaining length of 268 435 455 bytes plus the fixed header).
pub const MQTT_MAX_PACKET: usize = 268_435_460;

/// A password file larger than the MQTT password field is a mistake, not a password.
const MAX_PASSWORD_BYTES: u64 = 65_535;

/// Why settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The URL is not `mqtt://host[:port]` or `mqtts://host[:port]`.
    #[error("broker url {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Keep-alive outside what MQTT can carry (whole seconds, 1..=65535).
    #[error("keep-alive {0:?} must be whole seconds between 1s and 65535s")]
    BadKeepAlive(Duration),
    /// The in-flight window must be at least 1 and leave room in the 16-bit packet-id space.
    #[error("in-flight window {0} must be between 1 and {max}", max = MAX_WINDOW)]
    BadWindow(usize),
    /// The client id is empty or longer than MQTT allows.
    #[error("client id {0:?} must be 1 to 65535 bytes")]
    BadClientId(String),
    /// The username is empty or too long.
    #[error("username {0:?} must be 1 to 65535 bytes")]
    BadUsername(String),
    /// The password file could not be read.
    #[error("password file {path}: {source}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The password file is larger than an MQTT password can be.
    #[error("password file {path} is {len} bytes, more than {max} bytes", max = MAX_PASSWORD_BYTES)]
    PasswordTooLong {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        len: u64,
    },
    /// `max-message-bytes` below what one (zone, SKU) pair needs.
    #[error("max-message-bytes {0} is below the least of {min}", min = tagtally_contract::size::MIN_PACKET_BYTES)]
    BadMaxMessageBytes(usize),
    /// A zero heartbeat.
    #[error("status-interval {0:?} must not be zero")]
    BadStatusInterval(Duration),
    /// The password file holds no password.
    #[error("password file {0} is empty")]
    PasswordEmpty(PathBuf),
    /// A client certificate without a key, or the reverse.
    #[error("client-cert and client-key must be given together")]
    HalfClientIdentity,
    /// TLS files were given for a plaintext `mqtt://` URL.
    #[error("ca-file, client-cert and client-key need an mqtts:// url, not {0:?}")]
    TlsFilesWithoutTls(String),
    /// Topic prefix or store name invalid.
    #[error(transparent)]
    Topic(#[from] TopicError),
    /// Backoff bounds inverted or zero.
    #[error("reconnect backoff min {min:?} must be above zero and not above max {max:?}")]
    BadBackoff {
        /// The lower bound.
        min: Duration,
        /// The upper bound.
        max: Duration,
    },
    /// Connect timeout outside 1..=3600 whole seconds.
    #[error("connect timeout {0:?} must be whole seconds between 1s and 3600s")]
    BadConnectTimeout(Duration),
}

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

impl Protocol {
    /// Parses the config spelling, `"3.1.1"` or `"5"`.
    pub fn parse(text: &str) -> Option<Protocol> {
        match text {
            "3.1.1" => Some(Protocol::V311),
            "5" | "5.0" => Some(Protocol::V5),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::V311 => "3.1.1",
            Protocol::V5 => "5",
        })
    }
}

/// Where the broker is and whether to speak TLS to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or IP literal (without brackets); also the TLS server name that is checked.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `mqtts://`.
    pub tls: bool,
}

impl BrokerUrl {
    /// Parses `mqtt://host[:port]` (default port 1883) or `mqtts://host[:port]` (8883).
    pub fn parse(url: &str) -> Result<BrokerUrl, SettingsError> {
        let bad = |reason| SettingsError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(bad("scheme must be mqtt:// or mqtts://"));
        };
        // A trailing slash is harmless; any real path, query or credentials are not ours to guess.
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(bad(
                "only host and port are allowed (credentials go in username/password-file)",
            ));
        }
        let default_port = if tls { 8883 } else { 1883 };
        if rest.starts_with('[') {
            // rumqttc joins host and port as "host:port", which an IPv6 literal cannot survive.
            return Err(bad("ipv6 literals are not supported; use a host name"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                parse_port(port).ok_or_else(|| bad("port must be 1..=65535"))?,
            ),
            None => (rest, default_port),
        };
        if host.is_empty() {
            return Err(bad("host is empty"));
        }
        if host.contains(':') {
            return Err(bad("ipv6 literals are not supported; use a host name"));
        }
        Ok(BrokerUrl {
            host: host.to_owned(),
            port,
            tls,
        })
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

fn parse_port(text: &str) -> Option<u16> {
    text.parse::<u16>().ok().filter(|p| *p != 0)
}

/// MQTT keep-alive: whole seconds, 1..=65535, as the CONNECT packet carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive(Duration);

impl KeepAlive {
    /// Validates a keep-alive; rumqttc panics on sub-second values, so they stop here.
    pub fn new(duration: Duration) -> Result<KeepAlive, SettingsError> {
        let whole = duration.subsec_nanos() == 0;
        if !whole || duration.as_secs() == 0 || duration.as_secs() > 65_535 {
            return Err(SettingsError::BadKeepAlive(duration));
        }
        Ok(KeepAlive(duration))
    }

    /// The validated duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl Default for KeepAlive {
    fn default() -> Self {
        KeepAlive(Duration::from_secs(30))
    }
}

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string.
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Username and password for the MQTT CONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Password; read from `password-file`, never inline (SPEC §4).
    pub password: Secret,
}

impl Credentials {
    /// Builds credentials from a username and the contents of a password file: the file is
    /// bounded before it is read, and one trailing newline (as editors write it) is dropped.
    pub fn from_password_file(username: &str, path: &Path) -> Result<Credentials, SettingsError> {
        let io_err = |source| SettingsError::PasswordFile {
            path: path.to_owned(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io_err)?.len();
        if len > MAX_PASSWORD_BYTES + 2 {
            return Err(SettingsError::PasswordTooLong {
                path: path.to_owned(),
                len,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io_err)?;
        let text = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        if text.is_empty() {
            return Err(SettingsError::PasswordEmpty(path.to_owned()));
        }
        if text.len() as u64 > MAX_PASSWORD_BYTES {
            return Err(SettingsError::PasswordTooLong {
                path: path.to_owned(),
                len: text.len() as u64,
            });
        }
        Credentials::new(username, Secret::new(text.to_owned()))
    }

    /// Builds credentials from a username and an already loaded password.
    pub fn new(username: &str, password: Secret) -> Result<Credentials, SettingsError> {
        if username.is_empty() || username.len() > 65_535 {
            return Err(SettingsError::BadUsername(username.to_owned()));
        }
        Ok(Credentials {
            username: username.to_owned(),
            password,
        })
    }
}

/// PEM files for TLS. All optional: without a CA file the system roots are trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificates (PEM) that sign the broker's certificate.
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain (PEM) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for mutual TLS.
    pub client_key: Option<PathBuf>,
}

impl TlsFiles {
    fn any(&self) -> bool {
        self.ca_file.is_some() || self.client_cert.is_some() || self.client_key.is_some()
    }
}

/// Everything the uplink needs to know; built once from the `[mqtt]` config section.
#[derive(Debug, Clone)]
pub struct UplinkSettings {
    /// Broker address and transport.
    pub broker: BrokerUrl,
    /// MQTT client identifier (default `tagtally-{store}`).
    pub client_id: String,
    /// Protocol version.
    pub protocol: Protocol,
    /// Keep-alive; a dead link is noticed after about two of them.
    pub keep_alive: KeepAlive,
    /// Optional username/password.
    pub credentials: Option<Credentials>,
    /// TLS files (only with `mqtts://`).
    pub tls: TlsFiles,
    /// Topic names for this store.
    pub topics: Topics,
    /// Most QoS 1 publishes (deltas and retained messages) on the wire without their PUBACK.
    pub window: usize,
    /// Reconnect backoff bounds.
    pub backoff: BackoffSettings,
    /// TCP + TLS + CONNACK must complete within this.
    pub connect_timeout: Duration,
    /// A reader's retained health is republished at most this often while it keeps changing.
    pub reader_min_interval: Duration,
    /// Largest inbound packet rumqttc reads (see [`inbound_packet_limit`]).
    pub max_incoming_packet: usize,
    /// Largest PUBLISH packet we send (`max-message-bytes`); on MQTT 5 the broker's Maximum
    /// Packet Size too, whichever is smaller.
    pub max_message_bytes: usize,
    /// Heartbeat of the retained status while connected.
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
    /// Settings with the defaults for everything but the store, URL and topic prefix.
    pub fn new(
        store: &str,
        url: &str,
        topic_prefix: &str,
    ) -> Result<UplinkSettings, SettingsError> {
        let topics = Topics::new(topic_prefix, store)?;
        Ok(UplinkSettings {
            broker: BrokerUrl::parse(url)?,
            client_id: format!("tagtally-{store}"),
            protocol: Protocol::default(),
            keep_alive: KeepAlive::default(),
            credentials: None,
            tls: TlsFiles::default(),
            topics,
            window: 64,
            backoff: BackoffSettings::default(),
            connect_timeout: Duration::from_secs(10),
            reader_min_interval: Duration::from_secs(5),
            max_incoming_packet: inbound_packet_limit(Protocol::default()),
            max_message_bytes: 128 * 1024,
            status_interval: Duration::from_secs(60),
            command_min_interval: Duration::from_secs(5),
            identity: StatusIdentity::default(),
        })
    }

    /// Checks the cross-field rules; the uplink calls this before it starts.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.client_id.is_empty() || self.client_id.len() > 65_535 {
            return Err(SettingsError::BadClientId(self.client_id.clone()));
        }
        if self.window == 0 || self.window > MAX_WINDOW {
            return Err(SettingsError::BadWindow(self.window));
        }
        if self.tls.client_cert.is_some() != self.tls.client_key.is_some() {
            return Err(SettingsError::HalfClientIdentity);
        }
        if !self.broker.tls && self.tls.any() {
            return Err(SettingsError::TlsFilesWithoutTls(self.broker.to_string()));
        }
        let BackoffSettings { min, max } = self.backoff;
        if min.is_zero() || min > max {
            return Err(SettingsError::BadBackoff { min, max });
        }
        if self.max_message_bytes < tagtally_contract::size::MIN_PACKET_BYTES {
            return Err(SettingsError::BadMaxMessageBytes(self.max_message_bytes));
        }
        if self.status_interval.is_zero() {
            return Err(SettingsError::BadStatusInterval(self.status_interval));
        }
        let t = self.connect_timeout;
        if t.subsec_nanos() != 0 || t.as_secs() == 0 || t.as_secs() > 3600 {
            return Err(SettingsError::BadConnectTimeout(t));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Result<(String, u16, bool), String> {
        BrokerUrl::parse(text)
            .map(|u| (u.host, u.port, u.tls))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn urls() {
        let ok = |h: &str, p, t| Ok((h.to_owned(), p, t));
        assert_eq!(url("mqtt://broker"), ok("broker", 1883, false));
        assert_eq!(url("mqtts://broker"), ok("broker", 8883, true));
        assert_eq!(url("mqtts://b.example:9000/"), ok("b.example", 9000, true));
        assert_eq!(url("mqtt://127.0.0.1:1"), ok("127.0.0.1", 1, false));
        for bad in [
            "http://broker",
            "mqtt://",
            "mqtt://:1883",
            "mqtt://broker:0",
            "mqtt://broker:70000",
            "mqtt://broker:x",
            "mqtt://user:pw@broker",
            "mqtt://broker/topic",
            "mqtt://[::1]:1883",
            "mqtt://a:b:1883",
        ] {
            assert!(url(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            url("ftp://x").unwrap_err(),
            "broker url \"ftp://x\": scheme must be mqtt:// or mqtts://"
        );
    }

    #[test]
    fn url_display_round_trips() {
        for text in ["mqtt://broker:1883", "mqtts://10.0.0.1:8883"] {
            assert_eq!(BrokerUrl::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn keep_alive_bounds() {
        assert!(KeepAlive::new(Duration::from_secs(1)).is_ok());
        assert!(KeepAlive::new(Duration::from_secs(65_535)).is_ok());
        for bad in [
            Duration::ZERO,
            Duration::from_millis(500),
            Duration::from_millis(1500),
            Duration::from_secs(65_536),
        ] {
            let err = KeepAlive::new(bad).unwrap_err();
            assert!(matches!(err, SettingsError::BadKeepAlive(d) if d == bad));
        }
    }

    #[test]
    fn protocol_spellings() {
        assert_eq!(Protocol::parse("3.1.1"), Some(Protocol::V311));
        assert_eq!(Protocol::parse("5"), Some(Protocol::V5));
        assert_eq!(Protocol::parse("3"), None);
        assert_eq!(Protocol::default(), Protocol::V311);
    }

    #[test]
    fn cross_field_rules() {
        let base = UplinkSettings::new("paris-01", "mqtt://b", "tagtally/v1").unwrap();
        assert_eq!(base.client_id, "tagtally-paris-01");
        base.validate().unwrap();

        let mut s = base.clone();
        s.window = 0;
        assert!(matches!(s.validate(), Err(SettingsError::BadWindow(0))));

        let mut s = base.clone();
        s.tls.ca_file = Some("/ca.pem".into());
        assert!(matches!(
            s.validate(),
            Err(SettingsError::TlsFilesWithoutTls(_))
        ));

        let mut s = UplinkSettings::new("paris-01", "mqtts://b", "tagtally/v1").unwrap();
        s.tls.client_cert = Some("/c.pem".into());
        assert!(matches!(
            s.validate(),
            Err(SettingsError::HalfClientIdentity)
        ));

        let mut s = base.clone();
        s.backoff.min = Duration::from_secs(10);
        s.backoff.max = Duration::from_secs(1);
        assert!(matches!(
            s.validate(),
            Err(SettingsError::BadBackoff { .. })
        ));

        let mut s = base;
        s.connect_timeout = Duration::from_millis(10);
        assert!(matches!(
            s.validate(),
            Err(SettingsError::BadConnectTimeout(_))
        ));
    }

    #[test]
    fn password_file() {
        let dir = std::env::temp_dir().join(format!("tagtally-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let c = Credentials::from_password_file("store", &file).unwrap();
        assert_eq!(c.password.expose(), "s3cret");
        assert_eq!(format!("{:?}", c.password), "Secret(..)");

        std::fs::write(&file, "\n").unwrap();
        assert!(matches!(
            Credentials::from_password_file("store", &file),
            Err(SettingsError::PasswordEmpty(_))
        ));
        std::fs::write(&file, vec![b'x'; 70_000]).unwrap();
        assert!(matches!(
            Credentials::from_password_file("store", &file),
            Err(SettingsError::PasswordTooLong { len: 70_000, .. })
        ));
        assert!(matches!(
            Credentials::from_password_file("store", &dir.join("missing")),
            Err(SettingsError::PasswordFile { .. })
        ));
        assert!(matches!(
            Credentials::from_password_file("", &file),
            Err(SettingsError::PasswordTooLong { .. }) | Err(SettingsError::BadUsername(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
