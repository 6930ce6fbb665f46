//! Host→module commands: what the driver sends (encode) and what the emulator receives (decode).
//!
//! Layouts from MercuryAPI `serial_reader_l3.c` and SparkFun's library, as summarised in
//! protocols.md §2.2; every one the driver uses has a golden frame in `tests/golden/thingmagic`.
//! Anything else decodes as [`Command::Other`], so the emulator can answer "unimplemented opcode".

use super::error::EncodeError;
use super::frame::{encode_command, CommandFrame};
use super::metadata_flags::MetadataFlags;
use super::opcode::Opcode;
use super::region::Region;
use super::tag_protocol::TagProtocol;
use super::tag_read::OPTION_METADATA;

/// 0x2F option byte: start a continuous search.
const SEARCH_START: u8 = 0x01;
/// 0x2F option byte: stop the continuous search.
const SEARCH_STOP: u8 = 0x02;
/// 0x91 first byte announcing a list of (TX, RX) pairs.
const ANTENNA_SEARCH_LIST: u8 = 0x02;
/// 0x9A first byte: key/value form.
const OPTIONAL_PARAM_KEY_VALUE: u8 = 0x01;
/// Getter option byte "just the current value" (0x61, 0x62).
const GET_CURRENT: u8 = 0x00;

/// What continuous reading searches for and reports: the embedded READ_TAG_ID_MULTIPLE of 0x2F.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContinuousReadPlan {
    pub protocol: TagProtocol,
    /// 0x001B = configured antenna list | tag streaming | large tag population.
    pub search_flags: u16,
    /// Length of one search cycle.
    pub cycle_ms: u16,
    pub metadata: MetadataFlags,
}

impl ContinuousReadPlan {
    /// The plan of protocols.md's verified start frame: Gen2, flags 0x001B, 1000 ms, metadata 0x01FF.
    pub const STANDARD: Self = Self {
        protocol: TagProtocol::Gen2,
        search_flags: 0x001B,
        cycle_ms: 1000,
        metadata: MetadataFlags::STANDARD,
    };
}

/// Which antenna ports to use.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AntennaSelection {
    /// One TX/RX pair: `tx rx`.
    Single { tx: u8, rx: u8 },
    /// Ports visited in turn during a search: `02 (tx rx)*`.
    SearchList(Vec<(u8, u8)>),
}

/// A host→module command.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// 0x03, no data.
    Version,
    /// 0x06, u32 baud rate; the module switches without a reply.
    SetBaudRate { baud: u32 },
    /// 0x29, metadata flags and read options: the synchronous read's buffer fetch.
    GetTagIdBuffer {
        metadata: MetadataFlags,
        read_options: u8,
    },
    /// 0x2A, no data.
    ClearTagIdBuffer,
    /// 0x2F with option 0x01 and an embedded READ_TAG_ID_MULTIPLE.
    StartContinuousRead(ContinuousReadPlan),
    /// 0x2F `00 00 02`.
    StopContinuousRead,
    /// 0x61 `00`: the current TX/RX ports.
    GetAntennaPort,
    /// 0x62 `00`: the current read power.
    GetReadTxPower,
    /// 0x63, no data.
    GetTagProtocol,
    /// 0x67, no data.
    GetRegion,
    /// 0x91.
    SetAntennaPort(AntennaSelection),
    /// 0x92, s16 centi-dBm (2500 = 25.00 dBm).
    SetReadTxPower { centi_dbm: i16 },
    /// 0x93, u16 protocol.
    SetTagProtocol(TagProtocol),
    /// 0x97, u8 region.
    SetRegion(Region),
    /// 0x9A `01 key value` (key 0x0C value 0 turns the module's duplicate filter off).
    SetReaderConfiguration { key: u8, value: u8 },
    /// Any other command, kept whole.
    Other { opcode: Opcode, data: Vec<u8> },
}

