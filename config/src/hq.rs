//! `hq.toml`: the configuration of `tagtally hq` (SPEC §11), in the style of SPEC §4 and read
//! by the same machinery: kebab-case keys, unknown keys refused, every problem as
//! `FILE:LINE:COL: message`, secrets only by file.
//!
//! ```toml
//! log-level = "info"
//!
//! [database]
//! url = "postgresql://hq@127.0.0.1:5432/tagtally"    # no password in the url
//! password-file = "/etc/tagtally/hq-db.password"    # optional
//! pool-size = 8
//!
//! [mqtt]
//! url = "mqtts://broker.hq.example:8883"  # or mqtt:// (plain)
//! client-id = "tagtally-hq-1"            # required: one per instance (its persistent session)
//! username = "hq"
//! password-file = "/etc/tagtally/hq-mqtt.password"
//! ca-file = "/etc/tagtally/hq-ca.pem"     # mqtts only; system roots without it
//! client-cert = "/etc/tagtally/hq.pem"   # mqtts only, with client-key: mutual TLS
//! client-key = "/etc/tagtally/hq.key"
//! protocol = "5"                         # "5" (default) or "3.1.1"
//! group = "tagtally-hq"                  # MQTT 5 shared subscription group (optional)
//! topic-prefix = "tagtally/v1"
//! keep-alive = "30s"
//! session-expiry = "7d"                  # MQTT 5: how long the broker keeps our queue
//! max-message-bytes = 1048576
//!
//! [http]
//! listen = "127.0.0.1:8080"
//!
//! [apply]
//! gap-timeout = "5s"                     # a gap this old is asked for (cmd/replay, then cmd/snapshot)
//! request-backoff-max = "5m"
//! batch-max = 256                        # messages per transaction
//! batch-linger = "20ms"                  # longest wait to fill a batch
//! read-ahead-bytes = 67108864            # read from the broker, waiting to be applied (64 MiB)
//! stale-after = "3m"                     # a store not heard from this long is stale
//!
//! [zone-roles]                           # zone name -> role, for availability by role
//! floor = "sales-floor"
//! backroom = "stockroom"
//! ```

use crate::duration::Interval;
use crate::error::{ConfigError, ConfigErrors, ConfigProblem, ErrorSink};
use crate::file_checks::{check_named_files, config_file_problem, FileChecks};
use crate::log_level::LogLevel;
use crate::mqtt::{
    check_keep_alive, client_id_problem, topic_prefix_problem, BrokerUrl, ClientCert, KeepAlive,
    MqttProtocol, TlsKeys,
};
use crate::paths::{base_dir, resolve, FileRef, FileRole};
use crate::secret::Secret;
use crate::DEFAULT_TOPIC_PREFIX;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Where `tagtally hq` reads its config unless `-c/--config` says otherwise.
pub const DEFAULT_HQ_CONFIG_PATH: &str = "/etc/tagtally/hq.toml";
/// `[http] listen` when not given: loopback only.
pub const DEFAULT_HQ_LISTEN: &str = "127.0.0.1:8080";

/// Bounds of `[apply] read-ahead-bytes`: 16 KiB (a few messages) to 16 GiB.
const READ_AHEAD_MIN: u64 = 16 * 1024;
const READ_AHEAD_MAX: u64 = 16 * 1024 * 1024 * 1024;

/// The roles a zone can have (SPEC §4).
const ZONE_ROLES: [&str; 5] = ["sales-floor", "stockroom", "fitting-room", "exit", "other"];

