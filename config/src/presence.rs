//! The presence rules of SPEC §3 (`[presence]` and its per-zone overrides), resolved per zone.

use crate::duration::Interval;
use serde::Deserialize;
use std::time::Duration;

/// The presence rules in force for one zone: the `[presence]` defaults with that zone's
/// overrides applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Presence {
    /// Reads needed within `arrive_window` before a tag counts in a zone (`arrive-reads`, default 2).
    pub arrive_reads: u16,
    /// The window those reads must fall in (`arrive-window`, default 10 s).
    pub arrive_window: Duration,
    /// Unseen for this long, a tag leaves the count (`depart-after`, default 5 min).
    pub depart_after: Duration,
    /// How long another zone must hold the lead before a tag moves there
    /// (`move-hysteresis`, default 30 s).
    pub move_hysteresis: Duration,
    /// How many dB stronger another zone must read a tag to count as leading, when both read it
    /// (`rssi-margin-db`, default 6 dB; beyond SPEC §4, which leaves "clearly stronger" open).
    pub rssi_margin_db: f64,
}

impl Default for Presence {
    fn default() -> Self {
        Presence {
            arrive_reads: 2,
            arrive_window: Duration::from_secs(10),
            depart_after: Duration::from_secs(5 * 60),
            move_hysteresis: Duration::from_secs(30),
            rssi_margin_db: 6.0,
        }
    }
}

/// The `[presence]` section: every key optional, missing ones take [`Presence::default`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct PresenceSpec {
    #[serde(default)]
    pub arrive_reads: Option<ArriveReads>,
    #[serde(default)]
    pub arrive_window: Option<Interval>,
    #[serde(default)]
    pub depart_after: Option<Interval>,
    #[serde(default)]
    pub move_hysteresis: Option<Interval>,
    #[serde(default)]
    pub rssi_margin_db: Option<RssiMarginDb>,
}

impl PresenceSpec {
    /// `base` with every key this spec sets replaced.
    pub(crate) fn apply_to(&self, base: Presence) -> Presence {
        Presence {
            arrive_reads: self.arrive_reads.map_or(base.arrive_reads, |reads| reads.0),
            arrive_window: self.arrive_window.map_or(base.arrive_window, |d| d.0),
            depart_after: self.depart_after.map_or(base.depart_after, |d| d.0),
            move_hysteresis: self.move_hysteresis.map_or(base.move_hysteresis, |d| d.0),
            rssi_margin_db: self.rssi_margin_db.map_or(base.rssi_margin_db, |db| db.0),
        }
    }
}

/// Most reads a tag can be asked for before it counts; more would only mean "never arrives".
pub const MAX_ARRIVE_READS: u16 = 1000;

/// `arrive-reads`: 1 to [`MAX_ARRIVE_READS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct ArriveReads(pub u16);

/// Why an `arrive-reads` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("arrive-reads must be from 1 to {MAX_ARRIVE_READS}, not {0}")]
pub struct BadArriveReads(pub i64);

impl TryFrom<i64> for ArriveReads {
    type Error = BadArriveReads;

    fn try_from(reads: i64) -> Result<Self, BadArriveReads> {
        match u16::try_from(reads) {
            Ok(reads @ 1..=MAX_ARRIVE_READS) => Ok(ArriveReads(reads)),
            _ => Err(BadArriveReads(reads)),
        }
    }
}

/// Largest `rssi-margin-db`: a wider margin than a UHF link's whole dynamic range means "never move".
pub const MAX_RSSI_MARGIN_DB: f64 = 60.0;

/// `rssi-margin-db`: 0 to [`MAX_RSSI_MARGIN_DB`] dB.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub(crate) struct RssiMarginDb(pub f64);

/// Why an `rssi-margin-db` value was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("rssi-margin-db must be from 0 to {MAX_RSSI_MARGIN_DB} dB, not {0}")]
pub struct BadRssiMargin(pub f64);

impl TryFrom<f64> for RssiMarginDb {
    type Error = BadRssiMargin;

    fn try_from(margin: f64) -> Result<Self, BadRssiMargin> {
        if (0.0..=MAX_RSSI_MARGIN_DB).contains(&margin) {
            Ok(RssiMarginDb(margin))
        } else {
            Err(BadRssiMargin(margin))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_those_of_spec_section_4() {
        let presence = Presence::default();
        assert_eq!(presence.arrive_reads, 2);
        assert_eq!(presence.arrive_window, Duration::from_secs(10));
        assert_eq!(presence.depart_after, Duration::from_secs(300));
        assert_eq!(presence.move_hysteresis, Duration::from_secs(30));
        assert_eq!(presence.rssi_margin_db, 6.0);
    }

    #[test]
    fn an_empty_spec_changes_nothing() {
        assert_eq!(
            PresenceSpec::default().apply_to(Presence::default()),
            Presence::default()
        );
    }

    #[test]
    fn a_spec_replaces_only_the_keys_it_sets() {
        let spec = PresenceSpec {
            depart_after: Some(Interval(Duration::from_secs(600))),
            ..PresenceSpec::default()
        };
        let resolved = spec.apply_to(Presence::default());
        assert_eq!(resolved.depart_after, Duration::from_secs(600));
        assert_eq!(resolved.arrive_window, Duration::from_secs(10));
    }

    #[test]
    fn arrive_reads_bounds() {
        assert_eq!(ArriveReads::try_from(1), Ok(ArriveReads(1)));
        assert_eq!(ArriveReads::try_from(1000), Ok(ArriveReads(1000)));
        assert_eq!(ArriveReads::try_from(0), Err(BadArriveReads(0)));
        assert_eq!(ArriveReads::try_from(1001), Err(BadArriveReads(1001)));
        assert_eq!(ArriveReads::try_from(-2), Err(BadArriveReads(-2)));
    }

    #[test]
    fn rssi_margin_bounds() {
        assert!(RssiMarginDb::try_from(0.0).is_ok());
        assert!(RssiMarginDb::try_from(60.0).is_ok());
        assert!(RssiMarginDb::try_from(-0.5).is_err());
        assert!(RssiMarginDb::try_from(f64::NAN).is_err());
        assert!(RssiMarginDb::try_from(f64::INFINITY).is_err());
    }
}
