//! `[[reader]]`: one RFID reader, how to reach it, and which zone each of its antennas covers.

use crate::duration::Interval;
use crate::error::{ConfigProblem, ErrorSink};
use crate::host_port::HostPort;
use crate::name::Name;
use crate::reader_role::ReaderRole;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;
use toml::Spanned;

/// The LLRP port readers listen on unless `address` names another (IANA-assigned).
pub const DEFAULT_LLRP_PORT: u16 = 5084;
/// `keepalive` when not given.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(10);
/// Shortest `keepalive`: shorter ones mostly measure the reader's CPU, not the link.
pub const MIN_KEEPALIVE: Duration = Duration::from_secs(1);
/// `baud` when not given: the factory setting of ThingMagic and R2000 modules.
pub const DEFAULT_BAUD: u32 = 115_200;
/// The rates serial reader modules and USB adapters actually run at.
pub const BAUD_RATES: [u32; 8] = [
    9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600,
];
/// Highest antenna port of a ThingMagic module: the protocol carries a port in one nibble.
pub const THINGMAGIC_MAX_ANTENNA: u16 = 15;
/// Highest antenna port of an R2000 module reading several antennas: fast-switch inventory
/// (0x8A) has four antenna slots.
pub const R2000_MAX_SWITCHED_ANTENNA: u16 = 4;
/// Highest antenna port of an R2000 module reading one antenna (8-port units).
pub const R2000_MAX_SINGLE_ANTENNA: u16 = 8;
/// The transmit power range accepted, in dBm (readers clamp further to their own table).
pub const TX_POWER_RANGE_DBM: std::ops::RangeInclusive<f64> = -10.0..=40.0;

/// A reader as the drivers need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reader {
    /// The reader's name (`[a-z0-9_-]{1,64}`), used in logs and the `readers/{reader}` topic.
    pub name: String,
    /// Antenna number (1..=65535) → zone name; every zone named is declared.
    pub antennas: BTreeMap<u16, String>,
    /// Transmit power for every antenna, when set (`tx-power-dbm`); otherwise the reader's own.
    pub tx_power_dbm: Option<f64>,
    /// Gen2 session 0..=3, when set (`session`); otherwise the reader's own.
    pub session: Option<u8>,
    /// Fixed (its reads make stock) or handheld (its reads count only in a count session).
    pub role: ReaderRole,
    /// How to reach it.
    pub link: ReaderLink,
    /// Antenna → the EPCs of its sentinel tags (`sentinels`; SPEC §10 zone trust), never stock.
    pub sentinels: BTreeMap<u16, Vec<Vec<u8>>>,
}

impl Reader {
    /// The `kind` the reader was declared with.
    pub fn kind(&self) -> ReaderKind {
        match &self.link {
            ReaderLink::Llrp(_) => ReaderKind::Llrp,
            ReaderLink::Serial(serial) => match serial.module {
                SerialModule::ThingMagic { .. } => ReaderKind::Thingmagic,
                SerialModule::R2000 { .. } => ReaderKind::R2000,
            },
        }
    }
}

/// The `kind` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderKind {
    /// An LLRP reader over TCP.
    Llrp,
    /// A ThingMagic (Mercury API serial protocol) module.
    Thingmagic,
    /// An Impinj R2000-based module speaking the common serial protocol.
    R2000,
}

impl ReaderKind {
    /// The kind as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            ReaderKind::Llrp => "llrp",
            ReaderKind::Thingmagic => "thingmagic",
            ReaderKind::R2000 => "r2000",
        }
    }
}

/// How a reader is reached.
#[derive(Debug, Clone, PartialEq)]
pub enum ReaderLink {
    /// LLRP over TCP.
    Llrp(LlrpLink),
    /// A serial protocol, on a local port or through a serial-over-TCP bridge.
    Serial(SerialLink),
}

/// An LLRP reader's link.
#[derive(Debug, Clone, PartialEq)]
pub struct LlrpLink {
    /// Where the reader listens (`address`, default port 5084).
    pub address: HostPort,
    /// KEEPALIVE period asked of the reader; the link is declared dead after 3 missed ones
    /// (`keepalive`, default 10 s).
    pub keepalive: Duration,
}

