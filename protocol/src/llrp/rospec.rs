//! ROSpec [177] and its parts: boundary triggers, AISpec, InventoryParameterSpec, ROReportSpec and
//! TagReportContentSelector.
//!
//! Layouts verified against the LTK `llrp-1x0-def.xml` (LLRP 1.0.1 §16.2.4, §16.2.7.1):
//! ROSpec u32 id, u8 priority, u8 state, ROBoundarySpec, {AISpec|RFSurveySpec|Custom}1-N,
//! ROReportSpec 0-1; ROSpecStartTrigger [179] u8 type, PeriodicTriggerValue [180] (u32 offset,
//! u32 period, UTCTimestamp 0-1), GPITriggerValue [181] (u16 port, u1 event + 7, u32 timeout);
//! ROSpecStopTrigger [182] u8 type, u32 duration, GPITriggerValue 0-1; AISpec [183] u16v antennas,
//! AISpecStopTrigger [184] (u8 type, u32 duration, GPITriggerValue 0-1, TagObservationTrigger
//! [185] 0-1: u8 type, 8 reserved, u16 tags, u16 attempts, u16 T, u32 timeout),
//! InventoryParameterSpec [186] 1-N (u16 id, u8 protocol, AntennaConfiguration*, Custom*);
//! ROReportSpec [237] u8 trigger, u16 N, TagReportContentSelector [238] (10 flag bits + 6
//! reserved, C1G2EPCMemorySelector [348] u1 CRC u1 PC + 6), Custom*. Report triggers 3–6 are
//! LLRP 1.1 §13.2.1.1 (as named in sllurp's `ROReportTrigger_Name2Value`).
//!
//! RFSurveySpecs and unknown Customs are not kept.

use super::cursor::{put_tlv, put_u16, put_u16v, put_u32, put_u64, put_u8, Reader};
use super::error::{DecodeError, EncodeError};
use super::impinj::{
    ImpinjTagReportContentSelector, IMPINJ_VENDOR_ID, SUBTYPE_TAG_REPORT_CONTENT_SELECTOR,
};
use super::param::{for_each_tlv, CustomView};
use super::reader_config::AntennaConfiguration;
use super::types::{tlv, PROTOCOL_EPC_C1G2};

wire_enum! {
    /// ROSpec CurrentState.
    pub enum RoSpecState(u8) {
        Disabled = 0,
        Inactive = 1,
        Active = 2,
    }
}

wire_enum! {
    /// ROSpecStartTriggerType.
    pub enum StartTriggerType(u8) {
        /// Starts only on START_ROSPEC.
        Null = 0,
        /// Starts as soon as it is enabled.
        Immediate = 1,
        Periodic = 2,
        Gpi = 3,
    }
}

wire_enum! {
    /// ROSpecStopTriggerType.
    pub enum StopTriggerType(u8) {
        /// Runs until its AISpecs are done, it is preempted or STOP_ROSPEC.
        Null = 0,
        Duration = 1,
        GpiWithTimeout = 2,
    }
}

wire_enum! {
    /// AISpecStopTriggerType.
    pub enum AiSpecStopTriggerType(u8) {
        /// Stops when the ROSpec does.
        Null = 0,
        Duration = 1,
        GpiWithTimeout = 2,
        TagObservation = 3,
    }
}

wire_enum! {
    /// ROReportTrigger: when the reader sends an RO_ACCESS_REPORT.
    pub enum RoReportTrigger(u8) {
        None = 0,
        UponNTagsOrEndOfAiSpec = 1,
        UponNTagsOrEndOfRoSpec = 2,
        /// LLRP 1.1: every N seconds or at the end of the AISpec.
        UponNSecondsOrEndOfAiSpec = 3,
        /// LLRP 1.1.
        UponNSecondsOrEndOfRoSpec = 4,
        /// LLRP 1.1: every N milliseconds or at the end of the AISpec.
        UponNMillisecondsOrEndOfAiSpec = 5,
        /// LLRP 1.1.
        UponNMillisecondsOrEndOfRoSpec = 6,
    }
}

/// PeriodicTriggerValue [180].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeriodicTriggerValue {
    pub offset_ms: u32,
    pub period_ms: u32,
    /// First start in microseconds since the epoch; absent = time of receipt.
    pub utc_us: Option<u64>,
}

/// GPITriggerValue [181].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GpiTriggerValue {
    pub port: u16,
    pub event: bool,
    pub timeout_ms: u32,
}

/// ROSpecStartTrigger [179].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoSpecStartTrigger {
    pub trigger_type: StartTriggerType,
    pub periodic: Option<PeriodicTriggerValue>,
    pub gpi: Option<GpiTriggerValue>,
}