/// A valid `hq.toml`, defaults applied, paths resolved against the file's directory.
#[derive(Debug, Clone, PartialEq)]
pub struct HqConfig {
    /// `log-level`.
    pub log_level: LogLevel,
    /// `[database]`.
    pub database: HqDatabase,
    /// `[mqtt]`.
    pub mqtt: HqMqtt,
    /// `[http] listen`.
    pub listen: SocketAddr,
    /// `[apply]`.
    pub apply: HqApply,
    /// `[zone-roles]`: zone name to role.
    pub zone_roles: BTreeMap<String, String>,
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HqDatabase {
    /// PostgreSQL connection URL or key-value string, without a password.
    pub url: String,
    /// File holding the password, if the server wants one.
    pub password_file: Option<PathBuf>,
    /// The password, read from `password-file` by the loader's file checks (once); `None`
    /// without a password file, or when the file checks were skipped.
    pub password: Option<Secret>,
    /// Most connections open at once.
    pub pool_size: usize,
}

/// `[mqtt]` of the HQ service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HqMqtt {
    /// The broker, `mqtt://` or `mqtts://`.
    pub broker: BrokerUrl,
    /// MQTT 5 (default) or 3.1.1 (no shared subscription, no session expiry).
    pub protocol: MqttProtocol,
    /// CA certificates to trust instead of the system roots (`ca-file`, PEM; mqtts only).
    pub ca_file: Option<PathBuf>,
    /// Certificate and key for mutual TLS (`client-cert` and `client-key`, PEM; mqtts only).
    pub client_cert: Option<ClientCert>,
    /// This instance's client id (its persistent session).
    pub client_id: String,
    /// User name.
    pub username: Option<String>,
    /// Password file.
    pub password_file: Option<PathBuf>,
    /// The password, read from `password-file` by the loader's file checks (once); `None`
    /// without a password file, or when the file checks were skipped.
    pub password: Option<Secret>,
    /// Shared subscription group (`$share/{group}/...`), MQTT 5 only.
    pub group: Option<String>,
    /// The stores' topic prefix.
    pub topic_prefix: String,
    /// Keep-alive.
    pub keep_alive: Duration,
    /// MQTT 5 session expiry.
    pub session_expiry: Duration,
    /// Largest payload accepted.
    pub max_message_bytes: usize,
}

