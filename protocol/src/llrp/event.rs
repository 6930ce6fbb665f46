//! READER_EVENT_NOTIFICATION's ReaderEventNotificationData [246]: timestamp and events.
//!
//! Layouts verified against the LTK `llrp-1x0-def.xml` (LLRP 1.0.1 §13.2.6, §16.2.7.6):
//! HoppingEvent [247] u16 u16; GPIEvent [248] u16, u1+7; ROSpecEvent [249] u8 u32 u32;
//! ReportBufferLevelWarningEvent [250] u8; ReportBufferOverflowErrorEvent [251] empty;
//! ReaderExceptionEvent [252] utf8v then optional TVs/Custom; AISpecEvent [254] u8 u32 u16;
//! AntennaEvent [255] u8 u16; ConnectionAttemptEvent [256] u16; ConnectionCloseEvent [257] empty.

use super::cursor::{put_tlv, put_u16, put_u32, put_u64, put_u8, put_utf8v, Reader};
use super::error::{DecodeError, EncodeError};
use super::param::{Param, Params};
use super::types::tlv;

/// When the events happened, on whichever clock the reader has (microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timestamp {
    /// Since the Unix epoch.
    Utc(u64),
    /// Since the reader booted (readers without a UTC clock).
    Uptime(u64),
}

impl Timestamp {
    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (param_type, us) = match *self {
            Timestamp::Utc(us) => (tlv::UTC_TIMESTAMP, us),
            Timestamp::Uptime(us) => (tlv::UPTIME, us),
        };
        put_tlv(out, param_type, |out| {
            put_u64(out, us);
            Ok(())
        })
    }
}

wire_enum! {
    /// ConnectionAttemptEvent status (LLRP 1.0.1 §13.2.6.11).
    pub enum ConnectionAttemptStatus(u16) {
        Success = 0,
        /// Refused: a reader-initiated connection already exists.
        FailedReaderInitiatedConnectionExists = 1,
        /// Refused: another client is connected.
        FailedClientInitiatedConnectionExists = 2,
        /// Refused for another reason.
        FailedOtherReason = 3,
        /// Sent to the connected client: someone else tried to connect.
        AnotherConnectionAttempted = 4,
    }
}

wire_enum! {
    /// ROSpecEvent type.
    pub enum RoSpecEventType(u8) {
        StartOfRoSpec = 0,
        EndOfRoSpec = 1,
        PreemptionOfRoSpec = 2,
    }
}

wire_enum! {
    /// AntennaEvent type.
    pub enum AntennaEventType(u8) {
        Disconnected = 0,
        Connected = 1,
    }
}

/// One event of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReaderEvent {
    Hopping {
        hop_table_id: u16,
        next_channel_index: u16,
    },
    Gpi {
        port: u16,
        event: bool,
    },
    RoSpec {
        event_type: RoSpecEventType,
        rospec_id: u32,
        preempting_rospec_id: u32,
    },
    ReportBufferLevelWarning {
        percent_full: u8,
    },
    ReportBufferOverflowError,
    /// The reader's own words about a fault; the optional spec ids that may follow are not kept.
    ReaderException {
        message: String,
    },
    AiSpec {
        event_type: u8,
        rospec_id: u32,
        spec_index: u16,
    },
    Antenna {
        event_type: AntennaEventType,
        antenna_id: u16,
    },
    ConnectionAttempt(ConnectionAttemptStatus),
    ConnectionClose,
    /// An event parameter this crate does not decode (RFSurveyEvent, vendor Customs, ...), kept raw.
    Unknown {
        param_type: u16,
        body: Vec<u8>,
    },
}

