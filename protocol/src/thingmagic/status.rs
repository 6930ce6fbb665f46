//! Module status words (MercuryAPI `tmr_status.h`): the module's own "no", kept apart from broken frames.

use std::fmt;

/// The 16-bit status word of every module→host frame; unknown codes are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusWord {
    Ok,
    WrongDataLength,
    InvalidOpcode,
    UnimplementedOpcode,
    PowerTooHigh,
    InvalidParameter,
    PowerTooLow,
    InvalidBaudRate,
    InvalidRegion,
    /// While streaming: the keep-alive "no tag in this cycle".
    NoTagsFound,
    /// While streaming: the module throttles because it is too hot.
    TemperatureExceedsLimits,
    /// While streaming: an antenna reflects too much power (missing or broken antenna).
    HighReturnLoss,
    TagIdBufferFull,
    Unknown(u16),
}

impl StatusWord {
    /// True for 0x0000.
    pub fn is_ok(self) -> bool {
        self == Self::Ok
    }
}

impl From<u16> for StatusWord {
    fn from(code: u16) -> Self {
        match code {
            0x0000 => Self::Ok,
            0x0100 => Self::WrongDataLength,
            0x0101 => Self::InvalidOpcode,
            0x0102 => Self::UnimplementedOpcode,
            0x0103 => Self::PowerTooHigh,
            0x0105 => Self::InvalidParameter,
            0x0106 => Self::PowerTooLow,
            0x010A => Self::InvalidBaudRate,
            0x010B => Self::InvalidRegion,
            0x0400 => Self::NoTagsFound,
            0x0504 => Self::TemperatureExceedsLimits,
            0x0505 => Self::HighReturnLoss,
            0x0601 => Self::TagIdBufferFull,
            other => Self::Unknown(other),
        }
    }
}

impl From<StatusWord> for u16 {
    fn from(status: StatusWord) -> Self {
        match status {
            StatusWord::Ok => 0x0000,
            StatusWord::WrongDataLength => 0x0100,
            StatusWord::InvalidOpcode => 0x0101,
            StatusWord::UnimplementedOpcode => 0x0102,
            StatusWord::PowerTooHigh => 0x0103,
            StatusWord::InvalidParameter => 0x0105,
            StatusWord::PowerTooLow => 0x0106,
            StatusWord::InvalidBaudRate => 0x010A,
            StatusWord::InvalidRegion => 0x010B,
            StatusWord::NoTagsFound => 0x0400,
            StatusWord::TemperatureExceedsLimits => 0x0504,
            StatusWord::HighReturnLoss => 0x0505,
            StatusWord::TagIdBufferFull => 0x0601,
            StatusWord::Unknown(code) => code,
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Ok => "success",
            Self::WrongDataLength => "wrong number of data bytes",
            Self::InvalidOpcode => "invalid opcode",
            Self::UnimplementedOpcode => "unimplemented opcode",
            Self::PowerTooHigh => "power too high",
            Self::InvalidParameter => "invalid parameter value",
            Self::PowerTooLow => "power too low",
            Self::InvalidBaudRate => "invalid baud rate",
            Self::InvalidRegion => "invalid region",
            Self::NoTagsFound => "no tags found",
            Self::TemperatureExceedsLimits => "temperature exceeds limits",
            Self::HighReturnLoss => "high return loss (check the antenna)",
            Self::TagIdBufferFull => "tag id buffer full",
            Self::Unknown(_) => "unknown status",
        };
        write!(f, "{text} (0x{:04X})", u16::from(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips_and_unknowns_are_kept() {
        for code in [
            0x0000, 0x0100, 0x0105, 0x0400, 0x0504, 0x0505, 0x0601, 0x7777,
        ] {
            assert_eq!(u16::from(StatusWord::from(code)), code);
        }
        assert_eq!(StatusWord::from(0x7777), StatusWord::Unknown(0x7777));
        assert_eq!(
            StatusWord::HighReturnLoss.to_string(),
            "high return loss (check the antenna) (0x0505)"
        );
    }
}
