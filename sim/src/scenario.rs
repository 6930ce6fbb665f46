//! The reader-emulator scenario file (TOML): the emulated reader, the tags it sees over time, and injected faults.
//!
//! One format drives every emulator (`tagtally sim llrp|thingmagic|r2000`), so a store layout
//! written once can be replayed over LLRP or a serial line. All times are offsets from the moment
//! the emulator started (the *scenario clock*); with `repeat-after` the whole schedule (tags and
//! faults) starts over every period, which keeps a demo running forever.
//!
//! ```toml
//! seed = 7                          # pseudo-random source: same file, same reads (default 1)
//! repeat-after = "10m"              # optional: the schedule loops with this period
//!
//! [reader]                          # what the emulated reader says about itself
//! antennas = 4                      # antenna ports 1..=antennas (default 4)
//! model = "Impinj R700"             # free text, shown by probes (default per emulator)
//! firmware = "7.6.0"                # firmware version text (default "1.0.0")
//!
//! [inventory]
//! read-rate = 20.0                  # inventory rounds per second (default 10); in every round
//!                                   # each tag visible on an active antenna is read at most once
//! rssi-jitter-db = 1.5              # uniform ± noise added to every RSSI (default 0)
//!
//! [llrp]                            # LLRP emulator only
//! vendor = 25882                    # IANA id: 25882 Impinj (adds ImpinjPeakRSSI), 161 Zebra (default 25882)
//! model-number = 2001052            # ModelName number (default 2001052, an R700)
//! version = "1.0.1"                 # "1.0.1" or "1.1": header version of what the reader sends
//! clock = "utc"                     # "utc" or "uptime" (readers without a real-time clock)
//! clock-offset-ms = 0               # the reader's clock error, signed (skew tests)
//! min-power-dbm = 10.0              # transmit power table: min..=max in steps
//! max-power-dbm = 32.5
//! power-step-db = 0.25
//!
//! [[tag]]                           # one tag
//! epc = "3074257BF7194E4000001A85"  # hex, 2..=62 bytes
//! antennas = [1, 2]                 # ports that see it (default [1])
//! rssi = -58.5                      # dBm at every antenna that sees it (default -60)
//! read-probability = 0.9            # chance a round reads it (default 1)
//! appear = "0s"                     # when it comes into the field (default 0s)
//! leave = "2m"                      # when it goes away (default never)
//! moves = [ { at = "30s", antennas = [3], rssi = -65.0 } ]   # where it goes, in time order
//!
//! [[population]]                    # many similar tags: EPC = prefix + serial (big-endian)
//! count = 1000
//! epc-prefix = "30395DFA8000"       # the remaining bytes up to epc-bytes hold the serial
//! epc-bytes = 12                    # default 12 (96 bits)
//! first-serial = 1                  # default 1
//! antennas = [1]                    # and rssi, read-probability, appear, leave, moves as for [[tag]]
//!
//! [[fault]]                         # injected at `at`, and again every `every` if given
//! at = "45s"
//! kind = "go-silent"                # see below
//! duration = "40s"
//! ```
//!
//! Fault kinds and their keys:
//! * `drop-connection`: the connection (TCP socket, pty) is closed abruptly.
//! * `go-silent` (`duration`): nothing is sent and nothing read for `duration` (a half-open
//!   link), then the connection is dropped, as by a reader that rebooted.
//! * `reject-add-rospec` (`status` = LLRP status code, default 100; `description`; `times`,
//!   default 1): the next ADD_ROSPEC requests are refused (LLRP only).
//! * `corrupt-frame` (`count`, default 1): the next frames are corrupted inside; their length
//!   stays right, so an LLRP client drops just that message and a serial client sees a bad CRC.
//! * `line-noise` (`probability`, 0 to 1): from then on each frame on a serial line is damaged (as by
//!   `corrupt-frame`) with that probability — a noisy cable; 0 makes the line clean again. TCP has
//!   its own checksums: LLRP emulators ignore it.
//! * `junk-bytes` (`bytes`, default 16): that many junk bytes are spliced between two frames.
//! * `antenna-event` (`antenna`, `connected`): an antenna is reported (dis)connected; a
//!   disconnected antenna reads nothing until reconnected.
//! * `antenna-silence` (`antenna`, `silent`): the antenna reads nothing (`silent = false`: reads
//!   again) and nothing is reported: a cut cable. LLRP emulator only.
//! * `reader-exception` (`message`): the reader reports a fault without dropping the link.
//!
//! `[ghosts]` adds never-repeated EPCs to every round (a flooding peer; see `ghosts.rs`).
//!
//! Unknown keys are errors, as in the daemon's config. Serial emulators add their own section
//! beside `[llrp]` when they need one.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tagtally_core::{Epc, MAX_EPC_BYTES};

