//! The one conversion from the config's presence settings (`[presence]` and each zone's overrides) to the engine's `PresenceParams`.

use tagtally_config::Presence;
use thiserror::Error;

use crate::engine::PresenceParams;

/// A `[presence]` value the engine cannot hold.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("arrive-reads {arrive_reads} is more than the engine supports ({max})")]
pub struct PresenceRangeError {
    pub arrive_reads: u32,
    pub max: u16,
}

/// The engine's parameters for a zone's effective presence settings (or `[presence]` itself).
///
/// `rssi-margin-db` (validated 0–60 dB by the config) becomes hundredths of a dB.
pub fn from_config(presence: &Presence) -> Result<PresenceParams, PresenceRangeError> {
    let arrive_reads = u16::try_from(presence.arrive_reads).map_err(|_| PresenceRangeError {
        arrive_reads: presence.arrive_reads,
        max: u16::MAX,
    })?;
    Ok(PresenceParams {
        arrive_reads,
        arrive_window: presence.arrive_window,
        depart_after: presence.depart_after,
        move_hysteresis: presence.move_hysteresis,
        rssi_margin_cdbm: (presence.rssi_margin_db * 100.0).round() as i32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_config_defaults_are_the_engine_defaults() {
        assert_eq!(
            from_config(&Presence::default()),
            Ok(PresenceParams::default())
        );
    }

    #[test]
    fn values_are_carried_over_and_bounded() {
        let presence = Presence {
            arrive_reads: 3,
            arrive_window: Duration::from_secs(4),
            ..Presence::default()
        };
        let params = from_config(&presence).unwrap();
        assert_eq!(params.arrive_reads, 3);
        let margin = Presence {
            rssi_margin_db: 2.5,
            ..Presence::default()
        };
        assert_eq!(from_config(&margin).unwrap().rssi_margin_cdbm, 250);
        assert_eq!(params.arrive_window, Duration::from_secs(4));
        let too_many = Presence {
            arrive_reads: 70_000,
            ..Presence::default()
        };
        assert_eq!(
            from_config(&too_many),
            Err(PresenceRangeError {
                arrive_reads: 70_000,
                max: u16::MAX
            })
        );
    }
}
