//! What the control socket reports: daemon health, reader links, stock counts and tail events.
//!
//! These types are the payloads of the wire protocol (see [`super::protocol`]) and what a
//! [`super::ControlBackend`] hands to the server. Field names are the JSON keys (snake_case);
//! optional fields are omitted when absent, never written as `null`, so that a newer daemon can
//! add fields and an older CLI still reads its answers. `docs/CONTROL.md` shows every document.

use super::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// The answer to `status`: the daemon's health on one screen (SPEC §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The daemon's own version (`CARGO_PKG_VERSION`), not the protocol version.
    pub daemon_version: String,
    /// The store's name (`store` in the config).
    pub store: String,
    /// The state database's epoch (SPEC §6).
    pub epoch: String,
    /// When the daemon started.
    pub started_at: Timestamp,
    /// Seconds since the daemon started.
    pub uptime_secs: u64,
    /// Readers whose link is up.
    pub readers_up: u32,
    /// Readers whose link is down.
    pub readers_down: u32,
    /// Tag reads per second over the last few seconds, all readers together.
    pub reads_per_sec: f64,
    /// Tags currently counted in some zone.
    pub tags_present: u64,
    /// Deltas committed but not yet acknowledged by the broker.
    pub outbox: Outbox,
    /// The EPCIS outbox (`[epcis] publish = true` only; absent otherwise and from daemons that
    /// predate it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epcis_outbox: Option<EpcisOutbox>,
    /// The MQTT uplink.
    pub mqtt: Mqtt,
    /// Zones whose every covering reader is down: their counts are frozen, not drained (SPEC §3).
    pub stale_zones: Vec<String>,
    /// Per zone with antennas: covering antennas, healthy ones, last read, rate against baseline
    /// (SPEC §10 zone trust). Absent from daemons that predate it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zone_trust: Vec<tagtally_contract::ZoneTrustEntry>,
    /// The state database (SPEC §7). Absent from daemons that predate it. Boxed: rarely read, and it
    /// would make every control reply as large as a status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<Box<StateDatabase>>,
    /// The daemon's build: version, git commit, features, target. Absent from daemons that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Box<Build>>,
    /// The system clock as the daemon sees it: synchronised or not, and its steps. Absent from daemons
    /// that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<Box<SystemClock>>,
}

/// The daemon's build (from `tagtally::build_info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// The crate version.
    pub version: String,
    /// The git commit (12 hex digits) or `unknown`.
    pub commit: String,
    /// The cargo features compiled in.
    pub features: Vec<String>,
    /// The target triple.
    pub target: String,
}

/// Whether the system clock can be trusted for the times the daemon publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemClock {
    /// `synchronized`, `unsynchronized`, or `unknown` when the kernel could not be asked.
    pub sync: ClockSync,
    /// How many times the daemon saw the wall clock step and re-anchored its published times.
    pub steps: u64,
    /// The last step: signed milliseconds (positive: the clock jumped forward).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step_ms: Option<i64>,
    /// When the last step was seen (wall time after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step_at: Option<Timestamp>,
}

/// The kernel's view of the system clock (`adjtimex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSync {
    /// An NTP client (chrony, systemd-timesyncd, ntpd-rs) keeps it in sync.
    Synchronized,
    /// Nothing has synchronised it (yet): published times may be wrong.
    Unsynchronized,
    /// The kernel could not be asked.
    Unknown,
}

/// The state database: where it is, what is committed, and whether it can be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDatabase {
    /// `ok`, or `disk_full` while writes fail for lack of space.
    pub state: DatabaseState,
    /// The database file.
    pub path: String,
    /// The seq of the last committed delta: everything up to it is on disk.
    pub last_seq: u64,
    /// While `disk_full`: when the first write failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// While `disk_full`: what the file system said (`No space left on device (os error 28)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// While `disk_full`: (zone, SKU) count changes held in memory, not committed nor published yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_changes: Option<u64>,
    /// While `disk_full`: broker acknowledgements not yet recorded (those deltas would be re-sent
    /// after a restart; HQ deduplicates them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_acks: Option<u64>,
    /// While `disk_full`: how often the write is tried again, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_every_secs: Option<u64>,
}

/// Whether the state database takes writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseState {
    /// Commits go through.
    Ok,
    /// The disk (quota, file-size limit) has no room: counts are held in memory and retried; what
    /// was committed before is safe and still published.
    DiskFull,
}

/// The durable outbox of `epcis` messages (`[epcis] publish = true`, SPEC §12): what waits for a
/// PUBACK, and what left it since the state database was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpcisOutbox {
    /// Messages waiting for a PUBACK.
    pub records: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Messages the broker acknowledged.
    pub published: u64,
    /// Messages dropped unsent: the oldest when the outbox was full, and those no broker takes.
    pub dropped: u64,
}

/// The durable outbox of unacknowledged deltas (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    /// Delta records waiting for a PUBACK.
    pub records: u64,
    /// Their size on disk, in bytes.
    pub bytes: u64,
}

