//! The owned LLRP message: every message a client or a reader sends, decoded from a
//! [`MessageView`] and encoded with a header.
//!
//! Message bodies per the LTK `llrp-1x0-def.xml` (LLRP 1.0.1 §16.1) and, for
//! GET_SUPPORTED_VERSION(_RESPONSE) and SET_PROTOCOL_VERSION, LLRP 1.1 §17.1 as implemented by
//! EdgeX `device-rfid-llrp-go` (`getSupportedVersionResponse`: u8 current, u8 supported,
//! LLRPStatus).

use super::capabilities::ReaderCapabilities;
use super::cursor::{put_u16, put_u32, put_u8, Reader};
use super::error::{DecodeError, EncodeError};
use super::event::ReaderEventNotificationData;
use super::framing::MessageView;
use super::header::Header;
use super::impinj::{
    emit_enable_extensions_body, IMPINJ_VENDOR_ID, SUBTYPE_ENABLE_EXTENSIONS,
    SUBTYPE_ENABLE_EXTENSIONS_RESPONSE,
};
use super::param::for_each_tlv;
use super::reader_config::ReaderConfig;
use super::rospec::RoSpec;
use super::status::LlrpStatus;
use super::tag_report::{TagReportData, TagReports};
use super::types::{tlv, MessageType, ProtocolVersion};

wire_enum! {
    /// GET_READER_CAPABILITIES RequestedData.
    pub enum CapabilitiesRequest(u8) {
        All = 0,
        GeneralDeviceCapabilities = 1,
        LlrpCapabilities = 2,
        RegulatoryCapabilities = 3,
        AirProtocolCapabilities = 4,
    }
}

wire_enum! {
    /// GET_READER_CONFIG RequestedData.
    pub enum ConfigRequest(u8) {
        All = 0,
        Identification = 1,
        AntennaProperties = 2,
        AntennaConfiguration = 3,
        RoReportSpec = 4,
        ReaderEventNotificationSpec = 5,
        AccessReportSpec = 6,
        LlrpConfigurationStateValue = 7,
        KeepaliveSpec = 8,
        GpiPortCurrentState = 9,
        GpoWriteData = 10,
        EventsAndReports = 11,
    }
}

/// GET_READER_CONFIG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GetReaderConfig {
    /// 0 = all antennas.
    pub antenna_id: u16,
    pub requested: ConfigRequest,
    pub gpi_port: u16,
    pub gpo_port: u16,
}

/// A decoded LLRP message, either direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    // Client → reader.
    GetReaderCapabilities(CapabilitiesRequest),
    GetReaderConfig(GetReaderConfig),
    SetReaderConfig {
        reset_to_factory_default: bool,
        config: ReaderConfig,
    },
    AddRoSpec(RoSpec),
    DeleteRoSpec {
        rospec_id: u32,
    },
    StartRoSpec {
        rospec_id: u32,
    },
    StopRoSpec {
        rospec_id: u32,
    },
    EnableRoSpec {
        rospec_id: u32,
    },
    DisableRoSpec {
        rospec_id: u32,
    },
    GetRoSpecs,
    DeleteAccessSpec {
        access_spec_id: u32,
    },
    GetReport,
    /// Echo the KEEPALIVE's message id in the header.
    KeepaliveAck,
    EnableEventsAndReports,
    CloseConnection,
    /// LLRP 1.1; send with header version 2.
    GetSupportedVersion,
    /// LLRP 1.1; send with header version 2.
    SetProtocolVersion {
        version: ProtocolVersion,
    },
    /// CUSTOM_MESSAGE vendor 25882 subtype 21.
    ImpinjEnableExtensions,

    // Reader → client.
    GetReaderCapabilitiesResponse(ReaderCapabilities),
    GetReaderConfigResponse {
        status: LlrpStatus,
        config: ReaderConfig,
    },
    SetReaderConfigResponse(LlrpStatus),
    CloseConnectionResponse(LlrpStatus),
    AddRoSpecResponse(LlrpStatus),
    DeleteRoSpecResponse(LlrpStatus),
    StartRoSpecResponse(LlrpStatus),
    StopRoSpecResponse(LlrpStatus),
    EnableRoSpecResponse(LlrpStatus),
    DisableRoSpecResponse(LlrpStatus),
    GetRoSpecsResponse {
        status: LlrpStatus,
        rospecs: Vec<RoSpec>,
    },
    AddAccessSpecResponse(LlrpStatus),
    DeleteAccessSpecResponse(LlrpStatus),
    EnableAccessSpecResponse(LlrpStatus),
    DisableAccessSpecResponse(LlrpStatus),
    /// The AccessSpecs themselves are not kept.
    GetAccessSpecsResponse(LlrpStatus),
    GetSupportedVersionResponse {
        current: ProtocolVersion,
        supported: ProtocolVersion,
        status: LlrpStatus,
    },
    SetProtocolVersionResponse(LlrpStatus),
    RoAccessReport(Vec<TagReportData>),
    Keepalive,
    ReaderEventNotification(ReaderEventNotificationData),
    ErrorMessage(LlrpStatus),
    /// CUSTOM_MESSAGE vendor 25882 subtype 22.
    ImpinjEnableExtensionsResponse(LlrpStatus),

    /// Any other CUSTOM_MESSAGE, kept raw.
    Custom {
        vendor: u32,
        subtype: u8,
        data: Vec<u8>,
    },
    /// A message type this crate does not decode, kept raw.
    Unknown {
        msg_type: u16,
        body: Vec<u8>,
    },
}