/// A serial reader's link.
#[derive(Debug, Clone, PartialEq)]
pub struct SerialLink {
    /// Which serial protocol, and what to set on the module.
    pub module: SerialModule,
    /// Where the bytes go.
    pub port: SerialPort,
    /// Line speed (`baud`, default 115200); ignored by most TCP bridges but kept for their docs.
    pub baud: u32,
    /// The configured antennas as module ports, ascending; each is a port the module has
    /// (1 to [`THINGMAGIC_MAX_ANTENNA`]; R2000: 1 to [`R2000_MAX_SWITCHED_ANTENNA`] when several
    /// are configured, else to [`R2000_MAX_SINGLE_ANTENNA`]).
    pub antenna_ports: Vec<u8>,
}

/// The serial protocol families, each with the regulatory region to set on the module
/// (`region`; `None` keeps the module's own setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialModule {
    /// ThingMagic Mercury: every region.
    ThingMagic {
        /// The region to set.
        region: Option<Region>,
    },
    /// Impinj R2000 modules: the regions with a preset band.
    R2000 {
        /// The region to set.
        region: Option<R2000Region>,
    },
}

/// The regions an R2000 module has a preset band for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum R2000Region {
    /// North America (FCC).
    Na,
    /// Europe (ETSI).
    Eu,
    /// China (920–925 MHz).
    Cn,
}

impl R2000Region {
    /// The R2000 preset for `region`, if the modules have one.
    pub fn from_region(region: Region) -> Option<R2000Region> {
        match region {
            Region::Na => Some(R2000Region::Na),
            Region::Eu => Some(R2000Region::Eu),
            Region::Cn => Some(R2000Region::Cn),
            Region::In | Region::Jp | Region::Kr | Region::Au | Region::Nz => None,
        }
    }
}

/// Where a serial reader's bytes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialPort {
    /// A local serial device (`device`, e.g. /dev/ttyUSB0).
    Device(PathBuf),
    /// A serial-over-TCP bridge (`address`, host:port, no default port).
    Tcp(HostPort),
}

/// Regulatory regions a serial module can be set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    /// North America (FCC, 902–928 MHz).
    Na,
    /// Europe (ETSI EN 302 208, 865–868 MHz).
    Eu,
    /// India (865–867 MHz).
    In,
    /// Japan (916–921 MHz).
    Jp,
    /// South Korea (917–921 MHz).
    Kr,
    /// China (920–925 MHz).
    Cn,
    /// Australia (920–926 MHz).
    Au,
    /// New Zealand (921.5–928 MHz).
    Nz,
}

impl Region {
    /// The region as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Na => "na",
            Region::Eu => "eu",
            Region::In => "in",
            Region::Jp => "jp",
            Region::Kr => "kr",
            Region::Cn => "cn",
            Region::Au => "au",
            Region::Nz => "nz",
        }
    }
}

/// One `[[reader]]` table as written: every kind's keys, checked against `kind` afterwards so
/// a key of the wrong kind gets a message naming the kind rather than "unknown field".
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct ReaderSpec {
    pub name: Spanned<Name>,
    pub kind: Spanned<ReaderKind>,
    #[serde(default)]
    pub address: Option<Spanned<String>>,
    #[serde(default)]
    pub device: Option<Spanned<PathBuf>>,
    #[serde(default)]
    pub baud: Option<Spanned<BaudRate>>,
    #[serde(default)]
    pub region: Option<Spanned<Region>>,
    #[serde(default)]
    pub keepalive: Option<Spanned<Interval>>,
    #[serde(default)]
    pub tx_power_dbm: Option<TxPowerDbm>,
    #[serde(default)]
    pub session: Option<Session>,
    #[serde(default)]
    pub role: ReaderRole,
    /// Zone names stay plain strings here: a name breaking the naming rule cannot be a declared
    /// zone, and "no [[zone]] declares it" says more than the naming rule would.
    pub antennas: Spanned<BTreeMap<Spanned<String>, Spanned<String>>>,
    #[serde(default)]
    pub sentinels: Option<crate::zone_trust::SentinelsSpec>,
}