/// The most tags one scenario may expand to: bounds the emulator's memory and per-round work.
pub const MAX_TAGS: usize = 1_000_000;

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// Seed of the emulator's pseudo-random source.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Period after which the schedule starts over.
    #[serde(default, deserialize_with = "opt_duration")]
    pub repeat_after: Option<Duration>,
    #[serde(default)]
    pub reader: ReaderSpec,
    #[serde(default)]
    pub inventory: InventorySpec,
    #[serde(default)]
    pub llrp: LlrpSpec,
    #[serde(default, rename = "tag")]
    pub tags: Vec<TagSpec>,
    #[serde(default, rename = "population")]
    pub populations: Vec<PopulationSpec>,
    #[serde(default, rename = "fault")]
    pub faults: Vec<FaultSpec>,
    /// `[ghosts]`: never-repeated EPCs added to every round (see `ghosts.rs`).
    #[serde(default)]
    pub ghosts: Option<super::ghosts::GhostSpec>,
}

/// `[reader]`: how the emulated reader describes itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ReaderSpec {
    /// Antenna ports 1..=antennas.
    #[serde(default = "default_antennas")]
    pub antennas: u16,
    /// Model text; `None` lets each emulator name itself.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default = "default_firmware")]
    pub firmware: String,
}

/// `[inventory]`: how often tags are read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InventorySpec {
    /// Inventory rounds per second.
    #[serde(default = "default_read_rate")]
    pub read_rate: f64,
    /// Uniform ± noise on every RSSI, dB.
    #[serde(default)]
    pub rssi_jitter_db: f64,
}

/// Which clock an LLRP reader stamps reads with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderClock {
    /// Microseconds since 1970 (FirstSeenTimestampUTC).
    #[default]
    Utc,
    /// Microseconds since the emulator started (FirstSeenTimestampUptime).
    Uptime,
}

/// The LLRP version an emulated reader speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum LlrpVersionSpec {
    #[default]
    #[serde(rename = "1.0.1")]
    V1_0_1,
    #[serde(rename = "1.1")]
    V1_1,
}

/// `[llrp]`: what only the LLRP emulator uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LlrpSpec {
    /// DeviceManufacturerName (IANA enterprise number).
    #[serde(default = "default_vendor")]
    pub vendor: u32,
    /// ModelName number.
    #[serde(default = "default_model_number")]
    pub model_number: u32,
    #[serde(default)]
    pub version: LlrpVersionSpec,
    #[serde(default)]
    pub clock: ReaderClock,
    /// The reader clock's error against true time, signed milliseconds.
    #[serde(default)]
    pub clock_offset_ms: i64,
    #[serde(default = "default_min_power")]
    pub min_power_dbm: f64,
    #[serde(default = "default_max_power")]
    pub max_power_dbm: f64,
    #[serde(default = "default_power_step")]
    pub power_step_db: f64,
}

/// A change of place of a tag.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MoveSpec {
    #[serde(deserialize_with = "duration")]
    pub at: Duration,
    pub antennas: Vec<u16>,
    /// New RSSI; `None` keeps the previous one.
    #[serde(default)]
    pub rssi: Option<f64>,
}

/// `[[tag]]`: one tag.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RawTag")]
pub struct TagSpec {
    pub epc: Epc,
    pub presence: PresenceSpec,
}