/// The MQTT uplink as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mqtt {
    /// Where the connection stands.
    pub state: MqttState,
    /// The last connection or publish error, kept while reconnecting so the technician sees why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the broker last acknowledged a publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_publish: Option<Timestamp>,
    /// The seq of the last delta the broker acknowledged in this epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_acked_seq: Option<u64>,
}

/// Where the MQTT connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MqttState {
    /// Connected to the broker; deltas flow.
    Connected,
    /// Connecting or reconnecting.
    Connecting,
    /// The last attempt failed and the uplink waits before the next one (see `last_error`).
    Error,
}

/// Whether a reader link or an antenna works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Up or down.
    pub state: ReaderLinkState,
    /// Why it is down (`connection refused`, `no keepalive for 30s`, `antenna disconnected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the state last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

/// A reader's link: up or down (the MQTT link's state is `uplink::LinkState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReaderLinkState {
    /// Working.
    Up,
    /// Not working; the driver keeps reconnecting.
    Down,
}

/// One reader in the answer to `readers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStatus {
    /// The reader's `name` in the config.
    pub name: String,
    /// `llrp`, `thingmagic` or `r2000`.
    pub kind: String,
    /// `fixed` or `handheld` (a handheld's reads count only in count sessions).
    #[serde(default = "fixed_role")]
    pub role: String,
    /// Where it is reached: `host:port` or a device path.
    pub endpoint: String,
    /// The reader link.
    pub link: Link,
    /// Tag reads per second over the last few seconds.
    pub reads_per_sec: f64,
    /// When it last reported a tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read: Option<Timestamp>,
    /// Frames dropped (corrupt, bad CRC, absurd length) and device-reported errors since start.
    pub errors: u64,
    /// Reconnections since start.
    pub reconnects: u64,
    /// Attempts to reach the reader that failed, since start.
    #[serde(default)]
    pub failed_reconnects: u64,
    /// Reads from antenna ports the config maps to no zone (dropped), since start.
    #[serde(default)]
    pub unmapped_reads: u64,
    /// Messages of a type the driver does not know (vendor extensions, newer protocol versions),
    /// ignored, since start.
    #[serde(default)]
    pub unknown_messages: u64,
    /// Tags this reader saw once that were evicted at the candidate cap (a flood of ghost EPCs).
    #[serde(default)]
    pub candidates_evicted: u64,
    /// The model the reader reported, once connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The firmware version the reader reported, once connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// Its configured antennas, by port.
    pub antennas: Vec<AntennaStatus>,
}

fn unseen() -> String {
    "unseen".to_owned()
}

fn fixed_role() -> String {
    "fixed".to_owned()
}

/// One antenna of a reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AntennaStatus {
    /// The antenna port (1-based, as in the config).
    pub antenna: u16,
    /// The zone it covers.
    pub zone: String,
    /// The antenna's own state (a reader can be up with an antenna unplugged).
    pub link: Link,
    /// Tag reads per second through this antenna.
    pub reads_per_sec: f64,
    /// When it last reported a tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read: Option<Timestamp>,
    /// Zone trust: is a silence of this antenna believed (SPEC §10). Absent from daemons that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<tagtally_contract::AntennaTrustEntry>,
}

/// The answer to `stock`: the document of SPEC §5, plus the configured zones with their roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stock {
    /// The store's name.
    pub store: String,
    /// The state database's epoch.
    pub epoch: String,
    /// The seq of the last delta these counts include: they equal the last snapshot plus every
    /// delta up to `seq` (SPEC §3 invariant).
    pub seq: u64,
    /// Non-zero counts, sorted by zone then SKU.
    pub counts: Vec<StockCount>,
    /// The configured zones (those the zone filter passes) with their roles, in config order;
    /// absent from daemons that predate zone roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<StockZone>,
}

/// A configured zone and its role (SPEC §4: `sales-floor`, `stockroom`, `fitting-room`, `exit`,
/// `other`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockZone {
    /// The zone.
    pub zone: String,
    /// Its role.
    pub role: String,
}

/// One (zone, SKU) count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCount {
    /// The zone.
    pub zone: String,
    /// The SKU (GTIN-14, a GS1 class pattern, a mapped name or `unknown`; SPEC §3).
    pub sku: String,
    /// Tags present in that zone with that SKU.
    pub count: u64,
}

/// One line of the `tail` stream. `kind` tags the variant on the wire, so every event is a
/// flat object: `{"kind":"read","time":...,"reader":...,"antenna":...,"epc":...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TailEvent {
    /// A raw tag read, as the reader reported it.
    Read {
        /// When the reader saw the tag.
        time: Timestamp,
        /// The reader's name.
        reader: String,
        /// The antenna port.
        antenna: u16,
        /// The zone that antenna covers.
        zone: String,
        /// The EPC in lower-case hex.
        epc: String,
        /// The tag's SKU, when it is already known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sku: Option<String>,
        /// Received signal strength in dBm, when the reader reports it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rssi: Option<f32>,
    },
    /// A tag started counting in a zone.
    Arrival {
        /// When the engine decided it.
        time: Timestamp,
        /// The EPC in lower-case hex.
        epc: String,
        /// The zone it now counts in.
        zone: String,
        /// Its SKU.
        sku: String,
    },
    /// A tag stopped counting.
    Departure {
        /// When the engine decided it.
        time: Timestamp,
        /// The EPC in lower-case hex.
        epc: String,
        /// The zone it left.
        zone: String,
        /// Its SKU.
        sku: String,
        /// Why: `unseen` (not seen for `depart-after`), `sale` or `count` (SPEC §10).
        #[serde(default = "unseen")]
        reason: String,
    },
    /// A tag moved from one zone to another.
    Move {
        /// When the engine decided it.
        time: Timestamp,
        /// The EPC in lower-case hex.
        epc: String,
        /// The zone it left.
        from: String,
        /// The zone it now counts in.
        to: String,
        /// Its SKU.
        sku: String,
    },
}

