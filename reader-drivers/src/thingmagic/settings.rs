//! What the ThingMagic session needs from the configuration (which has already checked it
//! against what the protocol can express), plus the protocol timing (defaults fit real modules;
//! tests shorten them).

use std::time::Duration;

use tagtally_config::{Reader, Region, SerialLink};
use tagtally_protocol::thingmagic::ContinuousReadPlan;

use crate::serial_line::SerialLinkTiming;
use crate::ReaderId;

/// One ThingMagic reader's session settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ThingMagicSettings {
    pub reader: ReaderId,
    /// Configured antenna ports, ascending (the search list).
    pub antennas: Vec<u8>,
    /// Region to set; `None` keeps the module's own.
    pub region: Option<Region>,
    /// Read power in centi-dBm; `None` keeps the module's own.
    pub read_power_cdbm: Option<i16>,
    /// Gen2 session to set; `None` keeps the module's own.
    pub gen2_session: Option<u8>,
    /// The continuous search; its `cycle_ms` is also the keep-alive period.
    pub plan: ContinuousReadPlan,
    /// How long one setup command may go unanswered.
    pub response_timeout: Duration,
    /// How long the module may take to flush its tags and confirm a stop.
    pub stop_timeout: Duration,
    /// No frame at all for this long while reading means the module is gone or hung.
    pub silence_limit: Duration,
    /// A line quiet this long with a partial frame buffered lets the deframer look past it.
    pub idle_gap: Duration,
    /// Bytes the deframer may hold.
    pub deframer_capacity: usize,
    /// Reconnect backoff and transport timeouts.
    pub link: SerialLinkTiming,
}

impl ThingMagicSettings {
    /// Defaults for `antennas`, with nothing else set on the module.
    pub fn new(reader: ReaderId, antennas: Vec<u8>) -> Self {
        let plan = ContinuousReadPlan::STANDARD;
        Self {
            reader,
            antennas,
            region: None,
            read_power_cdbm: None,
            gen2_session: None,
            plan,
            response_timeout: Duration::from_secs(1),
            // SparkFun allows 1-2 s for the module to push its last tags.
            stop_timeout: Duration::from_secs(2),
            silence_limit: Self::silence_limit_for(plan.cycle_ms),
            idle_gap: Duration::from_millis(20),
            deframer_capacity: 4096,
            link: SerialLinkTiming::default(),
        }
    }

    /// Three keep-alive periods and a second of slack: a few missed status frames are noise,
    /// more is a module that is gone.
    pub fn silence_limit_for(cycle_ms: u16) -> Duration {
        Duration::from_millis(u64::from(cycle_ms) * 3) + Duration::from_secs(1)
    }

    /// Sets the search cycle and the silence limit that goes with it.
    pub fn with_cycle(mut self, cycle_ms: u16) -> Self {
        self.plan.cycle_ms = cycle_ms;
        self.silence_limit = Self::silence_limit_for(cycle_ms);
        self
    }

    /// Settings for a configured `kind = "thingmagic"` reader with its serial `link` and the
    /// `region` its module is to be set to.
    pub fn from_config(
        reader: ReaderId,
        config: &Reader,
        link: &SerialLink,
        region: Option<Region>,
    ) -> Self {
        let mut settings = Self::new(reader, link.antenna_ports.clone());
        settings.region = region;
        // The config bounds power to -10..=40 dBm, so centi-dBm always fits an i16.
        settings.read_power_cdbm = config
            .tx_power_dbm
            .map(|dbm| (dbm * 100.0).round().clamp(-32768.0, 32767.0) as i16);
        settings.gen2_session = config.session;
        settings
    }
}