/// `[apply]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HqApply {
    /// A gap open this long is asked for.
    pub gap_timeout: Duration,
    /// Cap of the backoff between asks for one gap.
    pub request_backoff_max: Duration,
    /// Most messages per transaction.
    pub batch_max: usize,
    /// Longest wait to fill a batch.
    pub batch_linger: Duration,
    /// Most bytes of messages read from the broker that wait for the applier; a message read
    /// beyond is left with the broker (unacknowledged) and fetched again by a reconnect.
    pub read_ahead_bytes: usize,
    /// A store not heard from this long is stale.
    pub stale_after: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct HqSpec {
    #[serde(default)]
    log_level: Option<LogLevel>,
    database: Option<DatabaseSpec>,
    mqtt: Option<HqMqttSpec>,
    #[serde(default)]
    http: Option<HttpSpec>,
    #[serde(default)]
    apply: Option<ApplySpec>,
    #[serde(default)]
    zone_roles: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct DatabaseSpec {
    url: Spanned<String>,
    #[serde(default)]
    password_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    password: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    pool_size: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct HqMqttSpec {
    url: Spanned<String>,
    client_id: Spanned<String>,
    #[serde(default)]
    username: Option<Spanned<String>>,
    #[serde(default)]
    password_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    password: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    ca_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    client_cert: Option<Spanned<PathBuf>>,
    #[serde(default)]
    client_key: Option<Spanned<PathBuf>>,
    #[serde(default)]
    protocol: Option<MqttProtocol>,
    #[serde(default)]
    group: Option<Spanned<String>>,
    #[serde(default)]
    topic_prefix: Option<Spanned<String>>,
    #[serde(default)]
    keep_alive: Option<Spanned<KeepAlive>>,
    #[serde(default)]
    session_expiry: Option<Interval>,
    #[serde(default)]
    max_message_bytes: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct HttpSpec {
    #[serde(default)]
    listen: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ApplySpec {
    #[serde(default)]
    gap_timeout: Option<Interval>,
    #[serde(default)]
    request_backoff_max: Option<Interval>,
    #[serde(default)]
    batch_max: Option<Spanned<u32>>,
    #[serde(default)]
    batch_linger: Option<Interval>,
    #[serde(default)]
    read_ahead_bytes: Option<Spanned<u64>>,
    #[serde(default)]
    stale_after: Option<Interval>,
}

impl HqConfig {
    /// Reads and validates `hq.toml` as `tagtally hq run` does, files included.
    pub fn load(path: impl AsRef<Path>) -> Result<HqConfig, ConfigErrors> {
        HqConfig::load_with(path, &FileChecks::Real)
    }

    /// [`HqConfig::load`] with the named files checked as `checks` says.
    pub fn load_with(
        path: impl AsRef<Path>,
        checks: &FileChecks,
    ) -> Result<HqConfig, ConfigErrors> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| {
            ConfigErrors(vec![ConfigError {
                file: path.to_path_buf(),
                location: None,
                problem: ConfigProblem::ConfigUnreadable {
                    reason: error.to_string(),
                },
            }])
        })?;
        let mut sink = ErrorSink::new(path, &text);
        if !matches!(checks, FileChecks::Skip) {
            if let Some(problem) = config_file_problem(path) {
                sink.whole_file(problem);
            }
        }
        let mut files = Vec::new();
        let config = build(&text, path, &mut files, &mut sink);
        let secrets = check_named_files(&files, checks, &mut sink);
        match config {
            Some(mut config) if sink.len() == 0 => {
                config.database.password = secrets.take(config.database.password_file.as_deref());
                config.mqtt.password = secrets.take(config.mqtt.password_file.as_deref());
                Ok(config)
            }
            _ => Err(ConfigErrors(sink.into_errors())),
        }
    }

    /// Validates config `text` without touching the file system.
    pub fn from_str(text: &str, origin: impl AsRef<Path>) -> Result<HqConfig, ConfigErrors> {
        let mut sink = ErrorSink::new(origin.as_ref(), text);
        let config = build(text, origin.as_ref(), &mut Vec::new(), &mut sink);
        match config {
            Some(config) if sink.len() == 0 => Ok(config),
            _ => Err(ConfigErrors(sink.into_errors())),
        }
    }
}

fn build(
    text: &str,
    origin: &Path,
    files: &mut Vec<FileRef>,
    sink: &mut ErrorSink,
) -> Option<HqConfig> {
    let spec: HqSpec = match toml::from_str(text) {
        Ok(spec) => spec,
        Err(error) => {
            sink.toml(&error, 0..0);
            return None;
        }
    };
    let base = base_dir(origin);
    let errors_before = sink.len();
    let Some(database) = &spec.database else {
        sink.at(
            0..0,
            ConfigProblem::MissingSection {
                section: "database",
            },
        );
        return None;
    };
    let Some(mqtt) = &spec.mqtt else {
        sink.at(0..0, ConfigProblem::MissingSection { section: "mqtt" });
        return None;
    };
    let database = database.build(&base, files, sink);
    let mqtt = mqtt.build(&base, files, sink);
    let listen_text = spec.http.as_ref().and_then(|http| http.listen.clone());
    let listen = match &listen_text {
        None => DEFAULT_HQ_LISTEN.parse().ok(),
        // An IP literal: binding a host name would depend on resolution at start-up.
        Some(listen) => match listen.get_ref().parse::<SocketAddr>().ok() {
            Some(address) => Some(address),
            None => {
                sink.at(
                    listen.span(),
                    ConfigProblem::Toml(format!(
                        "listen `{}` is not an IP address and port, like \"127.0.0.1:8080\"",
                        listen.get_ref()
                    )),
                );
                None
            }
        },
    };
    let apply = match &spec.apply {
        Some(apply) => apply.build(sink),
        None => ApplySpec::default().build(sink),
    };
    let mut zone_roles = BTreeMap::new();
    for (zone, role) in &spec.zone_roles {
        if ZONE_ROLES.contains(&role.get_ref().as_str()) {
            zone_roles.insert(zone.clone(), role.get_ref().clone());
        } else {
            sink.at(
                role.span(),
                ConfigProblem::Toml(format!(
                    "role `{}` of zone `{zone}` is not one of {}",
                    role.get_ref(),
                    ZONE_ROLES.join(", ")
                )),
            );
        }
    }
    if sink.len() > errors_before {
        return None;
    }
    Some(HqConfig {
        log_level: spec.log_level.unwrap_or_default(),
        database: database?,
        mqtt: mqtt?,
        listen: listen?,
        apply: apply?,
        zone_roles,
    })
}

fn refuse_inline_password(
    password: Option<&Spanned<IgnoredAny>>,
    what: &'static str,
    sink: &mut ErrorSink,
) {
    if let Some(password) = password {
        sink.at(
            password.span(),
            ConfigProblem::InlineSecret {
                what,
                file_key: "password-file",
            },
        );
    }
}

fn secret_file(
    base: &Path,
    path: Option<&Spanned<PathBuf>>,
    files: &mut Vec<FileRef>,
) -> Option<PathBuf> {
    path.map(|path| {
        let resolved = resolve(base, path.get_ref());
        files.push(FileRef {
            key: "password-file",
            path: resolved.clone(),
            span: path.span(),
            role: FileRole::Password,
        });
        resolved
    })
}

impl DatabaseSpec {
    fn build(
        &self,
        base: &Path,
        files: &mut Vec<FileRef>,
        sink: &mut ErrorSink,
    ) -> Option<HqDatabase> {
        refuse_inline_password(self.password.as_ref(), "database password", sink);
        let url = self.url.get_ref();
        // `user:password@` in a URL, or `password=` in a key-value string or query.
        let authority = url
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(""));
        let inline = authority.is_some_and(|authority| {
            authority
                .rsplit_once('@')
                .is_some_and(|(user_info, _)| user_info.contains(':'))
        }) || url.contains("password=");
        if inline {
            sink.at(
                self.url.span(),
                ConfigProblem::InlineSecret {
                    what: "database password",
                    file_key: "password-file",
                },
            );
            return None;
        }
        let pool_size = match &self.pool_size {
            Some(size) if !(1..=256).contains(size.get_ref()) => {
                sink.at(
                    size.span(),
                    ConfigProblem::Toml(format!(
                        "pool-size must be 1 to 256, not {}",
                        size.get_ref()
                    )),
                );
                return None;
            }
            Some(size) => *size.get_ref() as usize,
            None => 8,
        };
        Some(HqDatabase {
            url: url.clone(),
            password_file: secret_file(base, self.password_file.as_ref(), files),
            password: None,
            pool_size,
        })
    }
}

impl HqMqttSpec {
    fn build(&self, base: &Path, files: &mut Vec<FileRef>, sink: &mut ErrorSink) -> Option<HqMqtt> {
        let errors_before = sink.len();
        refuse_inline_password(self.password.as_ref(), "mqtt password", sink);
        let tls = TlsKeys {
            ca_file: self.ca_file.as_ref(),
            client_cert: self.client_cert.as_ref(),
            client_key: self.client_key.as_ref(),
        };
        let broker = match BrokerUrl::parse(self.url.get_ref()) {
            Ok(broker) => {
                tls.check_need_tls(&broker, sink);
                Some(broker)
            }
            Err(reason) => {
                sink.at(
                    self.url.span(),
                    ConfigProblem::BadMqttUrl {
                        url: self.url.get_ref().clone(),
                        reason,
                    },
                );
                None
            }
        };
        if let Some(reason) = client_id_problem(self.client_id.get_ref()) {
            sink.at(
                self.client_id.span(),
                ConfigProblem::BadClientId {
                    client_id: self.client_id.get_ref().clone(),
                    reason,
                },
            );
        }
        if let (Some(password_file), None) = (&self.password_file, &self.username) {
            sink.at(password_file.span(), ConfigProblem::PasswordWithoutUsername);
        }
        let client_cert = tls.client_cert(base, sink);
        // Shared subscriptions are MQTT 5's; on 3.1.1 every instance gets every message.
        let protocol = self.protocol.unwrap_or(MqttProtocol::V5);
        check_keep_alive(self.keep_alive.as_ref(), protocol, sink);
        let group = self.group.as_ref().map(|group| {
            let text = group.get_ref();
            if protocol == MqttProtocol::V3_1_1 {
                sink.at(
                    group.span(),
                    ConfigProblem::Toml(
                        "group needs protocol \"5\": MQTT 3.1.1 has no shared subscriptions \
                         (without a group every instance gets every message)"
                            .to_owned(),
                    ),
                );
            }
            if text.is_empty() || text.len() > 64 || text.contains(['/', '+', '#']) || text.chars().any(char::is_control) {
                sink.at(
                    group.span(),
                    ConfigProblem::Toml(format!(
                        "group `{text}` must be 1 to 64 characters without /, +, # or control characters"
                    )),
                );
            }
            text.clone()
        });
        let topic_prefix = self
            .topic_prefix
            .as_ref()
            .map_or(DEFAULT_TOPIC_PREFIX.to_owned(), |prefix| {
                prefix.get_ref().clone()
            });
        if let (Some(reason), Some(prefix)) =
            (topic_prefix_problem(&topic_prefix), &self.topic_prefix)
        {
            sink.at(
                prefix.span(),
                ConfigProblem::BadTopicPrefix {
                    prefix: topic_prefix.clone(),
                    reason,
                },
            );
        }
        let max_message_bytes = match &self.max_message_bytes {
            Some(bytes) if !(1024..=268_435_455).contains(bytes.get_ref()) => {
                sink.at(
                    bytes.span(),
                    ConfigProblem::Toml(format!(
                        "max-message-bytes must be 1024 to 268435455 (MQTT's largest packet), not {}",
                        bytes.get_ref()
                    )),
                );
                0
            }
            Some(bytes) => *bytes.get_ref() as usize,
            None => 1024 * 1024,
        };
        let password_file = secret_file(base, self.password_file.as_ref(), files);
        let ca_file = tls.list_files(base, files);
        if sink.len() > errors_before {
            return None;
        }
        Some(HqMqtt {
            broker: broker?,
            protocol,
            ca_file,
            client_cert,
            client_id: self.client_id.get_ref().clone(),
            username: self.username.as_ref().map(|name| name.get_ref().clone()),
            password_file,
            password: None,
            group,
            topic_prefix,
            keep_alive: self
                .keep_alive
                .as_ref()
                .map_or(Duration::from_secs(30), |keep| keep.get_ref().0),
            session_expiry: self
                .session_expiry
                .map_or(Duration::from_secs(7 * 24 * 3600), |expiry| expiry.0),
            max_message_bytes,
        })
    }
}

impl ApplySpec {
    fn build(&self, sink: &mut ErrorSink) -> Option<HqApply> {
        let batch_max = match &self.batch_max {
            Some(batch) if !(1..=10_000).contains(batch.get_ref()) => {
                sink.at(
                    batch.span(),
                    ConfigProblem::Toml(format!(
                        "batch-max must be 1 to 10000, not {}",
                        batch.get_ref()
                    )),
                );
                return None;
            }
            Some(batch) => *batch.get_ref() as usize,
            None => 256,
        };
        let read_ahead_bytes = match &self.read_ahead_bytes {
            Some(bytes) if !(READ_AHEAD_MIN..=READ_AHEAD_MAX).contains(bytes.get_ref()) => {
                sink.at(
                    bytes.span(),
                    ConfigProblem::Toml(format!(
                        "read-ahead-bytes must be {READ_AHEAD_MIN} to {READ_AHEAD_MAX} (16 KiB to 16 GiB), not {}",
                        bytes.get_ref()
                    )),
                );
                return None;
            }
            Some(bytes) => usize::try_from(*bytes.get_ref()).unwrap_or(usize::MAX),
            None => 64 * 1024 * 1024,
        };
        Some(HqApply {
            gap_timeout: self.gap_timeout.map_or(Duration::from_secs(5), |d| d.0),
            request_backoff_max: self
                .request_backoff_max
                .map_or(Duration::from_secs(300), |d| d.0),
            batch_max,
            batch_linger: self.batch_linger.map_or(Duration::from_millis(20), |d| d.0),
            read_ahead_bytes,
            stale_after: self.stale_after.map_or(Duration::from_secs(180), |d| d.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[database]\nurl = \"postgresql://hq@127.0.0.1/tagtally\"\n\n[mqtt]\nurl = \"mqtt://127.0.0.1:1883\"\nclient-id = \"hq-1\"\n";

    fn problems(text: &str) -> Vec<String> {
        HqConfig::from_str(text, "hq.toml")
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_minimal_config_gets_loopback_and_defaults() {
        let config = HqConfig::from_str(MINIMAL, "hq.toml").unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.mqtt.topic_prefix, "tagtally/v1");
        assert_eq!(config.apply.gap_timeout, Duration::from_secs(5));
        assert_eq!(config.database.pool_size, 8);
        assert_eq!(config.apply.read_ahead_bytes, 64 * 1024 * 1024);
    }

    #[test]
    fn read_ahead_bytes_is_bounded() {
        let text = format!("{MINIMAL}\n[apply]\nread-ahead-bytes = 65536\n");
        let config = HqConfig::from_str(&text, "hq.toml").unwrap();
        assert_eq!(config.apply.read_ahead_bytes, 65_536);
        let text = format!("{MINIMAL}\n[apply]\nread-ahead-bytes = 1000\n");
        assert!(
            problems(&text)[0]
                .starts_with("hq.toml:9:20: read-ahead-bytes must be 16384 to 17179869184"),
            "{:?}",
            problems(&text)
        );
    }

    #[test]
    fn tls_and_mqtt_3_1_1_are_accepted() {
        let text = MINIMAL.replace("mqtt://127.0.0.1:1883", "mqtts://broker.hq.example")
            + "ca-file = \"ca.pem\"\nclient-cert = \"hq.pem\"\nclient-key = \"hq.key\"\nprotocol = \"3.1.1\"\n";
        let config = HqConfig::from_str(&text, "/etc/tagtally/hq.toml").unwrap();
        assert!(config.mqtt.broker.tls);
        assert_eq!(config.mqtt.broker.address.port, 8883);
        assert_eq!(config.mqtt.protocol, MqttProtocol::V3_1_1);
        assert_eq!(
            config.mqtt.ca_file.as_deref(),
            Some(Path::new("/etc/tagtally/ca.pem"))
        );
        assert_eq!(
            config.mqtt.client_cert.map(|pair| pair.key_file),
            Some(PathBuf::from("/etc/tagtally/hq.key"))
        );
        let five = HqConfig::from_str(MINIMAL, "hq.toml").unwrap();
        assert_eq!(five.mqtt.protocol, MqttProtocol::V5);
    }

    #[test]
    fn unknown_keys_are_refused_at_their_place() {
        let text = format!("{MINIMAL}colour = \"blue\"\n");
        let problems = problems(&text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("hq.toml:7:1: unknown field `colour`"),
            "{problems:?}"
        );
    }

    #[test]
    fn secrets_are_only_taken_from_files() {
        let text = MINIMAL.replace("hq@127", "hq:s3cret@127");
        assert!(
            problems(&text)[0].contains("inline secrets are not accepted"),
            "{:?}",
            problems(&text)
        );
        let text = format!("{MINIMAL}password = \"x\"\n");
        assert!(
            problems(&text)[0].starts_with("hq.toml:7:"),
            "{:?}",
            problems(&text)
        );
    }

    #[test]
    fn both_password_files_are_read_once_into_their_sections() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, secret: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, secret).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        };
        write("db.password", "db-s3cret\n");
        write("mqtt.password", "mqtt-s3cret\n");
        let text = MINIMAL
            .replace(
                "[mqtt]\n",
                "password-file = \"db.password\"\n\n[mqtt]\nusername = \"hq\"\npassword-file = \"mqtt.password\"\n",
            );
        let path = dir.path().join("hq.toml");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let config = HqConfig::load(&path).unwrap();
        assert_eq!(
            config.database.password.as_ref().map(Secret::expose),
            Some("db-s3cret")
        );
        assert_eq!(
            config.mqtt.password.as_ref().map(Secret::expose),
            Some("mqtt-s3cret")
        );
        let skipped = HqConfig::load_with(&path, &FileChecks::Skip).unwrap();
        assert_eq!(skipped.database.password, None);
    }

    #[test]
    fn bad_values_are_located() {
        let text = MINIMAL.replace("client-id", "ca-file = \"ca.pem\"\nclient-id");
        assert!(
            problems(&text)[0].starts_with("hq.toml:6:11: `ca-file` needs an mqtts://"),
            "{:?}",
            problems(&text)
        );
        let text = MINIMAL.replace("mqtt://127.0.0.1:1883", "mqtts://broker")
            + "client-cert = \"hq.pem\"\n";
        assert!(
            problems(&text)[0].starts_with("hq.toml:7:15: `client-cert`"),
            "{:?}",
            problems(&text)
        );
        let text = format!("{MINIMAL}keep-alive = \"4s\"\n");
        assert!(
            problems(&text)[0].starts_with("hq.toml:7:14: keep-alive must be at least 5s"),
            "{:?}",
            problems(&text)
        );
        let text = format!("{MINIMAL}protocol = \"3.1.1\"\ngroup = \"hq\"\n");
        assert!(
            problems(&text)[0].starts_with("hq.toml:8:9: group needs protocol"),
            "{:?}",
            problems(&text)
        );
        let text = format!("{MINIMAL}\n[http]\nlisten = \"everywhere\"\n");
        assert!(
            problems(&text)[0].starts_with("hq.toml:9:10: listen"),
            "{:?}",
            problems(&text)
        );
        let text = format!("{MINIMAL}\n[zone-roles]\nfloor = \"shelf\"\n");
        assert!(
            problems(&text)[0].contains("role `shelf`"),
            "{:?}",
            problems(&text)
        );
    }
}
