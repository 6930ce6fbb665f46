//! What the R2000 session needs from the configuration (which has already checked it against
//! what the "0xA0" protocol can express), plus the protocol timing (defaults fit real modules;
//! tests shorten them).

use std::time::Duration;

use tagtally_config::{R2000Region, Reader, SerialLink};
use tagtally_protocol::r2000::BROADCAST_ADDRESS;

use crate::serial_line::SerialLinkTiming;
use crate::ReaderId;
/// The highest output power the modules accept (dBm).
pub const MAX_OUTPUT_POWER_DBM: u8 = 33;

/// A system-defined band of 0x78: regulation code and the channel-index range to hop over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub region: u8,
    pub start: u8,
    pub end: u8,
}

/// One R2000 reader's session settings.
#[derive(Debug, Clone, PartialEq)]
pub struct R2000Settings {
    pub reader: ReaderId,
    /// Configured antennas, 1-based, ascending.
    pub antennas: Vec<u8>,
    /// Reader address in commands (0xFF reaches any module).
    pub address: u8,
    /// Band to set; `None` keeps the module's own.
    pub band: Option<Band>,
    /// Output power in whole dBm; `None` keeps the module's own.
    pub output_power_dbm: Option<u8>,
    /// How long one setup command may go unanswered.
    pub response_timeout: Duration,
    /// An inventory round that does not end within this is a module gone silent.
    pub round_timeout: Duration,
    /// Rest after a failed round before the next (an antenna missing fails every round at once).
    pub error_pause: Duration,
    /// A line quiet this long with a partial frame buffered lets the deframer look past it.
    pub idle_gap: Duration,
    /// Bytes the deframer may hold.
    pub deframer_capacity: usize,
    /// Reconnect backoff and transport timeouts.
    pub link: SerialLinkTiming,
}

/// The vendor's preset bands: channel 0x00 is 865.0 MHz rising by 0.5 MHz to 0x06 (ETSI), 0x07
/// is 902.0 MHz rising by 0.5 MHz to 0x3B = 928.0 MHz (FCC); China's 920–925 MHz is 0x2B–0x35
/// (UNVERIFIED against the protocol PDF; from vendor demo programs).
pub fn preset_band(region: R2000Region) -> Band {
    match region {
        R2000Region::Na => Band {
            region: 0x01,
            start: 0x07,
            end: 0x3B,
        },
        R2000Region::Eu => Band {
            region: 0x02,
            start: 0x00,
            end: 0x06,
        },
        R2000Region::Cn => Band {
            region: 0x03,
            start: 0x2B,
            end: 0x35,
        },
    }
}

impl R2000Settings {
    /// Defaults for `antennas`, with nothing else set on the module.
    pub fn new(reader: ReaderId, antennas: Vec<u8>) -> Self {
        Self {
            reader,
            antennas,
            address: BROADCAST_ADDRESS,
            band: None,
            output_power_dbm: None,
            response_timeout: Duration::from_secs(1),
            round_timeout: Duration::from_secs(5),
            error_pause: Duration::from_secs(1),
            idle_gap: Duration::from_millis(20),
            deframer_capacity: 4096,
            link: SerialLinkTiming::default(),
        }
    }

    /// Settings for a configured `kind = "r2000"` reader with its serial `link` and the
    /// `region` its module is to be set to.
    pub fn from_config(
        reader: ReaderId,
        config: &Reader,
        link: &SerialLink,
        region: Option<R2000Region>,
    ) -> Self {
        let mut settings = Self::new(reader, link.antenna_ports.clone());
        settings.band = region.map(preset_band);
        settings.output_power_dbm = config
            .tx_power_dbm
            .map(|dbm| dbm.round().clamp(0.0, f64::from(MAX_OUTPUT_POWER_DBM)) as u8);
        settings
    }
}