/// ROSpecStopTrigger [182].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoSpecStopTrigger {
    pub trigger_type: StopTriggerType,
    pub duration_ms: u32,
    pub gpi: Option<GpiTriggerValue>,
}

/// TagObservationTrigger [185].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagObservationTrigger {
    pub trigger_type: u8,
    pub number_of_tags: u16,
    pub number_of_attempts: u16,
    pub t_ms: u16,
    pub timeout_ms: u32,
}

/// AISpecStopTrigger [184].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AiSpecStopTrigger {
    pub trigger_type: AiSpecStopTriggerType,
    pub duration_ms: u32,
    pub gpi: Option<GpiTriggerValue>,
    pub tag_observation: Option<TagObservationTrigger>,
}

/// InventoryParameterSpec [186].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InventoryParameterSpec {
    pub id: u16,
    /// 1 = EPCglobal Class 1 Gen 2.
    pub protocol_id: u8,
    pub antenna_configurations: Vec<AntennaConfiguration>,
}

/// AISpec [183]: which antennas to inventory, until when, and how.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AiSpec {
    /// `[0]` means every antenna.
    pub antenna_ids: Vec<u16>,
    pub stop_trigger: AiSpecStopTrigger,
    pub inventory_parameter_specs: Vec<InventoryParameterSpec>,
}

/// C1G2EPCMemorySelector [348].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct C1G2EpcMemorySelector {
    pub enable_crc: bool,
    pub enable_pc_bits: bool,
}

/// TagReportContentSelector [238]: which optional fields each TagReportData carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TagReportContentSelector {
    pub enable_rospec_id: bool,
    pub enable_spec_index: bool,
    pub enable_inventory_parameter_spec_id: bool,
    pub enable_antenna_id: bool,
    pub enable_channel_index: bool,
    pub enable_peak_rssi: bool,
    pub enable_first_seen_timestamp: bool,
    pub enable_last_seen_timestamp: bool,
    pub enable_tag_seen_count: bool,
    pub enable_access_spec_id: bool,
    pub c1g2_epc_memory: Option<C1G2EpcMemorySelector>,
}

/// ROReportSpec [237].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoReportSpec {
    pub trigger: RoReportTrigger,
    /// Tags, seconds or milliseconds depending on `trigger`; 0 = unlimited.
    pub n: u16,
    pub content: TagReportContentSelector,
    pub impinj_content: Option<ImpinjTagReportContentSelector>,
}

/// ROBoundarySpec [178].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoBoundarySpec {
    pub start_trigger: RoSpecStartTrigger,
    pub stop_trigger: RoSpecStopTrigger,
}

/// ROSpec [177].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoSpec {
    /// 0 is illegal on the wire; the client picks it.
    pub id: u32,
    /// 0..=7, lower is more important.
    pub priority: u8,
    pub current_state: RoSpecState,
    pub boundary: RoBoundarySpec,
    pub ai_specs: Vec<AiSpec>,
    pub report: Option<RoReportSpec>,
}

fn missing(parent: &'static str, missing: &'static str) -> DecodeError {
    DecodeError::MissingParameter { parent, missing }
}

impl GpiTriggerValue {
    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "gpi trigger value");
        Ok(GpiTriggerValue {
            port: r.u16()?,
            event: r.u8()? & 0x80 != 0,
            timeout_ms: r.u32()?,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::GPI_TRIGGER_VALUE, |out| {
            put_u16(out, self.port);
            put_u8(out, if self.event { 0x80 } else { 0 });
            put_u32(out, self.timeout_ms);
            Ok(())
        })
    }
}

impl RoSpecStartTrigger {
    pub fn immediate() -> Self {
        RoSpecStartTrigger {
            trigger_type: StartTriggerType::Immediate,
            periodic: None,
            gpi: None,
        }
    }