/// Where, how strongly and when tags are seen; shared by `[[tag]]` and `[[population]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceSpec {
    pub antennas: Vec<u16>,
    /// dBm.
    pub rssi: f64,
    pub read_probability: f64,
    pub appear: Duration,
    pub leave: Option<Duration>,
    pub moves: Vec<MoveSpec>,
}

/// `[[population]]`: `count` tags with consecutive serials.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RawPopulation")]
pub struct PopulationSpec {
    pub count: u32,
    pub epc_prefix: Vec<u8>,
    pub epc_bytes: u8,
    pub first_serial: u64,
    pub presence: PresenceSpec,
}

// serde's `flatten` cannot be combined with `deny_unknown_fields`, so the presence keys are
// spelled out in both raw tables and moved into `PresenceSpec` afterwards.

/// `[[tag]]` as written.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawTag {
    #[serde(deserialize_with = "epc_hex")]
    epc: Epc,
    #[serde(default = "default_tag_antennas")]
    antennas: Vec<u16>,
    #[serde(default = "default_rssi")]
    rssi: f64,
    #[serde(default = "default_probability")]
    read_probability: f64,
    #[serde(default, deserialize_with = "duration")]
    appear: Duration,
    #[serde(default, deserialize_with = "opt_duration")]
    leave: Option<Duration>,
    #[serde(default)]
    moves: Vec<MoveSpec>,
}

impl From<RawTag> for TagSpec {
    fn from(raw: RawTag) -> Self {
        TagSpec {
            epc: raw.epc,
            presence: PresenceSpec {
                antennas: raw.antennas,
                rssi: raw.rssi,
                read_probability: raw.read_probability,
                appear: raw.appear,
                leave: raw.leave,
                moves: raw.moves,
            },
        }
    }
}

/// `[[population]]` as written.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawPopulation {
    count: u32,
    #[serde(deserialize_with = "hex_bytes")]
    epc_prefix: Vec<u8>,
    #[serde(default = "default_epc_bytes")]
    epc_bytes: u8,
    #[serde(default = "default_first_serial")]
    first_serial: u64,
    #[serde(default = "default_tag_antennas")]
    antennas: Vec<u16>,
    #[serde(default = "default_rssi")]
    rssi: f64,
    #[serde(default = "default_probability")]
    read_probability: f64,
    #[serde(default, deserialize_with = "duration")]
    appear: Duration,
    #[serde(default, deserialize_with = "opt_duration")]
    leave: Option<Duration>,
    #[serde(default)]
    moves: Vec<MoveSpec>,
}

impl From<RawPopulation> for PopulationSpec {
    fn from(raw: RawPopulation) -> Self {
        PopulationSpec {
            count: raw.count,
            epc_prefix: raw.epc_prefix,
            epc_bytes: raw.epc_bytes,
            first_serial: raw.first_serial,
            presence: PresenceSpec {
                antennas: raw.antennas,
                rssi: raw.rssi,
                read_probability: raw.read_probability,
                appear: raw.appear,
                leave: raw.leave,
                moves: raw.moves,
            },
        }
    }
}

/// `[[fault]]`: an injected fault and when.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    pub at: Duration,
    pub every: Option<Duration>,
    pub fault: Fault,
}

/// What can go wrong on purpose. Also what tests and `LlrpSim` control methods inject directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    DropConnection,
    GoSilent {
        duration: Duration,
    },
    RejectAddRospec {
        status: u16,
        description: String,
        times: u32,
    },
    CorruptFrame {
        count: u32,
    },
    /// Each frame damaged with probability `per_million` / 1 000 000.
    LineNoise {
        per_million: u32,
    },
    JunkBytes {
        bytes: usize,
    },
    AntennaEvent {
        antenna: u16,
        connected: bool,
    },
    /// The antenna reads nothing (or reads again) and the reader says nothing about it: a cut cable.
    AntennaSilence {
        antenna: u16,
        silent: bool,
    },
    ReaderException {
        message: String,
    },
}

