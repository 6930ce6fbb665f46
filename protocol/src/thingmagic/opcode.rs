//! ThingMagic opcodes (protocols.md §2.2, MercuryAPI `serial_reader_imp.h`); unknown ones are kept.

use std::fmt;

/// A command opcode, echoed by the module in its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode {
    Version,
    SetBaudRate,
    ReadTagIdSingle,
    ReadTagIdMultiple,
    WriteTagId,
    WriteTagData,
    ReadTagData,
    GetTagIdBuffer,
    ClearTagIdBuffer,
    MultiProtocolTagOp,
    GetAntennaPort,
    GetReadTxPower,
    GetTagProtocol,
    GetRegion,
    GetReaderOptionalParams,
    GetProtocolParam,
    GetTemperature,
    SetAntennaPort,
    SetReadTxPower,
    SetTagProtocol,
    SetWriteTxPower,
    SetUserGpioOutputs,
    SetRegion,
    SetReaderOptionalParams,
    SetProtocolParam,
    Unknown(u8),
}

impl From<u8> for Opcode {
    fn from(code: u8) -> Self {
        match code {
            0x03 => Self::Version,
            0x06 => Self::SetBaudRate,
            0x21 => Self::ReadTagIdSingle,
            0x22 => Self::ReadTagIdMultiple,
            0x23 => Self::WriteTagId,
            0x24 => Self::WriteTagData,
            0x28 => Self::ReadTagData,
            0x29 => Self::GetTagIdBuffer,
            0x2A => Self::ClearTagIdBuffer,
            0x2F => Self::MultiProtocolTagOp,
            0x61 => Self::GetAntennaPort,
            0x62 => Self::GetReadTxPower,
            0x63 => Self::GetTagProtocol,
            0x67 => Self::GetRegion,
            0x6A => Self::GetReaderOptionalParams,
            0x6B => Self::GetProtocolParam,
            0x72 => Self::GetTemperature,
            0x91 => Self::SetAntennaPort,
            0x92 => Self::SetReadTxPower,
            0x93 => Self::SetTagProtocol,
            0x94 => Self::SetWriteTxPower,
            0x96 => Self::SetUserGpioOutputs,
            0x97 => Self::SetRegion,
            0x9A => Self::SetReaderOptionalParams,
            0x9B => Self::SetProtocolParam,
            other => Self::Unknown(other),
        }
    }
}

impl From<Opcode> for u8 {
    fn from(opcode: Opcode) -> Self {
        match opcode {
            Opcode::Version => 0x03,
            Opcode::SetBaudRate => 0x06,
            Opcode::ReadTagIdSingle => 0x21,
            Opcode::ReadTagIdMultiple => 0x22,
            Opcode::WriteTagId => 0x23,
            Opcode::WriteTagData => 0x24,
            Opcode::ReadTagData => 0x28,
            Opcode::GetTagIdBuffer => 0x29,
            Opcode::ClearTagIdBuffer => 0x2A,
            Opcode::MultiProtocolTagOp => 0x2F,
            Opcode::GetAntennaPort => 0x61,
            Opcode::GetReadTxPower => 0x62,
            Opcode::GetTagProtocol => 0x63,
            Opcode::GetRegion => 0x67,
            Opcode::GetReaderOptionalParams => 0x6A,
            Opcode::GetProtocolParam => 0x6B,
            Opcode::GetTemperature => 0x72,
            Opcode::SetAntennaPort => 0x91,
            Opcode::SetReadTxPower => 0x92,
            Opcode::SetTagProtocol => 0x93,
            Opcode::SetWriteTxPower => 0x94,
            Opcode::SetUserGpioOutputs => 0x96,
            Opcode::SetRegion => 0x97,
            Opcode::SetReaderOptionalParams => 0x9A,
            Opcode::SetProtocolParam => 0x9B,
            Opcode::Unknown(code) => code,
        }
    }
}

impl fmt::Display for Opcode {
    /// The name and the byte, because logs are read next to hex dumps.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}(0x{:02X})", u8::from(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for code in 0..=u8::MAX {
            assert_eq!(u8::from(Opcode::from(code)), code);
        }
    }
}