    pub fn null() -> Self {
        RoSpecStartTrigger {
            trigger_type: StartTriggerType::Null,
            periodic: None,
            gpi: None,
        }
    }

    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "rospec start trigger");
        let trigger_type = StartTriggerType::from(r.u8()?);
        let mut periodic = None;
        let mut gpi = None;
        for_each_tlv(r.rest(), |param_type, body| {
            match param_type {
                tlv::PERIODIC_TRIGGER_VALUE => {
                    let mut r = Reader::new(body, "periodic trigger value");
                    let offset_ms = r.u32()?;
                    let period_ms = r.u32()?;
                    let mut utc_us = None;
                    for_each_tlv(r.rest(), |param_type, body| {
                        if param_type == tlv::UTC_TIMESTAMP {
                            utc_us = Some(Reader::new(body, "utc timestamp").u64()?);
                        }
                        Ok(())
                    })?;
                    periodic = Some(PeriodicTriggerValue {
                        offset_ms,
                        period_ms,
                        utc_us,
                    });
                }
                tlv::GPI_TRIGGER_VALUE => gpi = Some(GpiTriggerValue::parse(body)?),
                _ => {}
            }
            Ok(())
        })?;
        Ok(RoSpecStartTrigger {
            trigger_type,
            periodic,
            gpi,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::RO_SPEC_START_TRIGGER, |out| {
            put_u8(out, self.trigger_type.into());
            if let Some(p) = &self.periodic {
                put_tlv(out, tlv::PERIODIC_TRIGGER_VALUE, |out| {
                    put_u32(out, p.offset_ms);
                    put_u32(out, p.period_ms);
                    if let Some(utc) = p.utc_us {
                        put_tlv(out, tlv::UTC_TIMESTAMP, |out| {
                            put_u64(out, utc);
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?;
            }
            if let Some(g) = &self.gpi {
                g.emit(out)?;
            }
            Ok(())
        })
    }
}

impl RoSpecStopTrigger {
    pub fn null() -> Self {
        RoSpecStopTrigger {
            trigger_type: StopTriggerType::Null,
            duration_ms: 0,
            gpi: None,
        }
    }

    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "rospec stop trigger");
        let trigger_type = StopTriggerType::from(r.u8()?);
        let duration_ms = r.u32()?;
        let mut gpi = None;
        for_each_tlv(r.rest(), |param_type, body| {
            if param_type == tlv::GPI_TRIGGER_VALUE {
                gpi = Some(GpiTriggerValue::parse(body)?);
            }
            Ok(())
        })?;
        Ok(RoSpecStopTrigger {
            trigger_type,
            duration_ms,
            gpi,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::RO_SPEC_STOP_TRIGGER, |out| {
            put_u8(out, self.trigger_type.into());
            put_u32(out, self.duration_ms);
            if let Some(g) = &self.gpi {
                g.emit(out)?;
            }
            Ok(())
        })
    }
}

impl AiSpecStopTrigger {
    pub fn null() -> Self {
        AiSpecStopTrigger {
            trigger_type: AiSpecStopTriggerType::Null,
            duration_ms: 0,
            gpi: None,
            tag_observation: None,
        }
    }

    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "aispec stop trigger");
        let trigger_type = AiSpecStopTriggerType::from(r.u8()?);
        let duration_ms = r.u32()?;
        let mut gpi = None;
        let mut tag_observation = None;
        for_each_tlv(r.rest(), |param_type, body| {
            match param_type {
                tlv::GPI_TRIGGER_VALUE => gpi = Some(GpiTriggerValue::parse(body)?),
                tlv::TAG_OBSERVATION_TRIGGER => {
                    let mut r = Reader::new(body, "tag observation trigger");
                    let trigger_type = r.u8()?;
                    let _reserved = r.u8()?;
                    tag_observation = Some(TagObservationTrigger {
                        trigger_type,
                        number_of_tags: r.u16()?,
                        number_of_attempts: r.u16()?,
                        t_ms: r.u16()?,
                        timeout_ms: r.u32()?,
                    });
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(AiSpecStopTrigger {
            trigger_type,
            duration_ms,
            gpi,
            tag_observation,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::AI_SPEC_STOP_TRIGGER, |out| {
            put_u8(out, self.trigger_type.into());
            put_u32(out, self.duration_ms);
            if let Some(g) = &self.gpi {
                g.emit(out)?;
            }
            if let Some(t) = &self.tag_observation {
                put_tlv(out, tlv::TAG_OBSERVATION_TRIGGER, |out| {
                    put_u8(out, t.trigger_type);
                    put_u8(out, 0);
                    put_u16(out, t.number_of_tags);
                    put_u16(out, t.number_of_attempts);
                    put_u16(out, t.t_ms);
                    put_u32(out, t.timeout_ms);
                    Ok(())
                })?;
            }
            Ok(())
        })
    }
}

impl InventoryParameterSpec {
    /// A Gen2 inventory with the reader's default antenna settings.
    pub fn gen2(id: u16) -> Self {
        InventoryParameterSpec {
            id,
            protocol_id: PROTOCOL_EPC_C1G2,
            antenna_configurations: Vec::new(),
        }
    }

    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "inventory parameter spec");
        let id = r.u16()?;
        let protocol_id = r.u8()?;
        let mut antenna_configurations = Vec::new();
        for_each_tlv(r.rest(), |param_type, body| {
            if param_type == tlv::ANTENNA_CONFIGURATION {
                antenna_configurations.push(AntennaConfiguration::parse(body)?);
            }
            Ok(())
        })?;
        Ok(InventoryParameterSpec {
            id,
            protocol_id,
            antenna_configurations,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::INVENTORY_PARAMETER_SPEC, |out| {
            put_u16(out, self.id);
            put_u8(out, self.protocol_id);
            for config in &self.antenna_configurations {
                config.emit(out)?;
            }
            Ok(())
        })
    }
}

impl AiSpec {
    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "aispec");
        let antenna_ids = r.u16v()?;
        let mut stop_trigger = None;
        let mut inventory_parameter_specs = Vec::new();
        for_each_tlv(r.rest(), |param_type, body| {
            match param_type {
                tlv::AI_SPEC_STOP_TRIGGER => stop_trigger = Some(AiSpecStopTrigger::parse(body)?),
                tlv::INVENTORY_PARAMETER_SPEC => {
                    inventory_parameter_specs.push(InventoryParameterSpec::parse(body)?)
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(AiSpec {
            antenna_ids,
            stop_trigger: stop_trigger.ok_or(missing("aispec", "aispec stop trigger"))?,
            inventory_parameter_specs,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::AI_SPEC, |out| {
            put_u16v(out, &self.antenna_ids, "aispec antenna list")?;
            self.stop_trigger.emit(out)?;
            for spec in &self.inventory_parameter_specs {
                spec.emit(out)?;
            }
            Ok(())
        })
    }
}

/// Flag bits of TagReportContentSelector, most significant first (LTK field order).
const SELECT_ROSPEC_ID: u16 = 0x8000;
const SELECT_SPEC_INDEX: u16 = 0x4000;
const SELECT_INVENTORY_PARAMETER_SPEC_ID: u16 = 0x2000;
const SELECT_ANTENNA_ID: u16 = 0x1000;
const SELECT_CHANNEL_INDEX: u16 = 0x0800;
const SELECT_PEAK_RSSI: u16 = 0x0400;
const SELECT_FIRST_SEEN: u16 = 0x0200;
const SELECT_LAST_SEEN: u16 = 0x0100;
const SELECT_TAG_SEEN_COUNT: u16 = 0x0080;
const SELECT_ACCESS_SPEC_ID: u16 = 0x0040;

impl TagReportContentSelector {
    fn flags(&self) -> u16 {
        [
            (self.enable_rospec_id, SELECT_ROSPEC_ID),
            (self.enable_spec_index, SELECT_SPEC_INDEX),
            (
                self.enable_inventory_parameter_spec_id,
                SELECT_INVENTORY_PARAMETER_SPEC_ID,
            ),
            (self.enable_antenna_id, SELECT_ANTENNA_ID),
            (self.enable_channel_index, SELECT_CHANNEL_INDEX),
            (self.enable_peak_rssi, SELECT_PEAK_RSSI),
            (self.enable_first_seen_timestamp, SELECT_FIRST_SEEN),
            (self.enable_last_seen_timestamp, SELECT_LAST_SEEN),
            (self.enable_tag_seen_count, SELECT_TAG_SEEN_COUNT),
            (self.enable_access_spec_id, SELECT_ACCESS_SPEC_ID),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, bit)| acc | bit)
    }

    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "tag report content selector");
        let flags = r.u16()?;
        let mut c1g2_epc_memory = None;
        for_each_tlv(r.rest(), |param_type, body| {
            if param_type == tlv::C1G2_EPC_MEMORY_SELECTOR {
                let bits = Reader::new(body, "c1g2 epc memory selector").u8()?;
                c1g2_epc_memory = Some(C1G2EpcMemorySelector {
                    enable_crc: bits & 0x80 != 0,
                    enable_pc_bits: bits & 0x40 != 0,
                });
            }
            Ok(())
        })?;
        Ok(TagReportContentSelector {
            enable_rospec_id: flags & SELECT_ROSPEC_ID != 0,
            enable_spec_index: flags & SELECT_SPEC_INDEX != 0,
            enable_inventory_parameter_spec_id: flags & SELECT_INVENTORY_PARAMETER_SPEC_ID != 0,
            enable_antenna_id: flags & SELECT_ANTENNA_ID != 0,
            enable_channel_index: flags & SELECT_CHANNEL_INDEX != 0,
            enable_peak_rssi: flags & SELECT_PEAK_RSSI != 0,
            enable_first_seen_timestamp: flags & SELECT_FIRST_SEEN != 0,
            enable_last_seen_timestamp: flags & SELECT_LAST_SEEN != 0,
            enable_tag_seen_count: flags & SELECT_TAG_SEEN_COUNT != 0,
            enable_access_spec_id: flags & SELECT_ACCESS_SPEC_ID != 0,
            c1g2_epc_memory,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::TAG_REPORT_CONTENT_SELECTOR, |out| {
            put_u16(out, self.flags());
            if let Some(m) = &self.c1g2_epc_memory {
                put_tlv(out, tlv::C1G2_EPC_MEMORY_SELECTOR, |out| {
                    let mut bits = 0u8;
                    if m.enable_crc {
                        bits |= 0x80;
                    }
                    if m.enable_pc_bits {
                        bits |= 0x40;
                    }
                    put_u8(out, bits);
                    Ok(())
                })?;
            }
            Ok(())
        })
    }
}

impl RoReportSpec {
    /// Parses the body of an ROReportSpec TLV.
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "ro report spec");
        let trigger = RoReportTrigger::from(r.u8()?);
        let n = r.u16()?;
        let mut content = None;
        let mut impinj_content = None;
        for_each_tlv(r.rest(), |param_type, body| {
            match param_type {
                tlv::TAG_REPORT_CONTENT_SELECTOR => {
                    content = Some(TagReportContentSelector::parse(body)?)
                }
                tlv::CUSTOM => {
                    let custom = CustomView::parse(body)?;
                    if custom.vendor == IMPINJ_VENDOR_ID
                        && custom.subtype == SUBTYPE_TAG_REPORT_CONTENT_SELECTOR
                    {
                        impinj_content = Some(ImpinjTagReportContentSelector::parse(custom.data)?);
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(RoReportSpec {
            trigger,
            n,
            content: content.ok_or(missing("ro report spec", "tag report content selector"))?,
            impinj_content,
        })
    }

    /// Writes the whole ROReportSpec TLV.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::RO_REPORT_SPEC, |out| {
            put_u8(out, self.trigger.into());
            put_u16(out, self.n);
            self.content.emit(out)?;
            if let Some(impinj) = &self.impinj_content {
                impinj.emit(out)?;
            }
            Ok(())
        })
    }
}

impl RoSpec {
    /// Parses the body of an ROSpec TLV.
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "rospec");
        let id = r.u32()?;
        let priority = r.u8()?;
        let current_state = RoSpecState::from(r.u8()?);
        let mut boundary = None;
        let mut ai_specs = Vec::new();
        let mut report = None;
        for_each_tlv(r.rest(), |param_type, body| {
            match param_type {
                tlv::RO_BOUNDARY_SPEC => {
                    let mut start = None;
                    let mut stop = None;
                    for_each_tlv(body, |param_type, body| {
                        match param_type {
                            tlv::RO_SPEC_START_TRIGGER => {
                                start = Some(RoSpecStartTrigger::parse(body)?)
                            }
                            tlv::RO_SPEC_STOP_TRIGGER => {
                                stop = Some(RoSpecStopTrigger::parse(body)?)
                            }
                            _ => {}
                        }
                        Ok(())
                    })?;
                    boundary = Some(RoBoundarySpec {
                        start_trigger: start
                            .ok_or(missing("ro boundary spec", "rospec start trigger"))?,
                        stop_trigger: stop
                            .ok_or(missing("ro boundary spec", "rospec stop trigger"))?,
                    });
                }
                tlv::AI_SPEC => ai_specs.push(AiSpec::parse(body)?),
                tlv::RO_REPORT_SPEC => report = Some(RoReportSpec::parse(body)?),
                _ => {}
            }
            Ok(())
        })?;
        Ok(RoSpec {
            id,
            priority,
            current_state,
            boundary: boundary.ok_or(missing("rospec", "ro boundary spec"))?,
            ai_specs,
            report,
        })
    }

    /// Writes the whole ROSpec TLV.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::RO_SPEC, |out| {
            put_u32(out, self.id);
            put_u8(out, self.priority);
            put_u8(out, self.current_state.into());
            put_tlv(out, tlv::RO_BOUNDARY_SPEC, |out| {
                self.boundary.start_trigger.emit(out)?;
                self.boundary.stop_trigger.emit(out)
            })?;
            for ai_spec in &self.ai_specs {
                ai_spec.emit(out)?;
            }
            if let Some(report) = &self.report {
                report.emit(out)?;
            }
            Ok(())
        })
    }
}
