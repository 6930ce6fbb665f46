//! Reader configuration parameters of SET_READER_CONFIG / GET_READER_CONFIG_RESPONSE: event
//! notifications, antenna configuration (power, receiver, Gen2 session), report spec, keepalive.
//!
//! Layouts verified against the LTK `llrp-1x0-def.xml` (LLRP 1.0.1 §16.2.6, §16.2.7.5, §16.3.1.2):
//! ReaderEventNotificationSpec [244] of EventNotificationState [245] (u16 type, u1 on + 7);
//! AntennaConfiguration [222] u16 id, RFReceiver [223] 0-1 (u16 sensitivity index),
//! RFTransmitter [224] 0-1 (u16 HopTableID, u16 ChannelIndex, u16 TransmitPower index),
//! C1G2InventoryCommand [330]* (u1 TagInventoryStateAware + 7, C1G2Filter*, C1G2RFControl [335]
//! 0-1 (u16 ModeIndex, u16 Tari), C1G2SingulationControl [336] 0-1 (u2 Session + 6,
//! u16 TagPopulation, u32 TagTransitTime), Custom*); KeepaliveSpec [220] u8 type, u32 period ms;
//! EventsAndReports [226] u1 hold + 7. SET_READER_CONFIG orders them ReaderEventNotificationSpec,
//! AntennaProperties*, AntennaConfiguration*, ROReportSpec, AccessReportSpec, KeepaliveSpec,
//! GPOWriteData*, GPIPortCurrentState*, EventsAndReports, Custom*.
//!
//! C1G2Filters, AntennaProperties, AccessReportSpec, GPIO state and Customs are not kept.

use super::cursor::{put_tlv, put_u16, put_u32, put_u8, Reader};
use super::error::{DecodeError, EncodeError};
use super::param::for_each_tlv;
use super::rospec::RoReportSpec;
use super::types::tlv;

wire_enum! {
    /// NotificationEventType of EventNotificationState.
    pub enum NotificationEventType(u16) {
        HoppingToNextChannel = 0,
        GpiEvent = 1,
        RoSpecEvent = 2,
        ReportBufferFillWarning = 3,
        ReaderExceptionEvent = 4,
        RfSurveyEvent = 5,
        AiSpecEvent = 6,
        AiSpecEventWithDetails = 7,
        AntennaEvent = 8,
    }
}

wire_enum! {
    /// KeepaliveTriggerType.
    pub enum KeepaliveTrigger(u8) {
        /// The reader sends no keepalives.
        Null = 0,
        Periodic = 1,
    }
}

/// EventNotificationState [245].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventNotificationState {
    pub event_type: NotificationEventType,
    pub enabled: bool,
}

/// RFTransmitter [224].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RfTransmitter {
    pub hop_table_id: u16,
    pub channel_index: u16,
    /// Index into the capabilities' transmit power table, not dBm.
    pub transmit_power_index: u16,
}

/// C1G2RFControl [335].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct C1G2RfControl {
    pub mode_index: u16,
    pub tari_ns: u16,
}

/// C1G2SingulationControl [336].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct C1G2SingulationControl {
    /// Gen2 session 0..=3 (2 bits on the wire; higher bits are dropped).
    pub session: u8,
    pub tag_population: u16,
    pub tag_transit_time_ms: u32,
}

/// C1G2InventoryCommand [330].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct C1G2InventoryCommand {
    pub tag_inventory_state_aware: bool,
    pub rf_control: Option<C1G2RfControl>,
    pub singulation_control: Option<C1G2SingulationControl>,
}

/// AntennaConfiguration [222].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AntennaConfiguration {
    /// 0 = every antenna.
    pub antenna_id: u16,
    pub receiver_sensitivity_index: Option<u16>,
    pub transmitter: Option<RfTransmitter>,
    pub inventory_commands: Vec<C1G2InventoryCommand>,
}

/// KeepaliveSpec [220].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeepaliveSpec {
    pub trigger: KeepaliveTrigger,
    pub period_ms: u32,
}

/// The configuration parameters tagtally sets and reads back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReaderConfig {
    pub event_notification_states: Option<Vec<EventNotificationState>>,
    pub antenna_configurations: Vec<AntennaConfiguration>,
    pub ro_report: Option<RoReportSpec>,
    pub keepalive: Option<KeepaliveSpec>,
    /// EventsAndReports: hold events and reports after a reconnect until ENABLE_EVENTS_AND_REPORTS.
    pub hold_events_and_reports_upon_reconnect: Option<bool>,
}

impl AntennaConfiguration {
    pub(crate) fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "antenna configuration");
        let antenna_id = r.u16()?;
        let mut config = AntennaConfiguration {
            antenna_id,
            receiver_sensitivity_index: None,
            transmitter: None,
            inventory_commands: Vec::new(),
        };
        for_each_tlv(r.rest(), |param_type, body| {
            match param_type {
                tlv::RF_RECEIVER => {
                    config.receiver_sensitivity_index =
                        Some(Reader::new(body, "rf receiver").u16()?)
                }
                tlv::RF_TRANSMITTER => {
                    let mut r = Reader::new(body, "rf transmitter");
                    config.transmitter = Some(RfTransmitter {
                        hop_table_id: r.u16()?,
                        channel_index: r.u16()?,
                        transmit_power_index: r.u16()?,
                    });
                }
                tlv::C1G2_INVENTORY_COMMAND => config
                    .inventory_commands
                    .push(C1G2InventoryCommand::parse(body)?),
                _ => {}
            }
            Ok(())
        })?;
        Ok(config)
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::ANTENNA_CONFIGURATION, |out| {
            put_u16(out, self.antenna_id);
            if let Some(index) = self.receiver_sensitivity_index {
                put_tlv(out, tlv::RF_RECEIVER, |out| {
                    put_u16(out, index);
                    Ok(())
                })?;
            }
            if let Some(t) = &self.transmitter {
                put_tlv(out, tlv::RF_TRANSMITTER, |out| {
                    put_u16(out, t.hop_table_id);
                    put_u16(out, t.channel_index);
                    put_u16(out, t.transmit_power_index);
                    Ok(())
                })?;
            }
            for command in &self.inventory_commands {
                command.emit(out)?;
            }
            Ok(())
        })
    }
}

