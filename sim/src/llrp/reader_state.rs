//! What an emulated LLRP reader remembers across connections (ROSpecs, configuration, antennas) and how it answers each client request.

use tagtally_protocol::llrp::{
    AntennaConfiguration, EventNotificationState, GeneralDeviceCapabilities, KeepaliveSpec,
    KeepaliveTrigger, LlrpStatus, Message, NotificationEventType, ProtocolVersion,
    ReaderCapabilities, ReaderConfig, RegulatoryCapabilities, RoReportSpec, RoReportTrigger,
    RoSpec, RoSpecState, StartTriggerType, StatusCode, TagReportContentSelector,
    TransmitPowerLevel, IMPINJ_VENDOR_ID,
};

use crate::scenario::{LlrpVersionSpec, ReaderClock, Scenario};

/// A pending "reject the next ADD_ROSPECs" fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub description: String,
    pub remaining: u32,
}

/// The emulated reader's memory. Like a real reader, ROSpecs and configuration survive a client
/// disconnecting; inventory only runs while a client is connected (nobody would get reports).
#[derive(Debug, Clone)]
pub struct ReaderState {
    capabilities: ReaderCapabilities,
    version: ProtocolVersion,
    vendor: u32,
    antennas: u16,
    rospecs: Vec<RoSpec>,
    keepalive: Option<KeepaliveSpec>,
    antenna_configurations: Vec<AntennaConfiguration>,
    events: Vec<EventNotificationState>,
    antenna_connected: Vec<bool>,
    /// Per port: reads nothing, says nothing (`antenna-silence`).
    antenna_silent: Vec<bool>,
    pub rejection: Option<Rejection>,
}

/// The report spec a reader uses for an ROSpec that names none: every tag, with antenna, RSSI
/// and first-seen time.
pub fn default_report_spec() -> RoReportSpec {
    RoReportSpec {
        trigger: RoReportTrigger::UponNTagsOrEndOfRoSpec,
        n: 1,
        content: TagReportContentSelector {
            enable_antenna_id: true,
            enable_peak_rssi: true,
            enable_first_seen_timestamp: true,
            ..TagReportContentSelector::default()
        },
        impinj_content: None,
    }
}

impl ReaderState {
    pub fn new(scenario: &Scenario) -> Self {
        let l = &scenario.llrp;
        let capabilities = ReaderCapabilities {
            status: LlrpStatus::success(),
            general: Some(GeneralDeviceCapabilities {
                max_antennas: scenario.reader.antennas,
                can_set_antenna_properties: false,
                has_utc_clock: l.clock == ReaderClock::Utc,
                manufacturer: l.vendor,
                model: l.model_number,
                firmware_version: scenario.reader.firmware.clone(),
            }),
            regulatory: Some(RegulatoryCapabilities {
                // ISO 3166 numeric 840 (United States), FCC part 15.
                country_code: 840,
                communications_standard: 1,
                transmit_power_table: scenario
                    .power_table()
                    .into_iter()
                    .map(|(index, centi_dbm)| TransmitPowerLevel { index, centi_dbm })
                    .collect(),
            }),
        };
        ReaderState {
            capabilities,
            version: match l.version {
                LlrpVersionSpec::V1_0_1 => ProtocolVersion::V1_0_1,
                LlrpVersionSpec::V1_1 => ProtocolVersion::V1_1,
            },
            vendor: l.vendor,
            antennas: scenario.reader.antennas,
            rospecs: Vec::new(),
            keepalive: None,
            antenna_configurations: Vec::new(),
            events: Vec::new(),
            antenna_connected: vec![true; usize::from(scenario.reader.antennas)],
            antenna_silent: vec![false; usize::from(scenario.reader.antennas)],
            rejection: None,
        }
    }