impl ReaderSpec {
    /// Checks the keys against `kind` and the antenna map against the declared `zones`,
    /// reporting every problem; `None` when there was one.
    pub(crate) fn build(&self, zones: &HashSet<String>, sink: &mut ErrorSink) -> Option<Reader> {
        let name = self.name.get_ref().0.clone();
        let antennas = self.antennas(&name, zones, sink);
        let sentinels = match (&self.sentinels, &antennas) {
            (None, _) => Some(BTreeMap::new()),
            // A handheld's antennas cover no zone: nothing for a sentinel to vouch for.
            (Some(spec), _) if self.role == ReaderRole::Handheld => {
                sink.at(
                    spec.span(),
                    ConfigProblem::SentinelsOnHandheld {
                        reader: name.clone(),
                    },
                );
                None
            }
            (Some(spec), Some(antennas)) => {
                let ports: Vec<u16> = antennas.keys().copied().collect();
                crate::zone_trust::build_sentinels(spec, &name, &ports, sink)
            }
            // Which antennas exist is unknown: their own problem is reported.
            (Some(_), None) => None,
        };
        let link = match *self.kind.get_ref() {
            ReaderKind::Llrp => self.llrp_link(&name, sink).map(ReaderLink::Llrp),
            ReaderKind::Thingmagic | ReaderKind::R2000 => {
                self.serial_link(&name, sink).map(ReaderLink::Serial)
            }
        };
        Some(Reader {
            name,
            antennas: antennas?,
            tx_power_dbm: self.tx_power_dbm.map(|power| power.0),
            session: self.session.map(|session| session.0),
            role: self.role,
            link: link?,
            sentinels: sentinels?,
        })
    }

    fn antennas(
        &self,
        reader: &str,
        zones: &HashSet<String>,
        sink: &mut ErrorSink,
    ) -> Option<BTreeMap<u16, String>> {
        if self.antennas.get_ref().is_empty() {
            sink.at(
                self.antennas.span(),
                ConfigProblem::NoAntennas {
                    reader: reader.to_owned(),
                },
            );
            return None;
        }
        let mut antennas = BTreeMap::new();
        let mut all_good = true;
        for (antenna, zone) in self.antennas.get_ref() {
            let number = match antenna.get_ref().parse::<u16>() {
                Ok(number) if number != 0 => number,
                _ => {
                    sink.at(
                        antenna.span(),
                        ConfigProblem::BadAntenna {
                            reader: reader.to_owned(),
                            antenna: antenna.get_ref().clone(),
                        },
                    );
                    all_good = false;
                    continue;
                }
            };
            let zone_name = zone.get_ref();
            if !zones.contains(zone_name) {
                sink.at(
                    zone.span(),
                    ConfigProblem::UnknownZone {
                        reader: reader.to_owned(),
                        antenna: number,
                        zone: zone_name.clone(),
                    },
                );
                all_good = false;
                continue;
            }
            antennas.insert(number, zone_name.clone());
        }
        all_good.then_some(antennas)
    }

    fn llrp_link(&self, reader: &str, sink: &mut ErrorSink) -> Option<LlrpLink> {
        let kind = ReaderKind::Llrp.as_str();
        let mut all_good = true;
        all_good &= refuse_key(
            "device",
            self.device.as_ref().map(Spanned::span),
            reader,
            kind,
            sink,
        );
        all_good &= refuse_key(
            "baud",
            self.baud.as_ref().map(Spanned::span),
            reader,
            kind,
            sink,
        );
        all_good &= refuse_key(
            "region",
            self.region.as_ref().map(Spanned::span),
            reader,
            kind,
            sink,
        );
        let keepalive = match &self.keepalive {
            None => DEFAULT_KEEPALIVE,
            Some(keepalive) if keepalive.get_ref().0 < MIN_KEEPALIVE => {
                sink.at(
                    keepalive.span(),
                    ConfigProblem::TooShort {
                        key: "keepalive",
                        value: keepalive.get_ref().0,
                        min: MIN_KEEPALIVE,
                    },
                );
                all_good = false;
                DEFAULT_KEEPALIVE
            }
            Some(keepalive) => keepalive.get_ref().0,
        };
        let Some(address) = &self.address else {
            sink.at(
                self.name.span(),
                ConfigProblem::MissingKeyForKind {
                    reader: reader.to_owned(),
                    key: "address",
                    kind,
                },
            );
            return None;
        };
        let address = parse_address(address, Some(DEFAULT_LLRP_PORT), sink)?;
        all_good.then_some(LlrpLink { address, keepalive })
    }