fn status_only(body: &[u8], parent: &'static str) -> Result<LlrpStatus, DecodeError> {
    let mut status = None;
    for_each_tlv(body, |param_type, body| {
        if param_type == tlv::LLRP_STATUS && status.is_none() {
            status = Some(LlrpStatus::parse(body)?);
        }
        Ok(())
    })?;
    status.ok_or(DecodeError::MissingParameter {
        parent,
        missing: "llrp status",
    })
}

fn rospec_id(body: &[u8]) -> Result<u32, DecodeError> {
    Reader::new(body, "rospec id").u32()
}

impl Message {
    /// Decodes a framed message. Unknown message types become [`Message::Unknown`].
    pub fn decode(view: &MessageView<'_>) -> Result<Message, DecodeError> {
        let body = view.body();
        use MessageType as T;
        Ok(match view.header().msg_type {
            T::GetReaderCapabilities => {
                Message::GetReaderCapabilities(Reader::new(body, "requested data").u8()?.into())
            }
            T::GetReaderConfig => {
                let mut r = Reader::new(body, "get_reader_config");
                Message::GetReaderConfig(GetReaderConfig {
                    antenna_id: r.u16()?,
                    requested: r.u8()?.into(),
                    gpi_port: r.u16()?,
                    gpo_port: r.u16()?,
                })
            }
            T::SetReaderConfig => {
                let mut r = Reader::new(body, "set_reader_config");
                let reset_to_factory_default = r.u8()? & 0x80 != 0;
                Message::SetReaderConfig {
                    reset_to_factory_default,
                    config: ReaderConfig::parse_params(r.rest())?,
                }
            }
            T::AddRoSpec => {
                let mut rospec = None;
                for_each_tlv(body, |param_type, body| {
                    if param_type == tlv::RO_SPEC && rospec.is_none() {
                        rospec = Some(RoSpec::parse(body)?);
                    }
                    Ok(())
                })?;
                Message::AddRoSpec(rospec.ok_or(DecodeError::MissingParameter {
                    parent: "add_rospec",
                    missing: "rospec",
                })?)
            }
            T::DeleteRoSpec => Message::DeleteRoSpec {
                rospec_id: rospec_id(body)?,
            },
            T::StartRoSpec => Message::StartRoSpec {
                rospec_id: rospec_id(body)?,
            },
            T::StopRoSpec => Message::StopRoSpec {
                rospec_id: rospec_id(body)?,
            },
            T::EnableRoSpec => Message::EnableRoSpec {
                rospec_id: rospec_id(body)?,
            },
            T::DisableRoSpec => Message::DisableRoSpec {
                rospec_id: rospec_id(body)?,
            },
            T::GetRoSpecs => Message::GetRoSpecs,
            T::DeleteAccessSpec => Message::DeleteAccessSpec {
                access_spec_id: Reader::new(body, "access spec id").u32()?,
            },
            T::GetReport => Message::GetReport,
            T::KeepaliveAck => Message::KeepaliveAck,
            T::EnableEventsAndReports => Message::EnableEventsAndReports,
            T::CloseConnection => Message::CloseConnection,
            T::GetSupportedVersion => Message::GetSupportedVersion,
            T::SetProtocolVersion => Message::SetProtocolVersion {
                version: Reader::new(body, "protocol version").u8()?.into(),
            },
            T::GetReaderCapabilitiesResponse => {
                Message::GetReaderCapabilitiesResponse(ReaderCapabilities::parse(body)?)
            }
            T::GetReaderConfigResponse => Message::GetReaderConfigResponse {
                status: status_only(body, "get_reader_config_response")?,
                config: ReaderConfig::parse_params(body)?,
            },
            T::SetReaderConfigResponse => {
                Message::SetReaderConfigResponse(status_only(body, "set_reader_config_response")?)
            }
            T::CloseConnectionResponse => {
                Message::CloseConnectionResponse(status_only(body, "close_connection_response")?)
            }
            T::AddRoSpecResponse => {
                Message::AddRoSpecResponse(status_only(body, "add_rospec_response")?)
            }
            T::DeleteRoSpecResponse => {
                Message::DeleteRoSpecResponse(status_only(body, "delete_rospec_response")?)
            }
            T::StartRoSpecResponse => {
                Message::StartRoSpecResponse(status_only(body, "start_rospec_response")?)
            }
            T::StopRoSpecResponse => {
                Message::StopRoSpecResponse(status_only(body, "stop_rospec_response")?)
            }
            T::EnableRoSpecResponse => {
                Message::EnableRoSpecResponse(status_only(body, "enable_rospec_response")?)
            }
            T::DisableRoSpecResponse => {
                Message::DisableRoSpecResponse(status_only(body, "disable_rospec_response")?)
            }
            T::GetRoSpecsResponse => {
                let mut rospecs = Vec::new();
                for_each_tlv(body, |param_type, body| {
                    if param_type == tlv::RO_SPEC {
                        rospecs.push(RoSpec::parse(body)?);
                    }
                    Ok(())
                })?;
                Message::GetRoSpecsResponse {
                    status: status_only(body, "get_rospecs_response")?,
                    rospecs,
                }
            }
            T::AddAccessSpecResponse => {
                Message::AddAccessSpecResponse(status_only(body, "add_accessspec_response")?)
            }
            T::DeleteAccessSpecResponse => {
                Message::DeleteAccessSpecResponse(status_only(body, "delete_accessspec_response")?)
            }
            T::EnableAccessSpecResponse => {
                Message::EnableAccessSpecResponse(status_only(body, "enable_accessspec_response")?)
            }
            T::DisableAccessSpecResponse => Message::DisableAccessSpecResponse(status_only(
                body,
                "disable_accessspec_response",
            )?),
            T::GetAccessSpecsResponse => {
                Message::GetAccessSpecsResponse(status_only(body, "get_accessspecs_response")?)
            }
            T::GetSupportedVersionResponse => {
                let mut r = Reader::new(body, "get_supported_version_response");
                let current = r.u8()?.into();
                let supported = r.u8()?.into();
                Message::GetSupportedVersionResponse {
                    current,
                    supported,
                    status: status_only(r.rest(), "get_supported_version_response")?,
                }
            }
            T::SetProtocolVersionResponse => Message::SetProtocolVersionResponse(status_only(
                body,
                "set_protocol_version_response",
            )?),
            T::RoAccessReport => Message::RoAccessReport(
                TagReports::new(body)
                    .map(|report| report.map(|r| TagReportData::from(&r)))
                    .collect::<Result<_, _>>()?,
            ),
            T::Keepalive => Message::Keepalive,
            T::ReaderEventNotification => {
                let mut data = None;
                for_each_tlv(body, |param_type, body| {
                    if param_type == tlv::READER_EVENT_NOTIFICATION_DATA && data.is_none() {
                        data = Some(ReaderEventNotificationData::parse(body)?);
                    }
                    Ok(())
                })?;
                Message::ReaderEventNotification(data.ok_or(DecodeError::MissingParameter {
                    parent: "reader_event_notification",
                    missing: "reader event notification data",
                })?)
            }
            T::ErrorMessage => Message::ErrorMessage(status_only(body, "error_message")?),
            T::CustomMessage => {
                let mut r = Reader::new(body, "custom_message");
                let vendor = r.u32()?;
                let subtype = r.u8()?;
                match (vendor, subtype) {
                    (IMPINJ_VENDOR_ID, SUBTYPE_ENABLE_EXTENSIONS) => {
                        Message::ImpinjEnableExtensions
                    }
                    (IMPINJ_VENDOR_ID, SUBTYPE_ENABLE_EXTENSIONS_RESPONSE) => {
                        Message::ImpinjEnableExtensionsResponse(status_only(
                            r.rest(),
                            "impinj_enable_extensions_response",
                        )?)
                    }
                    _ => Message::Custom {
                        vendor,
                        subtype,
                        data: r.rest().to_vec(),
                    },
                }
            }
            other => Message::Unknown {
                msg_type: other.into(),
                body: body.to_vec(),
            },
        })
    }

