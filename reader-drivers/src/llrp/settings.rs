//! What one LLRP driver needs to know: address, timers, antennas, power, session, reporting; built from the config.

use std::time::Duration;

use tagtally_config::{LlrpLink, Reader};

use tagtally_core::BackoffPolicy;

use crate::ReaderId;

/// The ROSpec id tagtally owns on every reader. Fixed, so a restarted daemon finds and replaces
/// the ROSpec its previous run left behind, and never touches ROSpecs of other tools.
pub const OUR_ROSPEC_ID: u32 = 0x7467_0001;

/// How a started ROSpec begins inventorying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTrigger {
    /// Start trigger Immediate: enabling the ROSpec starts it (what production uses).
    Immediate,
    /// Start trigger Null: the ROSpec starts on START_ROSPEC (some readers only run those).
    OnStartCommand,
}

/// Settings of one LLRP driver.
#[derive(Debug, Clone, PartialEq)]
pub struct LlrpSettings {
    /// Which configured reader this is.
    pub reader: ReaderId,
    /// `host:port` to connect to.
    pub address: String,
    /// KEEPALIVE period asked of the reader; the link is dead after 3 periods without a byte.
    pub keepalive: Duration,
    /// TCP connect timeout, and the time allowed for the reader's ConnectionAttemptEvent.
    pub connect_timeout: Duration,
    /// Longest wait for the response to one request.
    pub response_timeout: Duration,
    /// Antenna ports to inventory (empty = every antenna the reader has).
    pub antennas: Vec<u16>,
    /// Transmit power for every antenna, mapped to the power table entry not above it.
    pub tx_power_dbm: Option<f64>,
    /// Gen2 session 0..=3.
    pub session: Option<u8>,
    /// The reader sends a report once this many tag reports are buffered.
    pub report_every_tags: u16,
    /// When no report came for this long, GET_REPORT asks for what is buffered (bounds latency
    /// when few tags are in the field).
    pub report_every: Duration,
    /// How our ROSpec starts.
    pub start_trigger: StartTrigger,
    /// Delays between connection attempts.
    pub reconnect: BackoffPolicy,
    /// A link that stayed up this long resets the reconnect backoff to its first step.
    pub healthy_after: Duration,
    /// Readers whose clock differs from ours by more than this get their reads stamped with
    /// receive time, and a ClockSkew event.
    pub max_clock_skew: Duration,
}

/// LLRP's IANA-registered port.
pub const DEFAULT_PORT: u16 = 5084;

impl LlrpSettings {
    /// Defaults for `address`, with no antennas restriction, power or session.
    pub fn new(reader: ReaderId, address: impl Into<String>) -> Self {
        LlrpSettings {
            reader,
            address: address.into(),
            keepalive: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(10),
            antennas: Vec::new(),
            tx_power_dbm: None,
            session: None,
            report_every_tags: 64,
            report_every: Duration::from_millis(200),
            start_trigger: StartTrigger::Immediate,
            reconnect: BackoffPolicy::STANDARD,
            healthy_after: Duration::from_secs(60),
            max_clock_skew: Duration::from_secs(2),
        }
    }

    /// The settings of configured reader number `reader`, an LLRP reader reached over `link`.
    pub fn from_config(reader: ReaderId, config: &Reader, link: &LlrpLink) -> Self {
        LlrpSettings {
            keepalive: link.keepalive,
            antennas: config.antennas.keys().copied().collect(),
            tx_power_dbm: config.tx_power_dbm,
            session: config.session,
            ..LlrpSettings::new(reader, link.address.to_string())
        }
    }

    /// Silence after which the link is declared dead: three keepalive periods.
    pub fn dead_after(&self) -> Duration {
        self.keepalive.saturating_mul(3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_from_an_llrp_reader_of_the_config() {
        let text = r#"
store = "s"
[[zone]]
name = "floor"
[[reader]]
name = "r1"
kind = "llrp"
address = "10.0.0.21"
antennas = { 1 = "floor", 3 = "floor" }
keepalive = "5s"
tx-power-dbm = 27.5
session = 1
[mqtt]
url = "mqtt://localhost"
"#;
        let config = tagtally_config::Config::from_str(text, "test.toml").expect("valid config");
        let reader = &config.readers[0];
        let tagtally_config::ReaderLink::Llrp(link) = &reader.link else {
            panic!("llrp reader")
        };
        let s = LlrpSettings::from_config(ReaderId(0), reader, link);
        assert_eq!(s.address, "10.0.0.21:5084");
        assert_eq!(s.antennas, vec![1, 3]);
        assert_eq!(s.keepalive, Duration::from_secs(5));
        assert_eq!(s.dead_after(), Duration::from_secs(15));
        assert_eq!(s.tx_power_dbm, Some(27.5));
        assert_eq!(s.session, Some(1));
    }
}