    /// The header version this reader speaks.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    pub fn vendor(&self) -> u32 {
        self.vendor
    }

    /// The ROSpecs held now, with their current state.
    pub fn rospecs(&self) -> &[RoSpec] {
        &self.rospecs
    }

    /// The ROSpec inventorying now, if any (the emulator runs one at a time, like most readers).
    pub fn active_rospec(&self) -> Option<&RoSpec> {
        self.rospecs
            .iter()
            .find(|r| r.current_state == RoSpecState::Active)
    }

    /// The keepalive period asked for, in milliseconds.
    pub fn keepalive_ms(&self) -> Option<u32> {
        self.keepalive
            .filter(|k| k.trigger == KeepaliveTrigger::Periodic && k.period_ms > 0)
            .map(|k| k.period_ms)
    }

    /// Whether `antenna` is connected and within the reader's ports.
    pub fn antenna_connected(&self, antenna: u16) -> bool {
        antenna
            .checked_sub(1)
            .and_then(|i| self.antenna_connected.get(usize::from(i)))
            .copied()
            .unwrap_or(false)
    }

    /// Whether `antenna` reads tags: connected and not silenced.
    pub fn antenna_reads(&self, antenna: u16) -> bool {
        self.antenna_connected(antenna)
            && !antenna
                .checked_sub(1)
                .and_then(|i| self.antenna_silent.get(usize::from(i)))
                .copied()
                .unwrap_or(true)
    }

    /// Silences an antenna (or lets it read again) without any event; false when the port does not exist.
    pub fn set_antenna_silent(&mut self, antenna: u16, silent: bool) -> bool {
        match antenna
            .checked_sub(1)
            .and_then(|i| self.antenna_silent.get_mut(usize::from(i)))
        {
            Some(slot) => {
                *slot = silent;
                true
            }
            None => false,
        }
    }

    /// Marks an antenna (dis)connected; false when the port does not exist.
    pub fn set_antenna(&mut self, antenna: u16, connected: bool) -> bool {
        match antenna
            .checked_sub(1)
            .and_then(|i| self.antenna_connected.get_mut(usize::from(i)))
        {
            Some(slot) => {
                *slot = connected;
                true
            }
            None => false,
        }
    }

    /// Whether the client asked for events of `event_type` (readers send antenna and exception
    /// events unless told otherwise).
    pub fn event_enabled(&self, event_type: NotificationEventType) -> bool {
        self.events
            .iter()
            .rev()
            .find(|e| e.event_type == event_type)
            .is_none_or(|e| e.enabled)
    }

    /// Answers one client request; `None` for messages without a response.
    pub fn handle(&mut self, message: Message) -> Option<Message> {
        Some(match message {
            Message::GetReaderCapabilities(_) => {
                Message::GetReaderCapabilitiesResponse(self.capabilities.clone())
            }
            Message::GetReaderConfig(_) => Message::GetReaderConfigResponse {
                status: LlrpStatus::success(),
                config: ReaderConfig {
                    event_notification_states: Some(self.events.clone()),
                    antenna_configurations: self.antenna_configurations.clone(),
                    ro_report: Some(default_report_spec()),
                    keepalive: Some(self.keepalive.unwrap_or(KeepaliveSpec {
                        trigger: KeepaliveTrigger::Null,
                        period_ms: 0,
                    })),
                    hold_events_and_reports_upon_reconnect: Some(false),
                },
            },
            Message::SetReaderConfig { config, .. } => {
                Message::SetReaderConfigResponse(self.set_config(config))
            }
            Message::AddRoSpec(rospec) => Message::AddRoSpecResponse(self.add(rospec)),
            Message::DeleteRoSpec { rospec_id } => {
                Message::DeleteRoSpecResponse(self.delete(rospec_id))
            }
            Message::EnableRoSpec { rospec_id } => {
                Message::EnableRoSpecResponse(self.enable(rospec_id))
            }
            Message::DisableRoSpec { rospec_id } => {
                Message::DisableRoSpecResponse(self.disable(rospec_id))
            }
            Message::StartRoSpec { rospec_id } => {
                Message::StartRoSpecResponse(self.start(rospec_id))
            }
            Message::StopRoSpec { rospec_id } => Message::StopRoSpecResponse(self.stop(rospec_id)),
            Message::GetRoSpecs => Message::GetRoSpecsResponse {
                status: LlrpStatus::success(),
                rospecs: self.rospecs.clone(),
            },
            Message::DeleteAccessSpec { .. } => {
                Message::DeleteAccessSpecResponse(LlrpStatus::success())
            }
            Message::CloseConnection => Message::CloseConnectionResponse(LlrpStatus::success()),
            Message::ImpinjEnableExtensions if self.vendor == IMPINJ_VENDOR_ID => {
                Message::ImpinjEnableExtensionsResponse(LlrpStatus::success())
            }
            Message::GetSupportedVersion if self.version == ProtocolVersion::V1_1 => {
                Message::GetSupportedVersionResponse {
                    current: ProtocolVersion::V1_1,
                    supported: ProtocolVersion::V1_1,
                    status: LlrpStatus::success(),
                }
            }
            Message::GetSupportedVersion | Message::SetProtocolVersion { .. } => {
                Message::ErrorMessage(LlrpStatus::new(
                    StatusCode::MUnsupportedVersion,
                    "this reader speaks llrp 1.0.1 only",
                ))
            }
            // No response exists for these (GET_REPORT is answered with a report).
            Message::KeepaliveAck | Message::EnableEventsAndReports | Message::GetReport => {
                return None
            }
            other => Message::ErrorMessage(LlrpStatus::new(
                StatusCode::MUnsupportedMessage,
                &format!(
                    "message type {} is not supported",
                    u16::from(other.msg_type())
                ),
            )),
        })
    }

    fn set_config(&mut self, config: ReaderConfig) -> LlrpStatus {
        let table_len = self
            .capabilities
            .regulatory
            .as_ref()
            .map_or(0, |r| r.transmit_power_table.len());
        for antenna in &config.antenna_configurations {
            if antenna.antenna_id > self.antennas {
                return LlrpStatus::new(
                    StatusCode::AOutOfRange,
                    &format!("antenna {} does not exist", antenna.antenna_id),
                );
            }
            if let Some(t) = antenna.transmitter {
                if t.transmit_power_index == 0 || usize::from(t.transmit_power_index) > table_len {
                    return LlrpStatus::new(
                        StatusCode::AOutOfRange,
                        &format!(
                            "transmit power index {} is not in the table",
                            t.transmit_power_index
                        ),
                    );
                }
            }
        }
        if let Some(states) = config.event_notification_states {
            for state in states {
                self.events.retain(|e| e.event_type != state.event_type);
                self.events.push(state);
            }
        }
        if !config.antenna_configurations.is_empty() {
            self.antenna_configurations = config.antenna_configurations;
        }
        if config.keepalive.is_some() {
            self.keepalive = config.keepalive;
        }
        LlrpStatus::success()
    }

    fn add(&mut self, mut rospec: RoSpec) -> LlrpStatus {
        if let Some(rejection) = self.rejection.as_mut() {
            rejection.remaining = rejection.remaining.saturating_sub(1);
            let status =
                LlrpStatus::new(StatusCode::from(rejection.status), &rejection.description);
            if rejection.remaining == 0 {
                self.rejection = None;
            }
            return status;
        }
        if rospec.id == 0 {
            return LlrpStatus::new(StatusCode::AInvalid, "rospec id 0 is not allowed");
        }
        if self.rospecs.iter().any(|r| r.id == rospec.id) {
            return LlrpStatus::new(
                StatusCode::AInvalid,
                &format!("rospec {} already exists", rospec.id),
            );
        }
        if rospec.current_state != RoSpecState::Disabled {
            return LlrpStatus::new(StatusCode::AInvalid, "a new rospec must be disabled");
        }
        let bad_antenna = rospec
            .ai_specs
            .iter()
            .flat_map(|a| a.antenna_ids.iter())
            .find(|&&id| id > self.antennas);
        if let Some(id) = bad_antenna {
            return LlrpStatus::new(
                StatusCode::MParameterError,
                &format!("antenna {id} does not exist"),
            );
        }
        if rospec.ai_specs.is_empty() {
            return LlrpStatus::new(StatusCode::MMissingParameter, "rospec has no aispec");
        }
        rospec.current_state = RoSpecState::Disabled;
        self.rospecs.push(rospec);
        LlrpStatus::success()
    }

    fn select(&mut self, rospec_id: u32) -> Result<Vec<usize>, LlrpStatus> {
        let found: Vec<usize> = self
            .rospecs
            .iter()
            .enumerate()
            .filter(|(_, r)| rospec_id == 0 || r.id == rospec_id)
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() && rospec_id != 0 {
            return Err(LlrpStatus::new(
                StatusCode::AInvalid,
                &format!("no rospec {rospec_id}"),
            ));
        }
        Ok(found)
    }

    fn delete(&mut self, rospec_id: u32) -> LlrpStatus {
        match self.select(rospec_id) {
            Ok(_) => {
                self.rospecs.retain(|r| rospec_id != 0 && r.id != rospec_id);
                LlrpStatus::success()
            }
            Err(status) => status,
        }
    }

    fn enable(&mut self, rospec_id: u32) -> LlrpStatus {
        let found = match self.select(rospec_id) {
            Ok(found) => found,
            Err(status) => return status,
        };
        for i in found {
            let Some(r) = self.rospecs.get_mut(i) else {
                continue;
            };
            if r.current_state == RoSpecState::Disabled {
                r.current_state = RoSpecState::Inactive;
            }
        }
        self.start_immediate();
        LlrpStatus::success()
    }

    /// Inactive ROSpecs with an Immediate start trigger start at once (one active at a time).
    fn start_immediate(&mut self) {
        if self.active_rospec().is_some() {
            return;
        }
        if let Some(r) = self.rospecs.iter_mut().find(|r| {
            r.current_state == RoSpecState::Inactive
                && r.boundary.start_trigger.trigger_type == StartTriggerType::Immediate
        }) {
            r.current_state = RoSpecState::Active;
        }
    }

    fn disable(&mut self, rospec_id: u32) -> LlrpStatus {
        match self.select(rospec_id) {
            Ok(found) => {
                for i in found {
                    if let Some(r) = self.rospecs.get_mut(i) {
                        r.current_state = RoSpecState::Disabled;
                    }
                }
                LlrpStatus::success()
            }
            Err(status) => status,
        }
    }

    fn start(&mut self, rospec_id: u32) -> LlrpStatus {
        if rospec_id == 0 {
            return LlrpStatus::new(StatusCode::AInvalid, "start_rospec needs a rospec id");
        }
        let active = self.active_rospec().map(|r| r.id);
        let Some(r) = self.rospecs.iter_mut().find(|r| r.id == rospec_id) else {
            return LlrpStatus::new(StatusCode::AInvalid, &format!("no rospec {rospec_id}"));
        };
        match (r.current_state, active) {
            (RoSpecState::Inactive, None) => {
                r.current_state = RoSpecState::Active;
                LlrpStatus::success()
            }
            (RoSpecState::Active, _) => LlrpStatus::success(),
            (RoSpecState::Inactive, Some(other)) => LlrpStatus::new(
                StatusCode::AInvalid,
                &format!("rospec {other} is already active"),
            ),
            _ => LlrpStatus::new(
                StatusCode::AInvalid,
                &format!("rospec {rospec_id} is not enabled"),
            ),
        }
    }

    fn stop(&mut self, rospec_id: u32) -> LlrpStatus {
        if rospec_id == 0 {
            return LlrpStatus::new(StatusCode::AInvalid, "stop_rospec needs a rospec id");
        }
        match self.rospecs.iter_mut().find(|r| r.id == rospec_id) {
            Some(r) => {
                if r.current_state == RoSpecState::Active {
                    r.current_state = RoSpecState::Inactive;
                }
                LlrpStatus::success()
            }
            None => LlrpStatus::new(StatusCode::AInvalid, &format!("no rospec {rospec_id}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagtally_protocol::llrp::{
        AiSpec, AiSpecStopTrigger, InventoryParameterSpec, RoBoundarySpec, RoSpecStartTrigger,
        RoSpecStopTrigger,
    };

    fn rospec(id: u32, immediate: bool) -> RoSpec {
        RoSpec {
            id,
            priority: 0,
            current_state: RoSpecState::Disabled,
            boundary: RoBoundarySpec {
                start_trigger: if immediate {
                    RoSpecStartTrigger::immediate()
                } else {
                    RoSpecStartTrigger::null()
                },
                stop_trigger: RoSpecStopTrigger::null(),
            },
            ai_specs: vec![AiSpec {
                antenna_ids: vec![0],
                stop_trigger: AiSpecStopTrigger::null(),
                inventory_parameter_specs: vec![InventoryParameterSpec::gen2(1)],
            }],
            report: None,
        }
    }

    fn ok(reply: Option<Message>) -> bool {
        reply
            .as_ref()
            .and_then(|m| m.status())
            .is_some_and(|s| s.is_success())
    }

    #[test]
    fn rospec_lifecycle_with_immediate_and_null_start() {
        let mut state = ReaderState::new(&Scenario::default());
        assert!(ok(state.handle(Message::AddRoSpec(rospec(5, false)))));
        assert!(
            !ok(state.handle(Message::AddRoSpec(rospec(5, false)))),
            "duplicate"
        );
        assert!(ok(state.handle(Message::EnableRoSpec { rospec_id: 5 })));
        assert!(
            state.active_rospec().is_none(),
            "null start waits for START"
        );
        assert!(ok(state.handle(Message::StartRoSpec { rospec_id: 5 })));
        assert_eq!(state.active_rospec().map(|r| r.id), Some(5));
        assert!(ok(state.handle(Message::StopRoSpec { rospec_id: 5 })));
        assert!(state.active_rospec().is_none());
        assert!(ok(state.handle(Message::DisableRoSpec { rospec_id: 5 })));
        assert!(ok(state.handle(Message::DeleteRoSpec { rospec_id: 5 })));
        assert!(
            !ok(state.handle(Message::DeleteRoSpec { rospec_id: 5 })),
            "gone"
        );

        assert!(ok(state.handle(Message::AddRoSpec(rospec(6, true)))));
        assert!(ok(state.handle(Message::EnableRoSpec { rospec_id: 0 })));
        assert_eq!(state.active_rospec().map(|r| r.id), Some(6));
        assert!(ok(state.handle(Message::DeleteRoSpec { rospec_id: 0 })));
        assert!(state.rospecs().is_empty());
    }

    #[test]
    fn rejections_are_counted_down_and_bad_antennas_refused() {
        let mut state = ReaderState::new(&Scenario::default());
        state.rejection = Some(Rejection {
            status: 100,
            description: "no".into(),
            remaining: 1,
        });
        let reply = state.handle(Message::AddRoSpec(rospec(1, true)));
        assert_eq!(
            reply.and_then(|m| m.status().map(|s| s.to_string())),
            Some("M_ParameterError: no".into())
        );
        assert!(ok(state.handle(Message::AddRoSpec(rospec(1, true)))));
        let mut bad = rospec(2, true);
        bad.ai_specs[0].antenna_ids = vec![9];
        assert!(!ok(state.handle(Message::AddRoSpec(bad))));
    }

    #[test]
    fn keepalive_is_remembered() {
        let mut state = ReaderState::new(&Scenario::default());
        let config = ReaderConfig {
            keepalive: Some(KeepaliveSpec {
                trigger: KeepaliveTrigger::Periodic,
                period_ms: 250,
            }),
            ..ReaderConfig::default()
        };
        assert!(ok(state.handle(Message::SetReaderConfig {
            reset_to_factory_default: false,
            config
        })));
        assert_eq!(state.keepalive_ms(), Some(250));
    }
}