impl C1G2InventoryCommand {
    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "c1g2 inventory command");
        let mut command = C1G2InventoryCommand {
            tag_inventory_state_aware: r.u8()? & 0x80 != 0,
            rf_control: None,
            singulation_control: None,
        };
        for_each_tlv(r.rest(), |param_type, body| {
            match param_type {
                tlv::C1G2_RF_CONTROL => {
                    let mut r = Reader::new(body, "c1g2 rf control");
                    command.rf_control = Some(C1G2RfControl {
                        mode_index: r.u16()?,
                        tari_ns: r.u16()?,
                    });
                }
                tlv::C1G2_SINGULATION_CONTROL => {
                    let mut r = Reader::new(body, "c1g2 singulation control");
                    command.singulation_control = Some(C1G2SingulationControl {
                        session: r.u8()? >> 6,
                        tag_population: r.u16()?,
                        tag_transit_time_ms: r.u32()?,
                    });
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(command)
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::C1G2_INVENTORY_COMMAND, |out| {
            put_u8(
                out,
                if self.tag_inventory_state_aware {
                    0x80
                } else {
                    0
                },
            );
            if let Some(rf) = &self.rf_control {
                put_tlv(out, tlv::C1G2_RF_CONTROL, |out| {
                    put_u16(out, rf.mode_index);
                    put_u16(out, rf.tari_ns);
                    Ok(())
                })?;
            }
            if let Some(s) = &self.singulation_control {
                put_tlv(out, tlv::C1G2_SINGULATION_CONTROL, |out| {
                    put_u8(out, (s.session & 0x03) << 6);
                    put_u16(out, s.tag_population);
                    put_u32(out, s.tag_transit_time_ms);
                    Ok(())
                })?;
            }
            Ok(())
        })
    }
}

impl ReaderConfig {
    /// Parses the configuration parameters found in `params` (other parameters are skipped, so
    /// this reads both SET_READER_CONFIG after its flag byte and GET_READER_CONFIG_RESPONSE).
    pub(crate) fn parse_params(params: &[u8]) -> Result<Self, DecodeError> {
        let mut config = ReaderConfig::default();
        for_each_tlv(params, |param_type, body| {
            match param_type {
                tlv::READER_EVENT_NOTIFICATION_SPEC => {
                    let mut states = Vec::new();
                    for_each_tlv(body, |param_type, body| {
                        if param_type == tlv::EVENT_NOTIFICATION_STATE {
                            let mut r = Reader::new(body, "event notification state");
                            states.push(EventNotificationState {
                                event_type: r.u16()?.into(),
                                enabled: r.u8()? & 0x80 != 0,
                            });
                        }
                        Ok(())
                    })?;
                    config.event_notification_states = Some(states);
                }
                tlv::ANTENNA_CONFIGURATION => config
                    .antenna_configurations
                    .push(AntennaConfiguration::parse(body)?),
                tlv::RO_REPORT_SPEC => config.ro_report = Some(RoReportSpec::parse(body)?),
                tlv::KEEPALIVE_SPEC => {
                    let mut r = Reader::new(body, "keepalive spec");
                    config.keepalive = Some(KeepaliveSpec {
                        trigger: r.u8()?.into(),
                        period_ms: r.u32()?,
                    });
                }
                tlv::EVENTS_AND_REPORTS => {
                    let bits = Reader::new(body, "events and reports").u8()?;
                    config.hold_events_and_reports_upon_reconnect = Some(bits & 0x80 != 0);
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(config)
    }

    /// Writes the parameters in the order SET_READER_CONFIG requires.
    pub(crate) fn emit_params(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if let Some(states) = &self.event_notification_states {
            put_tlv(out, tlv::READER_EVENT_NOTIFICATION_SPEC, |out| {
                for state in states {
                    put_tlv(out, tlv::EVENT_NOTIFICATION_STATE, |out| {
                        put_u16(out, state.event_type.into());
                        put_u8(out, if state.enabled { 0x80 } else { 0 });
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        }
        for config in &self.antenna_configurations {
            config.emit(out)?;
        }
        if let Some(report) = &self.ro_report {
            report.emit(out)?;
        }
        if let Some(keepalive) = &self.keepalive {
            put_tlv(out, tlv::KEEPALIVE_SPEC, |out| {
                put_u8(out, keepalive.trigger.into());
                put_u32(out, keepalive.period_ms);
                Ok(())
            })?;
        }
        if let Some(hold) = self.hold_events_and_reports_upon_reconnect {
            put_tlv(out, tlv::EVENTS_AND_REPORTS, |out| {
                put_u8(out, if hold { 0x80 } else { 0 });
                Ok(())
            })?;
        }
        Ok(())
    }
}
