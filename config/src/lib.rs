//! The tagtally configuration: schema, loader and validation (SPEC §4).
//!
//! [`Config::load`] reads a TOML file and returns either a [`Config`] with every default applied
//! or a [`ConfigErrors`] listing every problem as `FILE:LINE:COL: message`. Checking runs in
//! stages, each reporting all it finds:
//!
//! 1. TOML syntax (all syntax errors; nothing else is checked when there are any);
//! 2. each top-level section and each `[[zone]]`, `[[reader]]` and `[[sku-map]]` table on its
//!    own: unknown keys, types and ranges (the first problem of each table, with its place);
//! 3. cross-field rules: unique names, antennas mapped to declared zones, keys fitting the
//!    reader's kind, antennas and regions the reader's module has, TLS files only with
//!    `mqtts://`, no inline secrets, at most [`MAX_READERS`] readers and [`MAX_ZONES`] zones;
//! 4. the file system, as [`FileChecks`] says: the config file not world-writable, every named
//!    file a readable regular file of bounded size, secrets not world-readable and not empty (the
//!    password is read here, once, into [`Mqtt::password`]), nothing but a socket at the
//!    control socket's path.
//!
//! Every file is read by [`read_regular_file`]: never a FIFO or device (refused by type before it
//! could block), never more than a bound (the config itself at most [`MAX_CONFIG_BYTES`]).
//!
//! [`Config::from_str`] runs stages 1–3 only, for tests and tools that have text, not a file;
//! [`FileChecks::UnderRoot`] runs stage 4 against a copy of a gateway's files. Relative paths in
//! a config are resolved against the config file's directory.
//!
//! Keys beyond SPEC §4 (documented in `tagtally.example.toml`): `state-cache-bytes`, `log-format`,
//! `metrics-listen`, `count-max-duration`, `[replenish] min-file`, `[epcis]` (SPEC §12 names its keys only in prose); `[presence] rssi-margin-db` and
//! its per-zone override; `[mqtt] protocol`, `keep-alive`, `outbox-max-bytes`,
//! `reconnect-backoff-max`; `baud` and `region` defaults for serial readers.

mod config;
mod duration;
mod epcis;
mod error;
mod file_checks;
mod file_read;
mod host_port;
mod hq;
mod limits;
mod load;
mod log_format;
mod log_level;
mod metrics_listen;
mod mqtt;
mod name;
mod paths;
mod presence;
mod reader;
mod reader_role;
mod replenish;
mod secret;
mod sections;
mod sku_map;
mod span;
mod state_cache;
mod validate;
mod zone;
mod zone_role;
mod zone_trust;

pub use config::{
    Config, KeyLocations, DEFAULT_CONFIG_PATH, DEFAULT_CONTROL_SOCKET, DEFAULT_COUNT_MAX_DURATION,
    DEFAULT_STATE_DIR, MAX_SOCKET_PATH_BYTES,
};
pub use duration::{parse_positive_duration, DurationError, MAX_DURATION};
pub use epcis::{BadGln, Epcis, StoreGln};
pub use error::{ConfigError, ConfigErrors, ConfigProblem};
pub use file_checks::{FileChecks, MAX_CERTIFICATE_BYTES};
pub use file_read::{read_regular_file, FileReadError};
pub use host_port::{HostPort, HostPortError};
pub use hq::{HqApply, HqConfig, HqDatabase, HqMqtt, DEFAULT_HQ_CONFIG_PATH, DEFAULT_HQ_LISTEN};
pub use limits::{BadMaxCandidates, MAX_MAX_CANDIDATES, MIN_MAX_CANDIDATES};
pub use load::MAX_CONFIG_BYTES;
pub use log_format::LogFormat;
pub use log_level::LogLevel;
pub use metrics_listen::BadMetricsListen;
pub use mqtt::{
    BrokerUrl, BrokerUrlError, ClientCert, Mqtt, MqttProtocol, DEFAULT_FLUSH_INTERVAL,
    DEFAULT_KEEP_ALIVE, DEFAULT_MQTTS_PORT, DEFAULT_MQTT_PORT, DEFAULT_OUTBOX_MAX_BYTES,
    DEFAULT_RECONNECT_BACKOFF_MAX, DEFAULT_SNAPSHOT_INTERVAL, DEFAULT_TOPIC_PREFIX,
};
pub use name::is_valid_name;
pub use presence::Presence;
pub use reader::{
    LlrpLink, R2000Region, Reader, ReaderKind, ReaderLink, Region, SerialLink, SerialModule,
    SerialPort, BAUD_RATES, DEFAULT_BAUD, DEFAULT_KEEPALIVE, DEFAULT_LLRP_PORT,
    R2000_MAX_SINGLE_ANTENNA, R2000_MAX_SWITCHED_ANTENNA, THINGMAGIC_MAX_ANTENNA,
};
pub use reader_role::ReaderRole;
pub use replenish::{BadMinOnFloor, Replenish, DEFAULT_MIN_ON_FLOOR, MAX_MIN_ON_FLOOR};
pub use secret::{
    read_secret_file, secret_from_bytes, Secret, SecretContentError, SecretFileError,
    MAX_SECRET_BYTES,
};
pub use sku_map::SkuMapping;
pub use span::{locate, Location};
pub use state_cache::{
    BadStateCacheBytes, DEFAULT_STATE_CACHE_BYTES, MAX_STATE_CACHE_BYTES, MIN_STATE_CACHE_BYTES,
};
pub use validate::{MAX_READERS, MAX_ZONES};
pub use zone::Zone;
pub use zone_role::ZoneRole;
pub use zone_trust::{
    ZoneTrust, DEFAULT_SUSPECT_AFTER, MAX_SENTINELS_PER_ANTENNA, MIN_SUSPECT_AFTER,
};