/// Why a scenario was refused. Messages name the offending value.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Syntax, unknown key, wrong type (the message carries line and column).
    #[error("{0}")]
    Toml(String),
    #[error("antenna {antenna} is outside the reader's ports 1..={max}")]
    AntennaOutOfRange { antenna: u16, max: u16 },
    #[error("read-probability {value} is not between 0 and 1")]
    Probability { value: f64 },
    #[error("{what} {value} is not a finite number in {range}")]
    OutOfRange {
        what: &'static str,
        value: f64,
        range: &'static str,
    },
    #[error("leave ({leave:?}) is not after appear ({appear:?})")]
    LeaveBeforeAppear { appear: Duration, leave: Duration },
    #[error("moves are not in time order: {later:?} comes before {earlier:?}")]
    MovesOutOfOrder { earlier: Duration, later: Duration },
    #[error("population of {count} with epc-prefix of {prefix} bytes cannot fit in epc-bytes {epc_bytes} (2..={max})")]
    PopulationEpc {
        count: u32,
        prefix: usize,
        epc_bytes: u8,
        max: usize,
    },
    #[error("scenario expands to {count} tags, above the maximum of {max}")]
    TooManyTags { count: usize, max: usize },
    #[error("transmit power table {min}..={max} dBm in steps of {step} dB is empty or too long")]
    PowerTable { min: f64, max: f64, step: f64 },
    #[error("the reader has {antennas} antennas; 1..=64 are supported")]
    AntennaCount { antennas: u16 },
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Scenario::parse(&text)
    }

    /// Parses and validates scenario text.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| ScenarioError::Toml(e.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// A scenario with the given tags and every other setting at its default.
    pub fn with_tags(tags: Vec<TagSpec>) -> Scenario {
        Scenario {
            tags,
            ..Scenario::default()
        }
    }

    /// Checks what the types cannot: ranges, antenna numbers, time order, sizes.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let max_antenna = self.reader.antennas;
        if !(1..=64).contains(&max_antenna) {
            return Err(ScenarioError::AntennaCount {
                antennas: max_antenna,
            });
        }
        finite_in(self.inventory.read_rate, 0.001, 100_000.0, "read-rate")?;
        finite_in(self.inventory.rssi_jitter_db, 0.0, 50.0, "rssi-jitter-db")?;
        let l = &self.llrp;
        let steps = (l.max_power_dbm - l.min_power_dbm) / l.power_step_db;
        if !(steps.is_finite() && (0.0..=1000.0).contains(&steps) && l.power_step_db > 0.0) {
            return Err(ScenarioError::PowerTable {
                min: l.min_power_dbm,
                max: l.max_power_dbm,
                step: l.power_step_db,
            });
        }
        finite_in(l.min_power_dbm, -30.0, 40.0, "min-power-dbm")?;
        finite_in(l.max_power_dbm, -30.0, 40.0, "max-power-dbm")?;
        if let Some(ghosts) = &self.ghosts {
            ghosts.validate(max_antenna)?;
        }
        let mut count = self.tags.len();
        for tag in &self.tags {
            tag.presence.validate(max_antenna)?;
        }
        for population in &self.populations {
            population.presence.validate(max_antenna)?;
            let prefix = population.epc_prefix.len();
            let epc_bytes = usize::from(population.epc_bytes);
            let serial_bytes = epc_bytes.saturating_sub(prefix).min(8);
            let fits = (2..=MAX_EPC_BYTES).contains(&epc_bytes)
                && prefix < epc_bytes
                && (serial_bytes == 8
                    || population
                        .first_serial
                        .saturating_add(u64::from(population.count))
                        <= 1u64 << (8 * serial_bytes));
            if !fits {
                return Err(ScenarioError::PopulationEpc {
                    count: population.count,
                    prefix,
                    epc_bytes: population.epc_bytes,
                    max: MAX_EPC_BYTES,
                });
            }
            count = count.saturating_add(population.count as usize);
        }
        if count > MAX_TAGS {
            return Err(ScenarioError::TooManyTags {
                count,
                max: MAX_TAGS,
            });
        }
        Ok(())
    }

    /// Every tag of the scenario, populations expanded, in file order (tags, then populations).
    pub fn expanded_tags(&self) -> Vec<(Epc, &PresenceSpec)> {
        let mut out = Vec::with_capacity(self.tags.len());
        out.extend(self.tags.iter().map(|t| (t.epc, &t.presence)));
        for p in &self.populations {
            out.extend(p.epcs().map(|epc| (epc, &p.presence)));
        }
        out
    }

    /// The transmit power table the LLRP emulator offers: (index from 1, centi-dBm).
    pub fn power_table(&self) -> Vec<(u16, i16)> {
        let l = &self.llrp;
        let steps = ((l.max_power_dbm - l.min_power_dbm) / l.power_step_db).round() as u16;
        (0..=steps)
            .map(|i| {
                let dbm = l.min_power_dbm + f64::from(i) * l.power_step_db;
                (i + 1, (dbm * 100.0).round() as i16)
            })
            .collect()
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            seed: default_seed(),
            repeat_after: None,
            reader: ReaderSpec::default(),
            inventory: InventorySpec::default(),
            llrp: LlrpSpec::default(),
            tags: Vec::new(),
            populations: Vec::new(),
            faults: Vec::new(),
            ghosts: None,
        }
    }
}