    fn serial_link(&self, reader: &str, sink: &mut ErrorSink) -> Option<SerialLink> {
        let kind = self.kind.get_ref().as_str();
        let mut all_good = refuse_key(
            "keepalive",
            self.keepalive.as_ref().map(Spanned::span),
            reader,
            kind,
            sink,
        );
        let port = match (&self.device, &self.address) {
            (Some(device), None) => Some(SerialPort::Device(device.get_ref().clone())),
            // A bridge has no well-known port, so the address must carry one.
            (None, Some(address)) => parse_address(address, None, sink).map(SerialPort::Tcp),
            (Some(_), Some(_)) | (None, None) => {
                let span = self.device.as_ref().map_or(self.name.span(), Spanned::span);
                sink.at(
                    span,
                    ConfigProblem::SerialPortChoice {
                        reader: reader.to_owned(),
                        kind,
                    },
                );
                None
            }
        };
        all_good &= port.is_some();
        let module = self.serial_module(reader, sink);
        let antenna_ports = self.antenna_ports(reader, sink);
        let link = SerialLink {
            module: module?,
            port: port?,
            baud: self
                .baud
                .as_ref()
                .map_or(DEFAULT_BAUD, |baud| baud.get_ref().0),
            antenna_ports: antenna_ports?,
        };
        all_good.then_some(link)
    }

    /// The module with its region, refusing a region the family has no preset for.
    fn serial_module(&self, reader: &str, sink: &mut ErrorSink) -> Option<SerialModule> {
        let region = self.region.as_ref().map(|region| *region.get_ref());
        if *self.kind.get_ref() == ReaderKind::Thingmagic {
            return Some(SerialModule::ThingMagic { region });
        }
        let Some(region) = region else {
            return Some(SerialModule::R2000 { region: None });
        };
        match R2000Region::from_region(region) {
            Some(preset) => Some(SerialModule::R2000 {
                region: Some(preset),
            }),
            None => {
                let span = self.region.as_ref().map_or(0..0, Spanned::span);
                sink.at(
                    span,
                    ConfigProblem::RegionNotOnModule {
                        reader: reader.to_owned(),
                        region: region.as_str(),
                        family: "R2000",
                        supported: "na, eu, cn",
                    },
                );
                None
            }
        }
    }

    /// The antennas as ports of the module, each refused where it is written if the module
    /// has no such port. Antenna keys that are not numbers were reported by `antennas`.
    fn antenna_ports(&self, reader: &str, sink: &mut ErrorSink) -> Option<Vec<u8>> {
        let antennas = self.antennas.get_ref();
        let (family, max, when) = match self.kind.get_ref() {
            ReaderKind::Thingmagic => ("ThingMagic", THINGMAGIC_MAX_ANTENNA, ""),
            _ if antennas.len() > 1 => (
                "R2000",
                R2000_MAX_SWITCHED_ANTENNA,
                " when several antennas are read",
            ),
            _ => ("R2000", R2000_MAX_SINGLE_ANTENNA, ""),
        };
        let mut ports = Vec::with_capacity(antennas.len());
        let mut all_good = true;
        for antenna in antennas.keys() {
            let Ok(number) = antenna.get_ref().parse::<u16>() else {
                all_good = false;
                continue;
            };
            match u8::try_from(number) {
                Ok(port) if (1..=max).contains(&number) => ports.push(port),
                _ if number == 0 => all_good = false,
                _ => {
                    sink.at(
                        antenna.span(),
                        ConfigProblem::AntennaNotOnModule {
                            reader: reader.to_owned(),
                            antenna: number,
                            family,
                            max,
                            when,
                        },
                    );
                    all_good = false;
                }
            }
        }
        // Keys are strings, so "10" sorts before "2": the ports are sorted as numbers.
        ports.sort_unstable();
        all_good.then_some(ports)
    }
}

