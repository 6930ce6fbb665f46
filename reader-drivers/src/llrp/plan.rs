//! What tagtally asks of an LLRP reader: its SET_READER_CONFIG and its ROSpec, built from the settings and the reader's capabilities.

use tagtally_protocol::llrp::{
    AiSpec, AiSpecStopTrigger, AntennaConfiguration, C1G2InventoryCommand, C1G2SingulationControl,
    EventNotificationState, ImpinjTagReportContentSelector, InventoryParameterSpec, KeepaliveSpec,
    KeepaliveTrigger, NotificationEventType, ReaderCapabilities, ReaderConfig, RfTransmitter,
    RoBoundarySpec, RoReportSpec, RoReportTrigger, RoSpec, RoSpecStartTrigger, RoSpecState,
    RoSpecStopTrigger, TagReportContentSelector,
};

use super::settings::{LlrpSettings, StartTrigger, OUR_ROSPEC_ID};

/// Gen2 tag population estimate handed to the singulation algorithm: a store shelf, not a pallet.
const TAG_POPULATION: u16 = 32;

/// SET_READER_CONFIG: periodic keepalive, the events we act on, and per antenna the power and
/// Gen2 session when configured. Events are never held back after a reconnect.
pub fn reader_config(settings: &LlrpSettings, caps: &ReaderCapabilities) -> ReaderConfig {
    let keepalive_ms = u32::try_from(settings.keepalive.as_millis())
        .unwrap_or(u32::MAX)
        .max(1);
    let events = [
        NotificationEventType::AntennaEvent,
        NotificationEventType::ReaderExceptionEvent,
        NotificationEventType::ReportBufferFillWarning,
    ];
    ReaderConfig {
        event_notification_states: Some(
            events
                .into_iter()
                .map(|event_type| EventNotificationState {
                    event_type,
                    enabled: true,
                })
                .collect(),
        ),
        antenna_configurations: antenna_configurations(settings, caps),
        ro_report: None,
        keepalive: Some(KeepaliveSpec {
            trigger: KeepaliveTrigger::Periodic,
            period_ms: keepalive_ms,
        }),
        hold_events_and_reports_upon_reconnect: Some(false),
    }
}

/// One AntennaConfiguration per inventoried antenna (or antenna 0 = all), only when a power or a
/// session is configured: otherwise the reader keeps its own settings.
fn antenna_configurations(
    settings: &LlrpSettings,
    caps: &ReaderCapabilities,
) -> Vec<AntennaConfiguration> {
    let power_index = settings
        .tx_power_dbm
        .and_then(|dbm| caps.power_index_at_most((dbm * 100.0).round() as i32));
    if power_index.is_none() && settings.session.is_none() {
        return Vec::new();
    }
    let ids: Vec<u16> = if settings.antennas.is_empty() {
        vec![0]
    } else {
        settings.antennas.clone()
    };
    ids.into_iter()
        .map(|antenna_id| AntennaConfiguration {
            antenna_id,
            receiver_sensitivity_index: None,
            // Hop table 1, channel 1: the first (often only) table every reader reports.
            transmitter: power_index.map(|transmit_power_index| RfTransmitter {
                hop_table_id: 1,
                channel_index: 1,
                transmit_power_index,
            }),
            inventory_commands: settings
                .session
                .map(|session| C1G2InventoryCommand {
                    tag_inventory_state_aware: false,
                    rf_control: None,
                    singulation_control: Some(C1G2SingulationControl {
                        session: session.min(3),
                        tag_population: TAG_POPULATION,
                        tag_transit_time_ms: 0,
                    }),
                })
                .into_iter()
                .collect(),
        })
        .collect()
}

/// Our ROSpec: the configured antennas, inventory until stopped, a report every
/// `report_every_tags` tags; Impinj's centi-dBm RSSI when the extensions are on.
pub fn rospec(settings: &LlrpSettings, impinj: bool) -> RoSpec {
    let antenna_ids = if settings.antennas.is_empty() {
        vec![0]
    } else {
        settings.antennas.clone()
    };
    RoSpec {
        id: OUR_ROSPEC_ID,
        priority: 0,
        current_state: RoSpecState::Disabled,
        boundary: RoBoundarySpec {
            start_trigger: match settings.start_trigger {
                StartTrigger::Immediate => RoSpecStartTrigger::immediate(),
                StartTrigger::OnStartCommand => RoSpecStartTrigger::null(),
            },
            stop_trigger: RoSpecStopTrigger::null(),
        },
        ai_specs: vec![AiSpec {
            antenna_ids,
            stop_trigger: AiSpecStopTrigger::null(),
            inventory_parameter_specs: vec![InventoryParameterSpec::gen2(1)],
        }],
        report: Some(RoReportSpec {
            trigger: RoReportTrigger::UponNTagsOrEndOfRoSpec,
            n: settings.report_every_tags.max(1),
            content: TagReportContentSelector {
                enable_antenna_id: true,
                enable_peak_rssi: true,
                enable_first_seen_timestamp: true,
                ..TagReportContentSelector::default()
            },
            impinj_content: impinj.then_some(ImpinjTagReportContentSelector {
                enable_peak_rssi: true,
                ..ImpinjTagReportContentSelector::default()
            }),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReaderId;
    use std::time::Duration;
    use tagtally_protocol::llrp::{LlrpStatus, RegulatoryCapabilities, TransmitPowerLevel};

    fn caps() -> ReaderCapabilities {
        ReaderCapabilities {
            status: LlrpStatus::success(),
            general: None,
            regulatory: Some(RegulatoryCapabilities {
                country_code: 0,
                communications_standard: 0,
                transmit_power_table: (0..=90)
                    .map(|i| TransmitPowerLevel {
                        index: i + 1,
                        centi_dbm: 1000 + i as i16 * 25,
                    })
                    .collect(),
            }),
        }
    }

    #[test]
    fn power_maps_to_the_nearest_entry_not_above_and_session_is_set() {
        let mut s = LlrpSettings::new(ReaderId(0), "r:5084");
        s.antennas = vec![1, 3];
        s.tx_power_dbm = Some(27.6);
        s.session = Some(2);
        s.keepalive = Duration::from_secs(7);
        let config = reader_config(&s, &caps());
        assert_eq!(config.keepalive.map(|k| k.period_ms), Some(7000));
        assert_eq!(config.antenna_configurations.len(), 2);
        let a = &config.antenna_configurations[1];
        assert_eq!(a.antenna_id, 3);
        // 27.50 dBm is entry 71 (1000 + 70 * 25 centi-dBm); 27.75 would be above 27.6.
        assert_eq!(a.transmitter.map(|t| t.transmit_power_index), Some(71));
        assert_eq!(
            a.inventory_commands[0]
                .singulation_control
                .map(|c| c.session),
            Some(2)
        );
    }

    #[test]
    fn nothing_configured_leaves_the_antennas_alone() {
        let s = LlrpSettings::new(ReaderId(0), "r:5084");
        assert!(reader_config(&s, &caps()).antenna_configurations.is_empty());
    }

    #[test]
    fn rospec_lists_antennas_or_all() {
        let mut s = LlrpSettings::new(ReaderId(0), "r:5084");
        assert_eq!(rospec(&s, false).ai_specs[0].antenna_ids, vec![0]);
        s.antennas = vec![2];
        let r = rospec(&s, true);
        assert_eq!(r.ai_specs[0].antenna_ids, vec![2]);
        assert_eq!(r.id, OUR_ROSPEC_ID);
        assert!(r.report.and_then(|r| r.impinj_content).is_some());
    }
}