impl Default for ReaderSpec {
    fn default() -> Self {
        ReaderSpec {
            antennas: default_antennas(),
            model: None,
            firmware: default_firmware(),
        }
    }
}

impl Default for InventorySpec {
    fn default() -> Self {
        InventorySpec {
            read_rate: default_read_rate(),
            rssi_jitter_db: 0.0,
        }
    }
}

impl Default for LlrpSpec {
    fn default() -> Self {
        LlrpSpec {
            vendor: default_vendor(),
            model_number: default_model_number(),
            version: LlrpVersionSpec::default(),
            clock: ReaderClock::default(),
            clock_offset_ms: 0,
            min_power_dbm: default_min_power(),
            max_power_dbm: default_max_power(),
            power_step_db: default_power_step(),
        }
    }
}

impl TagSpec {
    /// A tag always present on `antennas` at `rssi` dBm, read in every round.
    pub fn fixed(epc: Epc, antennas: &[u16], rssi: f64) -> TagSpec {
        TagSpec {
            epc,
            presence: PresenceSpec {
                antennas: antennas.to_vec(),
                rssi,
                ..PresenceSpec::default()
            },
        }
    }
}

impl Default for PresenceSpec {
    fn default() -> Self {
        PresenceSpec {
            antennas: default_tag_antennas(),
            rssi: default_rssi(),
            read_probability: default_probability(),
            appear: Duration::ZERO,
            leave: None,
            moves: Vec::new(),
        }
    }
}

impl PresenceSpec {
    fn validate(&self, max_antenna: u16) -> Result<(), ScenarioError> {
        let all_antennas = self
            .antennas
            .iter()
            .chain(self.moves.iter().flat_map(|m| m.antennas.iter()));
        for &antenna in all_antennas {
            if antenna == 0 || antenna > max_antenna {
                return Err(ScenarioError::AntennaOutOfRange {
                    antenna,
                    max: max_antenna,
                });
            }
        }
        if !(0.0..=1.0).contains(&self.read_probability) {
            return Err(ScenarioError::Probability {
                value: self.read_probability,
            });
        }
        for rssi in std::iter::once(self.rssi).chain(self.moves.iter().filter_map(|m| m.rssi)) {
            finite_in(rssi, -128.0, 127.0, "rssi")?;
        }
        if let Some(leave) = self.leave {
            if leave <= self.appear {
                return Err(ScenarioError::LeaveBeforeAppear {
                    appear: self.appear,
                    leave,
                });
            }
        }
        for pair in self.moves.windows(2) {
            if pair[1].at < pair[0].at {
                return Err(ScenarioError::MovesOutOfOrder {
                    earlier: pair[0].at,
                    later: pair[1].at,
                });
            }
        }
        Ok(())
    }

    /// Where the tag is at scenario time `t`: its antennas and RSSI, or `None` when out of the field.
    pub fn at(&self, t: Duration) -> Option<(&[u16], f64)> {
        if t < self.appear || self.leave.is_some_and(|leave| t >= leave) {
            return None;
        }
        let mut antennas = self.antennas.as_slice();
        let mut rssi = self.rssi;
        for m in self.moves.iter().take_while(|m| m.at <= t) {
            antennas = &m.antennas;
            rssi = m.rssi.unwrap_or(rssi);
        }
        Some((antennas, rssi))
    }
}