/// Reports `key` when it is set on a reader whose kind has no use for it.
fn refuse_key(
    key: &'static str,
    span: Option<std::ops::Range<usize>>,
    reader: &str,
    kind: &'static str,
    sink: &mut ErrorSink,
) -> bool {
    let Some(span) = span else {
        return true;
    };
    sink.at(
        span,
        ConfigProblem::KeyNotForKind {
            reader: reader.to_owned(),
            key,
            kind,
        },
    );
    false
}

fn parse_address(
    address: &Spanned<String>,
    default_port: Option<u16>,
    sink: &mut ErrorSink,
) -> Option<HostPort> {
    HostPort::parse(address.get_ref(), default_port)
        .map_err(|reason| {
            sink.at(
                address.span(),
                ConfigProblem::BadAddress {
                    address: address.get_ref().clone(),
                    reason,
                },
            )
        })
        .ok()
}

/// `baud`: one of [`BAUD_RATES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct BaudRate(pub u32);

/// A `baud` no serial reader runs at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("baud {0} is not a standard rate; use one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600")]
pub struct BadBaudRate(pub i64);

impl TryFrom<i64> for BaudRate {
    type Error = BadBaudRate;

    fn try_from(baud: i64) -> Result<Self, BadBaudRate> {
        BAUD_RATES
            .into_iter()
            .find(|&rate| i64::from(rate) == baud)
            .map(BaudRate)
            .ok_or(BadBaudRate(baud))
    }
}

/// `session`: a Gen2 session, 0 to 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct Session(pub u8);

/// A `session` outside 0..=3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("session must be a Gen2 session from 0 to 3, not {0}")]
pub struct BadSession(pub i64);

impl TryFrom<i64> for Session {
    type Error = BadSession;

    fn try_from(session: i64) -> Result<Self, BadSession> {
        match u8::try_from(session) {
            Ok(session @ 0..=3) => Ok(Session(session)),
            _ => Err(BadSession(session)),
        }
    }
}

/// `tx-power-dbm`: within [`TX_POWER_RANGE_DBM`].
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub(crate) struct TxPowerDbm(pub f64);

/// A `tx-power-dbm` outside the accepted range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("tx-power-dbm must be from -10 to 40 dBm, not {0}")]
pub struct BadTxPower(pub f64);

impl TryFrom<f64> for TxPowerDbm {
    type Error = BadTxPower;

    fn try_from(power: f64) -> Result<Self, BadTxPower> {
        if TX_POWER_RANGE_DBM.contains(&power) {
            Ok(TxPowerDbm(power))
        } else {
            Err(BadTxPower(power))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_baud_rates_only() {
        assert_eq!(BaudRate::try_from(115_200), Ok(BaudRate(115_200)));
        assert_eq!(BaudRate::try_from(9600), Ok(BaudRate(9600)));
        for baud in [0, 115_201, 100_000, -9600, 4800] {
            assert_eq!(BaudRate::try_from(baud), Err(BadBaudRate(baud)));
        }
    }

    #[test]
    fn sessions_zero_to_three() {
        assert_eq!(Session::try_from(0), Ok(Session(0)));
        assert_eq!(Session::try_from(3), Ok(Session(3)));
        assert_eq!(Session::try_from(4), Err(BadSession(4)));
        assert_eq!(Session::try_from(-1), Err(BadSession(-1)));
    }

    #[test]
    fn tx_power_range() {
        assert!(TxPowerDbm::try_from(30.0).is_ok());
        assert!(TxPowerDbm::try_from(-10.0).is_ok());
        assert!(TxPowerDbm::try_from(40.5).is_err());
        assert!(TxPowerDbm::try_from(f64::NAN).is_err());
    }
}
