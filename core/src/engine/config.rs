//! What the engine is told at start-up: zones with their presence parameters, the antenna → zone map and the SKU prefix map.

use std::time::Duration;

use crate::ReaderId;
use thiserror::Error;

/// The SPEC §3 presence parameters of one zone (the `[presence]` defaults with the zone's overrides applied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceParams {
    /// Reads needed within `arrive_window` before a tag counts in the zone.
    pub arrive_reads: u16,
    /// The window in which `arrive_reads` reads must fall.
    pub arrive_window: Duration,
    /// A tag no reader has seen for this long (while the zone is covered) leaves the count.
    pub depart_after: Duration,
    /// How long another zone must hold a clear lead before a tag moves there.
    pub move_hysteresis: Duration,
    /// How much stronger (hundredths of a dB) this zone's peak must be to lead another zone that
    /// reads the tag about as often (config `rssi-margin-db`).
    pub rssi_margin_cdbm: i32,
}

impl Default for PresenceParams {
    /// The SPEC §4 defaults.
    fn default() -> Self {
        Self {
            arrive_reads: 2,
            arrive_window: Duration::from_secs(10),
            depart_after: Duration::from_secs(300),
            move_hysteresis: Duration::from_secs(30),
            rssi_margin_cdbm: crate::engine::zone_choice::CLEAR_RSSI_MARGIN_CDBM,
        }
    }
}

/// One configured zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneConfig {
    /// The zone's name as published (e.g. `floor`).
    pub name: String,
    /// Its effective presence parameters.
    pub presence: PresenceParams,
}

/// One `(reader, antenna) → zone` assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AntennaZone {
    /// The reader (its index in the config's reader list).
    pub reader: ReaderId,
    /// The antenna port as the reader numbers it.
    pub antenna: u16,
    /// The zone name; must be one of the configured zones.
    pub zone: String,
}

/// One `[[sku-map]]` entry: EPCs of no GS1 scheme starting with `epc_prefix` get `sku`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkuPrefix {
    /// The EPC prefix as hex digits (an odd count matches a half byte).
    pub epc_prefix: String,
    /// The SKU string to publish.
    pub sku: String,
}

/// Everything the engine needs to know about the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineConfig {
    /// The zones, in config order.
    pub zones: Vec<ZoneConfig>,
    /// Which antenna covers which zone; a reader covers every zone one of its antennas maps to.
    pub antennas: Vec<AntennaZone>,
    /// The prefix map for EPCs that decode as no GS1 scheme; the first matching prefix wins.
    pub sku_map: Vec<SkuPrefix>,
    /// The most candidates held at once (config `max-candidates`); `None` sizes the cap from the
    /// tag table (see [`super::DEFAULT_MIN_CANDIDATES`]).
    pub max_candidates: Option<usize>,
    /// Zone trust ([`super::zone_trust`]): how long an antenna may be silent before it is suspect
    /// (config `[zone-trust] suspect-after`); `None` watches no antenna.
    pub suspect_after: Option<Duration>,
    /// Sentinel tags: fixed in one antenna's field, never stock.
    pub sentinels: Vec<SentinelTag>,
}

/// One sentinel tag of one antenna (config `sentinels` on a reader).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentinelTag {
    /// The reader.
    pub reader: ReaderId,
    /// The antenna port whose field holds it.
    pub antenna: u16,
    /// Its EPC.
    pub epc: Vec<u8>,
}

/// Why an [`EngineConfig`] cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EngineConfigError {
    /// Two zones share a name.
    #[error("zone {name:?} is declared twice")]
    DuplicateZone { name: String },
    /// More zones than the engine's zone index can hold.
    #[error("{count} zones configured, at most {max} are supported")]
    TooManyZones { count: usize, max: usize },
    /// An antenna maps to a zone that is not declared.
    #[error("reader {reader} antenna {antenna} maps to undeclared zone {zone:?}")]
    UnknownZone {
        reader: u16,
        antenna: u16,
        zone: String,
    },
    /// The same antenna is mapped twice.
    #[error("reader {reader} antenna {antenna} is mapped twice")]
    DuplicateAntenna { reader: u16, antenna: u16 },
    /// `arrive-reads` of zero would count tags nobody read.
    #[error("zone {zone:?} has arrive-reads 0, at least 1 is needed")]
    ZeroArriveReads { zone: String },
    /// A `[[sku-map]]` prefix is not hex.
    #[error("sku-map prefix {prefix:?} is not hex")]
    BadSkuPrefix { prefix: String },
}