impl PopulationSpec {
    /// The population's EPCs in serial order.
    pub fn epcs(&self) -> impl Iterator<Item = Epc> + '_ {
        (0..u64::from(self.count))
            .filter_map(|i| population_epc(self, self.first_serial.wrapping_add(i)))
    }
}

/// The EPC of serial `serial` of a population: the prefix, then the serial big-endian in the
/// remaining bytes (truncated to them; validation keeps serials within range). `None` only for
/// an `epc-bytes` that validation refuses.
fn population_epc(p: &PopulationSpec, serial: u64) -> Option<Epc> {
    let mut bytes = [0u8; MAX_EPC_BYTES];
    let len = usize::from(p.epc_bytes).min(MAX_EPC_BYTES);
    let prefix = p.epc_prefix.len().min(len);
    bytes[..prefix].copy_from_slice(&p.epc_prefix[..prefix]);
    let serial_be = serial.to_be_bytes();
    let serial_len = (len - prefix).min(8);
    bytes[len - serial_len..len].copy_from_slice(&serial_be[8 - serial_len..]);
    Epc::from_slice(&bytes[..len])
}

fn finite_in(value: f64, lo: f64, hi: f64, what: &'static str) -> Result<(), ScenarioError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(ScenarioError::OutOfRange {
            what,
            value,
            range: match what {
                "read-rate" => "0.001..=100000",
                "rssi-jitter-db" => "0..=50",
                "rssi" => "-128..=127",
                _ => "-30..=40",
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawFault {
    #[serde(deserialize_with = "duration")]
    at: Duration,
    #[serde(default, deserialize_with = "opt_duration")]
    every: Option<Duration>,
    kind: FaultKind,
    #[serde(default, deserialize_with = "opt_duration")]
    duration: Option<Duration>,
    status: Option<u16>,
    description: Option<String>,
    times: Option<u32>,
    count: Option<u32>,
    probability: Option<f64>,
    bytes: Option<usize>,
    antenna: Option<u16>,
    connected: Option<bool>,
    silent: Option<bool>,
    message: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum FaultKind {
    DropConnection,
    GoSilent,
    RejectAddRospec,
    CorruptFrame,
    LineNoise,
    JunkBytes,
    AntennaEvent,
    AntennaSilence,
    ReaderException,
}

/// The most junk one fault may splice in; keeps a typo from allocating gigabytes.
const MAX_JUNK_BYTES: usize = 1 << 20;

impl<'de> Deserialize<'de> for FaultSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawFault::deserialize(deserializer)?;
        let missing =
            |key: &str, kind: &str| de::Error::custom(format!("fault `{kind}` needs `{key}`"));
        let fault = match raw.kind {
            FaultKind::DropConnection => Fault::DropConnection,
            FaultKind::GoSilent => Fault::GoSilent {
                duration: raw
                    .duration
                    .ok_or_else(|| missing("duration", "go-silent"))?,
            },
            FaultKind::RejectAddRospec => Fault::RejectAddRospec {
                status: raw.status.unwrap_or(100),
                description: raw
                    .description
                    .unwrap_or_else(|| "rospec rejected by scenario".to_owned()),
                times: raw.times.unwrap_or(1),
            },
            FaultKind::CorruptFrame => Fault::CorruptFrame {
                count: raw.count.unwrap_or(1),
            },
            FaultKind::LineNoise => {
                let probability = raw
                    .probability
                    .ok_or_else(|| missing("probability", "line-noise"))?;
                if !(0.0..=1.0).contains(&probability) {
                    return Err(de::Error::custom(format!(
                        "line-noise `probability` {probability} is not in 0..=1"
                    )));
                }
                Fault::LineNoise {
                    per_million: (probability * 1e6).round() as u32,
                }
            }
            FaultKind::JunkBytes => {
                let bytes = raw.bytes.unwrap_or(16);
                if bytes == 0 || bytes > MAX_JUNK_BYTES {
                    return Err(de::Error::custom(format!(
                        "junk-bytes `bytes` {bytes} is not in 1..={MAX_JUNK_BYTES}"
                    )));
                }
                Fault::JunkBytes { bytes }
            }
            FaultKind::AntennaEvent => Fault::AntennaEvent {
                antenna: raw
                    .antenna
                    .ok_or_else(|| missing("antenna", "antenna-event"))?,
                connected: raw
                    .connected
                    .ok_or_else(|| missing("connected", "antenna-event"))?,
            },
            FaultKind::AntennaSilence => Fault::AntennaSilence {
                antenna: raw
                    .antenna
                    .ok_or_else(|| missing("antenna", "antenna-silence"))?,
                silent: raw
                    .silent
                    .ok_or_else(|| missing("silent", "antenna-silence"))?,
            },
            FaultKind::ReaderException => Fault::ReaderException {
                message: raw
                    .message
                    .ok_or_else(|| missing("message", "reader-exception"))?,
            },
        };
        if raw.every.is_some_and(|every| every.is_zero()) {
            return Err(de::Error::custom("fault `every` must be greater than zero"));
        }
        Ok(FaultSpec {
            at: raw.at,
            every: raw.every,
            fault,
        })
    }
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(|e| {
        de::Error::custom(format!(
            "`{text}` is not a duration ({e}); write it with a unit, like \"500ms\" or \"10s\""
        ))
    })
}

fn opt_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    duration(deserializer).map(Some)
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'-' | b':' | b'_'))
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("`{text}` has an odd number of hex digits"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16);
            let lo = (pair[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(hi), Some(lo)) => Ok((hi * 16 + lo) as u8),
                _ => Err(format!("`{text}` is not hex")),
            }
        })
        .collect()
}

