//! The root of the configuration: what `tagtally run` and every tool that reads the config get.

use crate::epcis::Epcis;
use crate::log_format::LogFormat;
use crate::log_level::LogLevel;
use crate::mqtt::Mqtt;
use crate::presence::Presence;
use crate::reader::Reader;
use crate::replenish::Replenish;
use crate::sku_map::SkuMapping;
use crate::span::Location;
use crate::zone::Zone;
use crate::zone_trust::ZoneTrust;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the config is read from unless `-c/--config` says otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/tagtally/tagtally.toml";
/// `state-dir` when not given (systemd's `StateDirectory=tagtally`).
pub const DEFAULT_STATE_DIR: &str = "/var/lib/tagtally";
/// `control-socket` when not given (under systemd's `RuntimeDirectory=tagtally`).
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/tagtally/control.sock";
/// `count-max-duration` when not given (SPEC §10): a count session open longer is cancelled.
pub const DEFAULT_COUNT_MAX_DURATION: std::time::Duration =
    std::time::Duration::from_secs(2 * 3600);
/// Longest unix socket path Linux accepts (`sockaddr_un.sun_path` less its terminating NUL).
pub const MAX_SOCKET_PATH_BYTES: usize = 107;

/// A valid configuration: defaults applied, per-zone presence resolved, relative paths resolved
/// against the config file's directory, every cross-reference checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The store's name (`store`, `[a-z0-9_-]{1,64}`), part of every MQTT topic.
    pub store: String,
    /// Directory of the redb database (`state-dir`).
    pub state_dir: PathBuf,
    /// The bound on the state database's page cache (`state-cache-bytes`).
    pub state_cache_bytes: u64,
    /// The control socket's path (`control-socket`).
    pub control_socket: PathBuf,
    /// `log-level`.
    pub log_level: LogLevel,
    /// `log-format`.
    pub log_format: LogFormat,
    /// Where the Prometheus endpoint listens (`metrics-listen`, loopback only); none when absent.
    pub metrics_listen: Option<SocketAddr>,
    /// `max-candidates`: the most tags seen but not yet counted held at once; `None` lets the
    /// daemon size it from the tags present.
    pub max_candidates: Option<usize>,
    /// `count-max-duration`: a count session open longer is cancelled (SPEC §10).
    pub count_max_duration: std::time::Duration,
    /// `[presence]` with defaults applied: the rules of a zone without overrides.
    pub presence: Presence,
    /// `[[zone]]`, in file order, each with its effective presence rules.
    pub zones: Vec<Zone>,
    /// `[[reader]]`, in file order.
    pub readers: Vec<Reader>,
    /// `[[sku-map]]`, in file order.
    pub sku_map: Vec<SkuMapping>,
    /// `[zone-trust]` with its default resolved.
    pub zone_trust: ZoneTrust,
    /// `[replenish]` with its default applied (SPEC §10).
    pub replenish: Replenish,
    /// `[mqtt]`.
    pub mqtt: Mqtt,
    /// `[epcis]`; none when absent (no event history kept).
    pub epcis: Option<Epcis>,
    /// Where the values of top-level keys and `[mqtt]` keys are written, for problems found
    /// after loading (TLS files that do not parse, a reload asking for a restart).
    pub locations: KeyLocations,
}

/// Where values are written in the config file: `store`, `state-dir`, `control-socket`,
/// `log-level`, `presence`, `mqtt`, and `mqtt.KEY` for each key of `[mqtt]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLocations(pub(crate) BTreeMap<String, Location>);

impl KeyLocations {
    /// Where the value of `key` is written, if it is.
    pub fn get(&self, key: &str) -> Option<Location> {
        self.0.get(key).copied()
    }
}

impl Config {
    /// The zone called `name`.
    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones.iter().find(|zone| zone.name == name)
    }

    /// The reader called `name`.
    pub fn reader(&self, name: &str) -> Option<&Reader> {
        self.readers.iter().find(|reader| reader.name == name)
    }
}