impl Command {
    /// Appends the whole frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut data = Vec::new();
        let opcode = match self {
            Self::Version => Opcode::Version,
            Self::SetBaudRate { baud } => {
                data.extend_from_slice(&baud.to_be_bytes());
                Opcode::SetBaudRate
            }
            Self::GetTagIdBuffer {
                metadata,
                read_options,
            } => {
                data.extend_from_slice(&metadata.0.to_be_bytes());
                data.push(*read_options);
                Opcode::GetTagIdBuffer
            }
            Self::ClearTagIdBuffer => Opcode::ClearTagIdBuffer,
            Self::StartContinuousRead(plan) => {
                let protocol = plan.protocol.as_u8().ok_or(EncodeError::OutOfRange {
                    what: "protocol",
                    value: u32::from(u16::from(plan.protocol)),
                })?;
                let sub_command = [u8::from(Opcode::ReadTagIdMultiple), OPTION_METADATA]
                    .into_iter()
                    .chain(plan.search_flags.to_be_bytes())
                    .chain(plan.cycle_ms.to_be_bytes())
                    .chain(plan.metadata.0.to_be_bytes());
                // Outer timeout 0 (run until stopped), option, sub-opcode, outer search flags 0,
                // protocol, then PLEN: the sub-command's length without its opcode byte (7).
                data.extend_from_slice(&[
                    0x00,
                    0x00,
                    SEARCH_START,
                    u8::from(Opcode::ReadTagIdMultiple),
                    0x00,
                    0x00,
                    protocol,
                    0x07,
                ]);
                data.extend(sub_command);
                Opcode::MultiProtocolTagOp
            }
            Self::StopContinuousRead => {
                data.extend_from_slice(&[0x00, 0x00, SEARCH_STOP]);
                Opcode::MultiProtocolTagOp
            }
            Self::GetAntennaPort => {
                data.push(GET_CURRENT);
                Opcode::GetAntennaPort
            }
            Self::GetReadTxPower => {
                data.push(GET_CURRENT);
                Opcode::GetReadTxPower
            }
            Self::GetTagProtocol => Opcode::GetTagProtocol,
            Self::GetRegion => Opcode::GetRegion,
            Self::SetAntennaPort(AntennaSelection::Single { tx, rx }) => {
                data.extend_from_slice(&[*tx, *rx]);
                Opcode::SetAntennaPort
            }
            Self::SetAntennaPort(AntennaSelection::SearchList(pairs)) => {
                data.push(ANTENNA_SEARCH_LIST);
                for (tx, rx) in pairs {
                    data.extend_from_slice(&[*tx, *rx]);
                }
                Opcode::SetAntennaPort
            }
            Self::SetReadTxPower { centi_dbm } => {
                data.extend_from_slice(&centi_dbm.to_be_bytes());
                Opcode::SetReadTxPower
            }
            Self::SetTagProtocol(protocol) => {
                data.extend_from_slice(&u16::from(*protocol).to_be_bytes());
                Opcode::SetTagProtocol
            }
            Self::SetRegion(region) => {
                data.push(u8::from(*region));
                Opcode::SetRegion
            }
            Self::SetReaderConfiguration { key, value } => {
                data.extend_from_slice(&[OPTIONAL_PARAM_KEY_VALUE, *key, *value]);
                Opcode::SetReaderOptionalParams
            }
            Self::Other {
                opcode,
                data: other,
            } => {
                data.extend_from_slice(other);
                *opcode
            }
        };
        encode_command(opcode, &data, out)?;
        Ok(())
    }

    /// Decodes a checked frame. It cannot fail: layouts we do not model come back as
    /// [`Command::Other`], so the emulator can answer them with a status word.
    pub fn decode(frame: CommandFrame<'_>) -> Self {
        let data = frame.data();
        let opcode = frame.opcode();
        let be16 = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
        match (opcode, data) {
            (Opcode::Version, []) => Self::Version,
            (Opcode::SetBaudRate, &[a, b, c, d]) => Self::SetBaudRate {
                baud: u32::from_be_bytes([a, b, c, d]),
            },
            (Opcode::GetTagIdBuffer, &[hi, lo, read_options]) => Self::GetTagIdBuffer {
                metadata: MetadataFlags(u16::from_be_bytes([hi, lo])),
                read_options,
            },
            (Opcode::ClearTagIdBuffer, []) => Self::ClearTagIdBuffer,
            (Opcode::MultiProtocolTagOp, &[0x00, 0x00, SEARCH_STOP]) => Self::StopContinuousRead,
            (
                Opcode::MultiProtocolTagOp,
                &[0x00, 0x00, SEARCH_START, 0x22, 0x00, 0x00, protocol, 0x07, 0x22, OPTION_METADATA, f1, f2, c1, c2, m1, m2],
            ) => Self::StartContinuousRead(ContinuousReadPlan {
                protocol: TagProtocol::from(protocol),
                search_flags: u16::from_be_bytes([f1, f2]),
                cycle_ms: u16::from_be_bytes([c1, c2]),
                metadata: MetadataFlags(u16::from_be_bytes([m1, m2])),
            }),
            (Opcode::GetAntennaPort, [GET_CURRENT]) => Self::GetAntennaPort,
            (Opcode::GetReadTxPower, [GET_CURRENT]) => Self::GetReadTxPower,
            (Opcode::GetTagProtocol, []) => Self::GetTagProtocol,
            (Opcode::GetRegion, []) => Self::GetRegion,
            (Opcode::SetAntennaPort, &[tx, rx]) => {
                Self::SetAntennaPort(AntennaSelection::Single { tx, rx })
            }
            (Opcode::SetAntennaPort, [ANTENNA_SEARCH_LIST, pairs @ ..])
                if pairs.len().is_multiple_of(2) =>
            {
                Self::SetAntennaPort(AntennaSelection::SearchList(
                    pairs.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
                ))
            }
            (Opcode::SetReadTxPower, [_, _]) => Self::SetReadTxPower {
                centi_dbm: be16(data) as i16,
            },
            (Opcode::SetTagProtocol, [_, _]) => Self::SetTagProtocol(TagProtocol::from(be16(data))),
            (Opcode::SetRegion, &[region]) => Self::SetRegion(Region::from(region)),
            (Opcode::SetReaderOptionalParams, &[OPTIONAL_PARAM_KEY_VALUE, key, value]) => {
                Self::SetReaderConfiguration { key, value }
            }
            _ => Self::Other {
                opcode,
                data: data.to_vec(),
            },
        }
    }
}