    /// The header message type this message is sent with.
    pub fn msg_type(&self) -> MessageType {
        use MessageType as T;
        match self {
            Message::GetReaderCapabilities(_) => T::GetReaderCapabilities,
            Message::GetReaderConfig(_) => T::GetReaderConfig,
            Message::SetReaderConfig { .. } => T::SetReaderConfig,
            Message::AddRoSpec(_) => T::AddRoSpec,
            Message::DeleteRoSpec { .. } => T::DeleteRoSpec,
            Message::StartRoSpec { .. } => T::StartRoSpec,
            Message::StopRoSpec { .. } => T::StopRoSpec,
            Message::EnableRoSpec { .. } => T::EnableRoSpec,
            Message::DisableRoSpec { .. } => T::DisableRoSpec,
            Message::GetRoSpecs => T::GetRoSpecs,
            Message::DeleteAccessSpec { .. } => T::DeleteAccessSpec,
            Message::GetReport => T::GetReport,
            Message::KeepaliveAck => T::KeepaliveAck,
            Message::EnableEventsAndReports => T::EnableEventsAndReports,
            Message::CloseConnection => T::CloseConnection,
            Message::GetSupportedVersion => T::GetSupportedVersion,
            Message::SetProtocolVersion { .. } => T::SetProtocolVersion,
            Message::ImpinjEnableExtensions => T::CustomMessage,
            Message::GetReaderCapabilitiesResponse(_) => T::GetReaderCapabilitiesResponse,
            Message::GetReaderConfigResponse { .. } => T::GetReaderConfigResponse,
            Message::SetReaderConfigResponse(_) => T::SetReaderConfigResponse,
            Message::CloseConnectionResponse(_) => T::CloseConnectionResponse,
            Message::AddRoSpecResponse(_) => T::AddRoSpecResponse,
            Message::DeleteRoSpecResponse(_) => T::DeleteRoSpecResponse,
            Message::StartRoSpecResponse(_) => T::StartRoSpecResponse,
            Message::StopRoSpecResponse(_) => T::StopRoSpecResponse,
            Message::EnableRoSpecResponse(_) => T::EnableRoSpecResponse,
            Message::DisableRoSpecResponse(_) => T::DisableRoSpecResponse,
            Message::GetRoSpecsResponse { .. } => T::GetRoSpecsResponse,
            Message::AddAccessSpecResponse(_) => T::AddAccessSpecResponse,
            Message::DeleteAccessSpecResponse(_) => T::DeleteAccessSpecResponse,
            Message::EnableAccessSpecResponse(_) => T::EnableAccessSpecResponse,
            Message::DisableAccessSpecResponse(_) => T::DisableAccessSpecResponse,
            Message::GetAccessSpecsResponse(_) => T::GetAccessSpecsResponse,
            Message::GetSupportedVersionResponse { .. } => T::GetSupportedVersionResponse,
            Message::SetProtocolVersionResponse(_) => T::SetProtocolVersionResponse,
            Message::RoAccessReport(_) => T::RoAccessReport,
            Message::Keepalive => T::Keepalive,
            Message::ReaderEventNotification(_) => T::ReaderEventNotification,
            Message::ErrorMessage(_) => T::ErrorMessage,
            Message::ImpinjEnableExtensionsResponse(_) => T::CustomMessage,
            Message::Custom { .. } => T::CustomMessage,
            Message::Unknown { msg_type, .. } => T::from(*msg_type & 0x03FF),
        }
    }