fn hex_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_hex(&text).map_err(de::Error::custom)
}

fn epc_hex<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Epc, D::Error> {
    let text = String::deserialize(deserializer)?;
    let bytes = parse_hex(&text).map_err(de::Error::custom)?;
    if bytes.len() < 2 {
        return Err(de::Error::custom(format!(
            "epc `{text}` is shorter than 16 bits"
        )));
    }
    Epc::from_slice(&bytes).ok_or_else(|| {
        de::Error::custom(format!(
            "epc `{text}` is longer than {MAX_EPC_BYTES} bytes (496 bits)"
        ))
    })
}

fn default_seed() -> u64 {
    1
}
fn default_antennas() -> u16 {
    4
}
fn default_firmware() -> String {
    "1.0.0".to_owned()
}
fn default_read_rate() -> f64 {
    10.0
}
fn default_vendor() -> u32 {
    25882
}
fn default_model_number() -> u32 {
    2_001_052
}
fn default_min_power() -> f64 {
    10.0
}
fn default_max_power() -> f64 {
    32.5
}
fn default_power_step() -> f64 {
    0.25
}
fn default_tag_antennas() -> Vec<u16> {
    vec![1]
}
fn default_rssi() -> f64 {
    -60.0
}
fn default_probability() -> f64 {
    1.0
}
fn default_epc_bytes() -> u8 {
    12
}
fn default_first_serial() -> u64 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
seed = 7
repeat-after = "10m"

[reader]
antennas = 4
model = "Impinj R700"
firmware = "7.6.0"

[inventory]
read-rate = 20.0
rssi-jitter-db = 1.5

[llrp]
vendor = 25882
model-number = 2001052
version = "1.1"
clock = "uptime"
clock-offset-ms = -3000
min-power-dbm = 10.0
max-power-dbm = 30.0
power-step-db = 0.5

[[tag]]
epc = "3074257BF7194E4000001A85"
antennas = [1, 2]
rssi = -58.5
read-probability = 0.9
leave = "2m"
moves = [ { at = "30s", antennas = [3], rssi = -65.0 } ]

[[population]]
count = 3
epc-prefix = "30395DFA8000"
antennas = [4]

[[fault]]
at = "45s"
kind = "go-silent"
duration = "40s"