impl ReaderEvent {
    fn parse(param_type: u16, body: &[u8]) -> Result<ReaderEvent, DecodeError> {
        let mut r = Reader::new(body, "reader event");
        Ok(match param_type {
            tlv::HOPPING_EVENT => ReaderEvent::Hopping {
                hop_table_id: r.u16()?,
                next_channel_index: r.u16()?,
            },
            tlv::GPI_EVENT => ReaderEvent::Gpi {
                port: r.u16()?,
                event: r.u8()? & 0x80 != 0,
            },
            tlv::RO_SPEC_EVENT => ReaderEvent::RoSpec {
                event_type: r.u8()?.into(),
                rospec_id: r.u32()?,
                preempting_rospec_id: r.u32()?,
            },
            tlv::REPORT_BUFFER_LEVEL_WARNING_EVENT => ReaderEvent::ReportBufferLevelWarning {
                percent_full: r.u8()?,
            },
            tlv::REPORT_BUFFER_OVERFLOW_ERROR_EVENT => ReaderEvent::ReportBufferOverflowError,
            tlv::READER_EXCEPTION_EVENT => ReaderEvent::ReaderException {
                message: r.utf8v()?,
            },
            tlv::AI_SPEC_EVENT => ReaderEvent::AiSpec {
                event_type: r.u8()?,
                rospec_id: r.u32()?,
                spec_index: r.u16()?,
            },
            tlv::ANTENNA_EVENT => ReaderEvent::Antenna {
                event_type: r.u8()?.into(),
                antenna_id: r.u16()?,
            },
            tlv::CONNECTION_ATTEMPT_EVENT => ReaderEvent::ConnectionAttempt(r.u16()?.into()),
            tlv::CONNECTION_CLOSE_EVENT => ReaderEvent::ConnectionClose,
            other => ReaderEvent::Unknown {
                param_type: other,
                body: body.to_vec(),
            },
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            ReaderEvent::Hopping {
                hop_table_id,
                next_channel_index,
            } => put_tlv(out, tlv::HOPPING_EVENT, |out| {
                put_u16(out, *hop_table_id);
                put_u16(out, *next_channel_index);
                Ok(())
            }),
            ReaderEvent::Gpi { port, event } => put_tlv(out, tlv::GPI_EVENT, |out| {
                put_u16(out, *port);
                put_u8(out, if *event { 0x80 } else { 0 });
                Ok(())
            }),
            ReaderEvent::RoSpec {
                event_type,
                rospec_id,
                preempting_rospec_id,
            } => put_tlv(out, tlv::RO_SPEC_EVENT, |out| {
                put_u8(out, (*event_type).into());
                put_u32(out, *rospec_id);
                put_u32(out, *preempting_rospec_id);
                Ok(())
            }),
            ReaderEvent::ReportBufferLevelWarning { percent_full } => {
                put_tlv(out, tlv::REPORT_BUFFER_LEVEL_WARNING_EVENT, |out| {
                    put_u8(out, *percent_full);
                    Ok(())
                })
            }
            ReaderEvent::ReportBufferOverflowError => {
                put_tlv(out, tlv::REPORT_BUFFER_OVERFLOW_ERROR_EVENT, |_| Ok(()))
            }
            ReaderEvent::ReaderException { message } => {
                put_tlv(out, tlv::READER_EXCEPTION_EVENT, |out| {
                    put_utf8v(out, message, "reader exception message")
                })
            }
            ReaderEvent::AiSpec {
                event_type,
                rospec_id,
                spec_index,
            } => put_tlv(out, tlv::AI_SPEC_EVENT, |out| {
                put_u8(out, *event_type);
                put_u32(out, *rospec_id);
                put_u16(out, *spec_index);
                Ok(())
            }),
            ReaderEvent::Antenna {
                event_type,
                antenna_id,
            } => put_tlv(out, tlv::ANTENNA_EVENT, |out| {
                put_u8(out, (*event_type).into());
                put_u16(out, *antenna_id);
                Ok(())
            }),
            ReaderEvent::ConnectionAttempt(status) => {
                put_tlv(out, tlv::CONNECTION_ATTEMPT_EVENT, |out| {
                    put_u16(out, (*status).into());
                    Ok(())
                })
            }
            ReaderEvent::ConnectionClose => put_tlv(out, tlv::CONNECTION_CLOSE_EVENT, |_| Ok(())),
            ReaderEvent::Unknown { param_type, body } => put_tlv(out, *param_type, |out| {
                out.extend_from_slice(body);
                Ok(())
            }),
        }
    }
}

/// The content of a READER_EVENT_NOTIFICATION.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReaderEventNotificationData {
    /// Mandatory in the standard; `None` when a reader leaves it out anyway.
    pub timestamp: Option<Timestamp>,
    /// In wire order (the standard orders them chronologically).
    pub events: Vec<ReaderEvent>,
}

impl ReaderEventNotificationData {
    /// Parses the body of a ReaderEventNotificationData TLV.
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut timestamp = None;
        let mut events = Vec::new();
        for param in Params::new(body) {
            match param? {
                Param::Tlv { param_type, body } => match param_type {
                    tlv::UTC_TIMESTAMP => {
                        timestamp = Some(Timestamp::Utc(Reader::new(body, "utc timestamp").u64()?))
                    }
                    tlv::UPTIME => {
                        timestamp = Some(Timestamp::Uptime(Reader::new(body, "uptime").u64()?))
                    }
                    other => events.push(ReaderEvent::parse(other, body)?),
                },
                Param::Tv { .. } => {}
                Param::UnknownTv { .. } => break,
            }
        }
        Ok(ReaderEventNotificationData { timestamp, events })
    }

    /// Writes the whole ReaderEventNotificationData TLV.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::READER_EVENT_NOTIFICATION_DATA, |out| {
            if let Some(ts) = &self.timestamp {
                ts.emit(out)?;
            }
            for event in &self.events {
                event.emit(out)?;
            }
            Ok(())
        })
    }
}