    /// The status of a response or ERROR_MESSAGE, if this is one.
    pub fn status(&self) -> Option<&LlrpStatus> {
        match self {
            Message::GetReaderCapabilitiesResponse(caps) => Some(&caps.status),
            Message::GetReaderConfigResponse { status, .. }
            | Message::GetRoSpecsResponse { status, .. }
            | Message::GetSupportedVersionResponse { status, .. } => Some(status),
            Message::SetReaderConfigResponse(s)
            | Message::CloseConnectionResponse(s)
            | Message::AddRoSpecResponse(s)
            | Message::DeleteRoSpecResponse(s)
            | Message::StartRoSpecResponse(s)
            | Message::StopRoSpecResponse(s)
            | Message::EnableRoSpecResponse(s)
            | Message::DisableRoSpecResponse(s)
            | Message::AddAccessSpecResponse(s)
            | Message::DeleteAccessSpecResponse(s)
            | Message::EnableAccessSpecResponse(s)
            | Message::DisableAccessSpecResponse(s)
            | Message::GetAccessSpecsResponse(s)
            | Message::SetProtocolVersionResponse(s)
            | Message::ErrorMessage(s)
            | Message::ImpinjEnableExtensionsResponse(s) => Some(s),
            _ => None,
        }
    }

    /// Appends the whole message (header included) to `out`. On error `out` is left as it was.
    pub fn encode(
        &self,
        version: ProtocolVersion,
        id: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let start = out.len();
        let header = Header {
            version,
            msg_type: self.msg_type(),
            id,
        };
        header.emit(0, out);
        if let Err(e) = self.emit_body(out) {
            out.truncate(start);
            return Err(e);
        }
        let len = out.len() - start;
        let Ok(len32) = u32::try_from(len) else {
            out.truncate(start);
            return Err(EncodeError::TooLong {
                what: "message",
                len,
                max: u32::MAX as usize,
            });
        };
        if let Some(slot) = out.get_mut(start + 2..start + 6) {
            slot.copy_from_slice(&len32.to_be_bytes());
        }
        Ok(())
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Message::GetReaderCapabilities(requested) => put_u8(out, (*requested).into()),
            Message::GetReaderConfig(g) => {
                put_u16(out, g.antenna_id);
                put_u8(out, g.requested.into());
                put_u16(out, g.gpi_port);
                put_u16(out, g.gpo_port);
            }
            Message::SetReaderConfig {
                reset_to_factory_default,
                config,
            } => {
                put_u8(out, if *reset_to_factory_default { 0x80 } else { 0 });
                config.emit_params(out)?;
            }
            Message::AddRoSpec(rospec) => rospec.emit(out)?,
            Message::DeleteRoSpec { rospec_id }
            | Message::StartRoSpec { rospec_id }
            | Message::StopRoSpec { rospec_id }
            | Message::EnableRoSpec { rospec_id }
            | Message::DisableRoSpec { rospec_id } => put_u32(out, *rospec_id),
            Message::DeleteAccessSpec { access_spec_id } => put_u32(out, *access_spec_id),
            Message::GetRoSpecs
            | Message::GetReport
            | Message::KeepaliveAck
            | Message::EnableEventsAndReports
            | Message::CloseConnection
            | Message::GetSupportedVersion
            | Message::Keepalive => {}
            Message::SetProtocolVersion { version } => put_u8(out, (*version).into()),
            Message::ImpinjEnableExtensions => {
                put_u32(out, IMPINJ_VENDOR_ID);
                put_u8(out, SUBTYPE_ENABLE_EXTENSIONS);
                emit_enable_extensions_body(out);
            }
            Message::GetReaderCapabilitiesResponse(caps) => caps.emit(out)?,
            Message::GetReaderConfigResponse { status, config } => {
                status.emit(out)?;
                config.emit_params(out)?;
            }
            Message::GetRoSpecsResponse { status, rospecs } => {
                status.emit(out)?;
                for rospec in rospecs {
                    rospec.emit(out)?;
                }
            }
            Message::GetSupportedVersionResponse {
                current,
                supported,
                status,
            } => {
                put_u8(out, (*current).into());
                put_u8(out, (*supported).into());
                status.emit(out)?;
            }
            Message::SetReaderConfigResponse(s)
            | Message::CloseConnectionResponse(s)
            | Message::AddRoSpecResponse(s)
            | Message::DeleteRoSpecResponse(s)
            | Message::StartRoSpecResponse(s)
            | Message::StopRoSpecResponse(s)
            | Message::EnableRoSpecResponse(s)
            | Message::DisableRoSpecResponse(s)
            | Message::AddAccessSpecResponse(s)
            | Message::DeleteAccessSpecResponse(s)
            | Message::EnableAccessSpecResponse(s)
            | Message::DisableAccessSpecResponse(s)
            | Message::GetAccessSpecsResponse(s)
            | Message::SetProtocolVersionResponse(s)
            | Message::ErrorMessage(s) => s.emit(out)?,
            Message::RoAccessReport(reports) => {
                for report in reports {
                    report.emit(out)?;
                }
            }
            Message::ReaderEventNotification(data) => data.emit(out)?,
            Message::ImpinjEnableExtensionsResponse(status) => {
                put_u32(out, IMPINJ_VENDOR_ID);
                put_u8(out, SUBTYPE_ENABLE_EXTENSIONS_RESPONSE);
                status.emit(out)?;
            }
            Message::Custom {
                vendor,
                subtype,
                data,
            } => {
                put_u32(out, *vendor);
                put_u8(out, *subtype);
                out.extend_from_slice(data);
            }
            Message::Unknown { body, .. } => out.extend_from_slice(body),
        }
        Ok(())
    }
}
