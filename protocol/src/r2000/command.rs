//! Host→reader commands: what the driver sends (encode) and what the emulator receives (decode).
//!
//! Data layouts from xinxinyun/wms `ReaderBase.java` (the vendor SDK's Java port); anything else
//! decodes as [`Command::Other`] so the emulator can answer it with an error code.

use super::command_code::CommandCode;
use super::error::EncodeError;
use super::frame::{encode_frame, Frame};

/// One antenna slot of fast-switch inventory: `antenna` 0..=3 (anything above 3 means "skip this
/// slot"), `stay` = inventory rounds on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AntennaStay {
    pub antenna: u8,
    pub stay: u8,
}

/// Fast-switch-antenna inventory (0x8A): `A StayA B StayB C StayC D StayD Interval Repeat`, the
/// four-slot layout of `ReaderBase.fastSwitchAntInventory`. Eight-port firmwares with a longer
/// layout are not modelled (UNVERIFIED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FastSwitchPlan {
    pub slots: [AntennaStay; 4],
    /// Rest between antennas with the carrier off (the vendor guide's unit; UNVERIFIED, ms).
    pub interval: u8,
    /// How many times the whole sequence runs.
    pub repeat: u8,
}

/// A host→reader command.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// 0x70, no data.
    Reset,
    /// 0x72, no data.
    GetFirmwareVersion,
    /// 0x74, antenna 0..=3 (0..=7 on 8-port units).
    SetWorkAntenna { antenna: u8 },
    /// 0x75, no data.
    GetWorkAntenna,
    /// 0x76, one dBm value for all antennas or one per antenna (4 bytes).
    SetOutputPower { dbm: Vec<u8> },
    /// 0x77, no data.
    GetOutputPower,
    /// 0x78 system-defined band: region (0x01 FCC, 0x02 ETSI, 0x03 CHN) and channel range.
    SetFrequencyRegion { region: u8, start: u8, end: u8 },
    /// 0x79, no data.
    GetFrequencyRegion,
    /// 0x89, rounds to run (0xFF = shortest rounds).
    RealTimeInventory { repeat: u8 },
    /// 0x8A.
    FastSwitchInventory(FastSwitchPlan),
    /// Any other command, kept whole.
    Other { command: CommandCode, data: Vec<u8> },
}

impl Command {
    /// Appends the whole frame for reader `address` (0xFF = broadcast) to `out`.
    pub fn encode(&self, address: u8, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut data = Vec::new();
        let command = match self {
            Self::Reset => CommandCode::Reset,
            Self::GetFirmwareVersion => CommandCode::GetFirmwareVersion,
            Self::SetWorkAntenna { antenna } => {
                data.push(*antenna);
                CommandCode::SetWorkAntenna
            }
            Self::GetWorkAntenna => CommandCode::GetWorkAntenna,
            Self::SetOutputPower { dbm } => {
                if !matches!(dbm.len(), 1 | 4) {
                    return Err(EncodeError::OutOfRange {
                        what: "output power count (1 or 4)",
                        value: i32::try_from(dbm.len()).unwrap_or(i32::MAX),
                    });
                }
                data.extend_from_slice(dbm);
                CommandCode::SetOutputPower
            }
            Self::GetOutputPower => CommandCode::GetOutputPower,
            Self::SetFrequencyRegion { region, start, end } => {
                data.extend_from_slice(&[*region, *start, *end]);
                CommandCode::SetFrequencyRegion
            }
            Self::GetFrequencyRegion => CommandCode::GetFrequencyRegion,
            Self::RealTimeInventory { repeat } => {
                data.push(*repeat);
                CommandCode::RealTimeInventory
            }
            Self::FastSwitchInventory(plan) => {
                for slot in plan.slots {
                    data.extend_from_slice(&[slot.antenna, slot.stay]);
                }
                data.extend_from_slice(&[plan.interval, plan.repeat]);
                CommandCode::FastSwitchAntInventory
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

    /// Decodes a checked frame. It cannot fail: layouts we do not model come back as
    /// [`Command::Other`].
    pub fn decode(frame: Frame<'_>) -> Self {
        let data = frame.data();
        let command = frame.command();
        match (command, data) {
            (CommandCode::Reset, []) => Self::Reset,
            (CommandCode::GetFirmwareVersion, []) => Self::GetFirmwareVersion,
            (CommandCode::SetWorkAntenna, &[antenna]) => Self::SetWorkAntenna { antenna },
            (CommandCode::GetWorkAntenna, []) => Self::GetWorkAntenna,
            (CommandCode::SetOutputPower, [_] | [_, _, _, _]) => {
                Self::SetOutputPower { dbm: data.to_vec() }
            }
            (CommandCode::GetOutputPower, []) => Self::GetOutputPower,
            (CommandCode::SetFrequencyRegion, &[region, start, end]) => {
                Self::SetFrequencyRegion { region, start, end }
            }
            (CommandCode::GetFrequencyRegion, []) => Self::GetFrequencyRegion,
            (CommandCode::RealTimeInventory, &[repeat]) => Self::RealTimeInventory { repeat },
            (
                CommandCode::FastSwitchAntInventory,
                &[a, sa, b, sb, c, sc, d, sd, interval, repeat],
            ) => {
                let slot = |antenna, stay| AntennaStay { antenna, stay };
                Self::FastSwitchInventory(FastSwitchPlan {
                    slots: [slot(a, sa), slot(b, sb), slot(c, sc), slot(d, sd)],
                    interval,
                    repeat,
                })
            }
            _ => Self::Other {
                command,
                data: data.to_vec(),
            },
        }
    }
}