/// The kind of a [`TailEvent`], for filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TailKind {
    /// [`TailEvent::Read`].
    Read,
    /// [`TailEvent::Arrival`].
    Arrival,
    /// [`TailEvent::Departure`].
    Departure,
    /// [`TailEvent::Move`].
    Move,
}

impl TailKind {
    /// The name used on the wire and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            TailKind::Read => "read",
            TailKind::Arrival => "arrival",
            TailKind::Departure => "departure",
            TailKind::Move => "move",
        }
    }
}

impl TailEvent {
    /// Which kind of event this is.
    pub fn kind(&self) -> TailKind {
        match self {
            TailEvent::Read { .. } => TailKind::Read,
            TailEvent::Arrival { .. } => TailKind::Arrival,
            TailEvent::Departure { .. } => TailKind::Departure,
            TailEvent::Move { .. } => TailKind::Move,
        }
    }

    /// When it happened.
    pub fn time(&self) -> Timestamp {
        match self {
            TailEvent::Read { time, .. }
            | TailEvent::Arrival { time, .. }
            | TailEvent::Departure { time, .. }
            | TailEvent::Move { time, .. } => *time,
        }
    }

    /// The tag's EPC in lower-case hex.
    pub fn epc(&self) -> &str {
        match self {
            TailEvent::Read { epc, .. }
            | TailEvent::Arrival { epc, .. }
            | TailEvent::Departure { epc, .. }
            | TailEvent::Move { epc, .. } => epc,
        }
    }

    /// The tag's SKU, when known.
    pub fn sku(&self) -> Option<&str> {
        match self {
            TailEvent::Read { sku, .. } => sku.as_deref(),
            TailEvent::Arrival { sku, .. }
            | TailEvent::Departure { sku, .. }
            | TailEvent::Move { sku, .. } => Some(sku),
        }
    }

    /// The reader that saw the tag (reads only).
    pub fn reader(&self) -> Option<&str> {
        match self {
            TailEvent::Read { reader, .. } => Some(reader),
            _ => None,
        }
    }

    /// Whether the event concerns `zone` (for a move: as its origin or its destination).
    pub fn touches_zone(&self, zone: &str) -> bool {
        match self {
            TailEvent::Read { zone: z, .. }
            | TailEvent::Arrival { zone: z, .. }
            | TailEvent::Departure { zone: z, .. } => z == zone,
            TailEvent::Move { from, to, .. } => from == zone || to == zone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn at(millis: u64) -> Timestamp {
        Timestamp(SystemTime::UNIX_EPOCH + Duration::from_millis(millis))
    }

    #[test]
    fn stock_is_the_spec_document() {
        let stock = Stock {
            store: "paris-01".into(),
            epoch: "e1".into(),
            seq: 42,
            counts: vec![StockCount {
                zone: "floor".into(),
                sku: "80614141123458".into(),
                count: 3,
            }],
            zones: Vec::new(),
        };
        assert_eq!(
            serde_json::to_string(&stock).unwrap(),
            r#"{"store":"paris-01","epoch":"e1","seq":42,"counts":[{"zone":"floor","sku":"80614141123458","count":3}]}"#
        );
    }

    #[test]
    fn tail_events_are_flat_objects_tagged_by_kind() {
        let read = TailEvent::Read {
            time: at(0),
            reader: "ceiling-1".into(),
            antenna: 2,
            zone: "floor".into(),
            epc: "3074".into(),
            sku: None,
            rssi: Some(-52.5),
        };
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            r#"{"kind":"read","time":"1970-01-01T00:00:00.000Z","reader":"ceiling-1","antenna":2,"zone":"floor","epc":"3074","rssi":-52.5}"#
        );
        let moved = TailEvent::Move {
            time: at(1),
            epc: "3074".into(),
            from: "floor".into(),
            to: "backroom".into(),
            sku: "s".into(),
        };
        let json = serde_json::to_string(&moved).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"move","time":"1970-01-01T00:00:00.001Z","epc":"3074","from":"floor","to":"backroom","sku":"s"}"#
        );
        assert_eq!(serde_json::from_str::<TailEvent>(&json).unwrap(), moved);
        assert!(moved.touches_zone("backroom") && moved.touches_zone("floor"));
        assert!(!read.touches_zone("backroom"));
    }
}