[[fault]]
at = "1m"
every = "5m"
kind = "reject-add-rospec"
description = "bad antenna"
"#;

    #[test]
    fn the_documented_example_parses() {
        let s = Scenario::parse(FULL).expect("valid scenario");
        assert_eq!(s.seed, 7);
        assert_eq!(s.repeat_after, Some(Duration::from_secs(600)));
        assert_eq!(s.llrp.version, LlrpVersionSpec::V1_1);
        assert_eq!(s.llrp.clock, ReaderClock::Uptime);
        assert_eq!(s.llrp.clock_offset_ms, -3000);
        assert_eq!(s.tags[0].epc.to_string(), "3074257BF7194E4000001A85");
        assert_eq!(s.tags[0].presence.read_probability, 0.9);
        let tags = s.expanded_tags();
        assert_eq!(tags.len(), 4);
        assert_eq!(tags[1].0.to_string(), "30395DFA8000000000000001");
        assert_eq!(tags[3].0.to_string(), "30395DFA8000000000000003");
        assert_eq!(
            s.faults[0].fault,
            Fault::GoSilent {
                duration: Duration::from_secs(40)
            }
        );
        assert_eq!(
            s.faults[1].fault,
            Fault::RejectAddRospec {
                status: 100,
                description: "bad antenna".into(),
                times: 1
            }
        );
        let table = s.power_table();
        assert_eq!(table.first(), Some(&(1, 1000)));
        assert_eq!(table.last(), Some(&(41, 3000)));
    }

    #[test]
    fn an_empty_file_is_a_quiet_default_reader() {
        let s = Scenario::parse("").expect("empty is valid");
        assert_eq!(s, Scenario::default());
        assert_eq!(s.reader.antennas, 4);
    }

    #[test]
    fn presence_follows_appear_moves_and_leave() {
        let s = Scenario::parse(FULL).expect("valid");
        let p = &s.tags[0].presence;
        assert_eq!(p.at(Duration::ZERO), Some((&[1u16, 2][..], -58.5)));
        assert_eq!(p.at(Duration::from_secs(30)), Some((&[3u16][..], -65.0)));
        assert_eq!(p.at(Duration::from_secs(120)), None);
    }

    #[test]
    fn line_noise_is_a_probability_per_frame() {
        let s =
            Scenario::parse("[[fault]]\nat = \"0s\"\nkind = \"line-noise\"\nprobability = 0.03")
                .expect("valid");
        assert_eq!(
            s.faults[0].fault,
            Fault::LineNoise {
                per_million: 30_000
            }
        );
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("bogus = 1", "unknown field"),
            ("[[tag]]\nepc = \"30ZZ\"", "not hex"),
            ("[[tag]]\nepc = \"30\"", "shorter than 16 bits"),
            (
                "[[tag]]\nepc = \"3074\"\nantennas = [5]",
                "antenna 5 is outside",
            ),
            (
                "[[tag]]\nepc = \"3074\"\nread-probability = 1.5",
                "read-probability 1.5",
            ),
            ("[[tag]]\nepc = \"3074\"\nappear = \"10\"", "not a duration"),
            (
                "[[tag]]\nepc = \"3074\"\nappear = \"10s\"\nleave = \"5s\"",
                "is not after appear",
            ),
            (
                "[[fault]]\nat = \"1s\"\nkind = \"go-silent\"",
                "needs `duration`",
            ),
            (
                "[[fault]]\nat = \"1s\"\nkind = \"explode\"",
                "unknown variant",
            ),
            (
                "[[population]]\ncount = 300\nepc-prefix = \"3074\"\nepc-bytes = 3",
                "cannot fit",
            ),
            ("[inventory]\nread-rate = 0.0", "read-rate 0"),
            (
                "[[fault]]\nat = \"1s\"\nkind = \"line-noise\"",
                "needs `probability`",
            ),
            (
                "[[fault]]\nat = \"1s\"\nkind = \"line-noise\"\nprobability = 1.5",
                "probability` 1.5",
            ),
        ];
        for (text, expected) in cases {
            let err = Scenario::parse(text).expect_err(text).to_string();
            assert!(err.contains(expected), "{text:?} gave {err:?}");
        }
    }
}
