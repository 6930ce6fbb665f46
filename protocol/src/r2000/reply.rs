//! Reader→host replies: what the driver receives (decode) and what the emulator sends (encode).
//!
//! A reply echoes the command code and is told apart by its data length, as the vendor SDK does
//! (xinxinyun/wms `ReaderHelper`): during real-time inventory 1 byte is an error code, 7 bytes a
//! round summary, 2 bytes (0x8A only) an antenna-missing report, anything else a tag record.
//! "The reader said no" is [`Reply::Status`] with a code other than 0x10.

use super::command_code::CommandCode;
use super::error::{DecodeError, EncodeError};
use super::error_code::ErrorCode;
use super::frame::{encode_frame, Frame};
use super::round_summary::{FastSwitchSummary, InventoryRoundSummary, SUMMARY_LEN};
use super::tag_record::TagRecord;

/// The work-antenna reply is one byte like an error code; codes start at 0x10, antennas end at 7.
const FIRST_ERROR_CODE: u8 = 0x10;

/// A reader→host reply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// A tag during 0x89 / 0x8A / 0x8B.
    Tag {
        command: CommandCode,
        record: TagRecord,
    },
    /// End of a 0x89 / 0x8B round.
    InventoryRoundEnd {
        command: CommandCode,
        summary: InventoryRoundSummary,
    },
    /// End of a 0x8A command.
    FastSwitchRoundEnd(FastSwitchSummary),
    /// 0x8A: an antenna of the plan is not connected (0-based antenna).
    AntennaMissing { antenna: u8, code: ErrorCode },
    /// A one-byte result: success (0x10) or the reader's reason for refusing.
    Status {
        command: CommandCode,
        code: ErrorCode,
    },
    /// 0x72.
    FirmwareVersion { major: u8, minor: u8 },
    /// 0x75, 0-based antenna.
    WorkAntenna { antenna: u8 },
    /// 0x77: one value, or one per antenna (4 or 8), in dBm.
    OutputPower { dbm: Vec<u8> },
    /// 0x79 with a system-defined band.
    FrequencyRegion { region: u8, start: u8, end: u8 },
    /// A reply this crate does not model, kept whole.
    Other { command: CommandCode, data: Vec<u8> },
}

impl Reply {
    /// Decodes a checked frame.
    pub fn decode(frame: Frame<'_>) -> Result<Self, DecodeError> {
        let command = frame.command();
        let data = frame.data();
        if command.is_real_time_inventory() {
            let is_fast_switch = command == CommandCode::FastSwitchAntInventory;
            if let Ok(summary) = <[u8; SUMMARY_LEN]>::try_from(data) {
                return Ok(if is_fast_switch {
                    Self::FastSwitchRoundEnd(FastSwitchSummary::parse(summary))
                } else {
                    Self::InventoryRoundEnd {
                        command,
                        summary: InventoryRoundSummary::parse(summary),
                    }
                });
            }
            return Ok(match *data {
                [code] => Self::Status {
                    command,
                    code: ErrorCode::from(code),
                },
                [antenna, code] if is_fast_switch => Self::AntennaMissing {
                    antenna,
                    code: ErrorCode::from(code),
                },
                _ => Self::Tag {
                    command,
                    record: TagRecord::parse(data)?,
                },
            });
        }
        Ok(match (command, data) {
            (CommandCode::GetFirmwareVersion, &[major, minor]) => {
                Self::FirmwareVersion { major, minor }
            }
            (CommandCode::GetWorkAntenna, &[antenna]) if antenna < FIRST_ERROR_CODE => {
                Self::WorkAntenna { antenna }
            }
            (CommandCode::GetOutputPower, [_] | [_, _, _, _] | [_, _, _, _, _, _, _, _]) => {
                Self::OutputPower { dbm: data.to_vec() }
            }
            (CommandCode::GetFrequencyRegion, &[region, start, end]) => {
                Self::FrequencyRegion { region, start, end }
            }
            (_, &[code]) => Self::Status {
                command,
                code: ErrorCode::from(code),
            },
            _ => Self::Other {
                command,
                data: data.to_vec(),
            },
        })
    }

    /// Appends the whole frame from reader `address` to `out`.
    pub fn encode(&self, address: u8, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut data = Vec::new();
        let command = match self {
            Self::Tag { command, record } => {
                require_inventory(*command)?;
                record.emit(&mut data)?;
                *command
            }
            Self::InventoryRoundEnd { command, summary } => {
                if !matches!(
                    command,
                    CommandCode::RealTimeInventory | CommandCode::CustomizedSessionTargetInventory
                ) {
                    return Err(EncodeError::OutOfRange {
                        what: "round-summary command",
                        value: i32::from(u8::from(*command)),
                    });
                }
                summary.emit(&mut data);
                *command
            }
            Self::FastSwitchRoundEnd(summary) => {
                summary.emit(&mut data).ok_or(EncodeError::OutOfRange {
                    what: "fast-switch total reads (24 bits)",
                    value: i32::try_from(summary.total_reads).unwrap_or(i32::MAX),
                })?;
                CommandCode::FastSwitchAntInventory
            }
            Self::AntennaMissing { antenna, code } => {
                data.extend_from_slice(&[*antenna, u8::from(*code)]);
                CommandCode::FastSwitchAntInventory
            }
            Self::Status { command, code } => {
                data.push(u8::from(*code));
                *command
            }
            Self::FirmwareVersion { major, minor } => {
                data.extend_from_slice(&[*major, *minor]);
                CommandCode::GetFirmwareVersion
            }
            Self::WorkAntenna { antenna } => {
                data.push(*antenna);
                CommandCode::GetWorkAntenna
            }
            Self::OutputPower { dbm } => {
                data.extend_from_slice(dbm);
                CommandCode::GetOutputPower
            }
            Self::FrequencyRegion { region, start, end } => {
                data.extend_from_slice(&[*region, *start, *end]);
                CommandCode::GetFrequencyRegion
            }
            Self::Other {
                command,
                data: other,
            } => {
                data.extend_from_slice(other);
                *command
            }
        };
        encode_frame(address, command, &data, out)?;
        Ok(())
    }
}

fn require_inventory(command: CommandCode) -> Result<(), EncodeError> {
    if command.is_real_time_inventory() {
        Ok(())
    } else {
        Err(EncodeError::OutOfRange {
            what: "tag-record command",
            value: i32::from(u8::from(command)),
        })
    }
}
