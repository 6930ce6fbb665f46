//! Module→host messages: what the driver receives (decode) and what the emulator sends (encode).
//!
//! "The module said no" is [`Response::Rejected`] (a non-zero status word in a good frame) and
//! streamed status frames are [`Response::StreamStatus`]; a broken frame never gets this far.
//! Opcode 0x22 is read as a *streamed* tag frame: tagtally only reads continuously, never with the
//! synchronous READ_TAG_ID_MULTIPLE whose reply shares the opcode.

use super::error::{DecodeError, EncodeError};
use super::frame::{encode_response, ResponseFrame};
use super::opcode::Opcode;
use super::region::Region;
use super::status::StatusWord;
use super::tag_protocol::TagProtocol;
use super::tag_read::TagReadRecord;
use super::version::VersionInfo;

/// First data byte of a 0x2F reply when the search started (MercuryAPI checks only this byte;
/// the rest of the acknowledgement is UNVERIFIED and ignored).
const SEARCH_STARTED: u8 = 0x01;
/// First data byte of the 0x2F reply that ends a continuous search (MercuryAPI `verifySearchStatus`).
const SEARCH_STOPPED: u8 = 0x02;

/// A module→host message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// 0x03 reply.
    Version(VersionInfo),
    /// 0x22 streamed tag read.
    TagRead(TagReadRecord),
    /// 0x22 without a tag while streaming: 0x0400 keep-alive, 0x0504 temperature throttle,
    /// 0x0505 high return loss, or another status.
    StreamStatus(StatusWord),
    /// 0x2F acknowledgement of the start of continuous reading.
    ContinuousReadStarted,
    /// 0x2F confirmation that continuous reading stopped; no tag frames follow.
    ContinuousReadStopped,
    /// 0x61 reply: current TX and RX port.
    AntennaPort { tx: u8, rx: u8 },
    /// 0x62 reply: read power in centi-dBm.
    ReadTxPower { centi_dbm: i16 },
    /// 0x63 reply.
    TagProtocol(TagProtocol),
    /// 0x67 reply.
    Region(Region),
    /// Success without data for a setter (0x06, 0x2A, 0x91–0x9B).
    Ack { opcode: Opcode },
    /// The module refused the command with this status.
    Rejected { opcode: Opcode, status: StatusWord },
    /// A successful reply this crate does not model, kept whole.
    Other { opcode: Opcode, data: Vec<u8> },
}

/// Opcodes whose successful reply carries nothing.
fn is_setter(opcode: Opcode) -> bool {
    matches!(
        opcode,
        Opcode::SetBaudRate
            | Opcode::ClearTagIdBuffer
            | Opcode::SetAntennaPort
            | Opcode::SetReadTxPower
            | Opcode::SetTagProtocol
            | Opcode::SetWriteTxPower
            | Opcode::SetUserGpioOutputs
            | Opcode::SetRegion
            | Opcode::SetReaderOptionalParams
            | Opcode::SetProtocolParam
    )
}

impl Response {
    /// Decodes a checked frame.
    pub fn decode(frame: ResponseFrame<'_>) -> Result<Self, DecodeError> {
        let opcode = frame.opcode();
        let status = frame.status();
        let data = frame.data();
        if opcode == Opcode::ReadTagIdMultiple {
            return if status.is_ok() && !data.is_empty() {
                TagReadRecord::parse(data).map(Self::TagRead)
            } else {
                Ok(Self::StreamStatus(status))
            };
        }
        if !status.is_ok() {
            return Ok(Self::Rejected { opcode, status });
        }
        let response = match (opcode, data) {
            (Opcode::Version, _) => Self::Version(VersionInfo::parse(data)?),
            (Opcode::MultiProtocolTagOp, [SEARCH_STARTED, ..]) => Self::ContinuousReadStarted,
            (Opcode::MultiProtocolTagOp, [SEARCH_STOPPED, ..]) => Self::ContinuousReadStopped,
            (Opcode::GetAntennaPort, &[tx, rx]) => Self::AntennaPort { tx, rx },
            (Opcode::GetReadTxPower, &[0x00, hi, lo]) => Self::ReadTxPower {
                centi_dbm: i16::from_be_bytes([hi, lo]),
            },
            (Opcode::GetTagProtocol, &[hi, lo]) => {
                Self::TagProtocol(TagProtocol::from(u16::from_be_bytes([hi, lo])))
            }
            (Opcode::GetRegion, &[region]) => Self::Region(Region::from(region)),
            (opcode, []) if is_setter(opcode) => Self::Ack { opcode },
            (opcode, data) => Self::Other {
                opcode,
                data: data.to_vec(),
            },
        };
        Ok(response)
    }

    /// Appends the whole frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut data = Vec::new();
        let (opcode, status) = match self {
            Self::Version(info) => {
                info.emit(&mut data);
                (Opcode::Version, StatusWord::Ok)
            }
            Self::TagRead(record) => {
                record.emit(&mut data)?;
                (Opcode::ReadTagIdMultiple, StatusWord::Ok)
            }
            Self::StreamStatus(status) => (Opcode::ReadTagIdMultiple, *status),
            Self::ContinuousReadStarted => {
                data.push(SEARCH_STARTED);
                (Opcode::MultiProtocolTagOp, StatusWord::Ok)
            }
            Self::ContinuousReadStopped => {
                data.push(SEARCH_STOPPED);
                (Opcode::MultiProtocolTagOp, StatusWord::Ok)
            }
            Self::AntennaPort { tx, rx } => {
                data.extend_from_slice(&[*tx, *rx]);
                (Opcode::GetAntennaPort, StatusWord::Ok)
            }
            Self::ReadTxPower { centi_dbm } => {
                data.push(0x00);
                data.extend_from_slice(&centi_dbm.to_be_bytes());
                (Opcode::GetReadTxPower, StatusWord::Ok)
            }
            Self::TagProtocol(protocol) => {
                data.extend_from_slice(&u16::from(*protocol).to_be_bytes());
                (Opcode::GetTagProtocol, StatusWord::Ok)
            }
            Self::Region(region) => {
                data.push(u8::from(*region));
                (Opcode::GetRegion, StatusWord::Ok)
            }
            Self::Ack { opcode } => (*opcode, StatusWord::Ok),
            Self::Rejected { opcode, status } => (*opcode, *status),
            Self::Other {
                opcode,
                data: other,
            } => {
                data.extend_from_slice(other);
                (*opcode, StatusWord::Ok)
            }
        };
        encode_response(opcode, status, &data, out)?;
        Ok(())
    }
}
