//! The one conversion from the config's presence settings (`[presence]` and each zone's overrides) to the engine's `PresenceParams`.

use tagtally_config::Presence;

use crate::engine::PresenceParams;

/// The engine's parameters for a zone's effective presence settings (or `[presence]` itself).
///
/// `rssi-margin-db` (0–60 dB by the config's rule) becomes hundredths of a dB.
pub fn presence_params(presence: &Presence) -> PresenceParams {
    PresenceParams {
        arrive_reads: presence.arrive_reads,
        arrive_window: presence.arrive_window,
        depart_after: presence.depart_after,
        move_hysteresis: presence.move_hysteresis,
        rssi_margin_cdbm: (presence.rssi_margin_db * 100.0).round() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_config_defaults_are_the_engine_defaults() {
        assert_eq!(
            presence_params(&Presence::default()),
            PresenceParams::default()
        );
    }

    #[test]
    fn values_are_carried_over() {
        let presence = Presence {
            arrive_reads: 3,
            arrive_window: Duration::from_secs(4),
            rssi_margin_db: 2.5,
            ..Presence::default()
        };
        let params = presence_params(&presence);
        assert_eq!(params.arrive_reads, 3);
        assert_eq!(params.arrive_window, Duration::from_secs(4));
        assert_eq!(params.rssi_margin_cdbm, 250);
    }
}
