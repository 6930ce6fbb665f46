//! R2000 result codes (xinxinyun/wms `ERROR.java`, after the vendor's serial protocol guide
//! V2.38): the reader's own "yes" (0x10) or "no", kept apart from broken frames.

use std::fmt;

macro_rules! error_codes {
    ($($name:ident = $code:literal => $text:literal,)*) => {
        /// A one-byte result code; unknown ones are kept.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($name,)*
            Unknown(u8),
        }

        impl From<u8> for ErrorCode {
            fn from(code: u8) -> Self {
                match code {
                    $($code => Self::$name,)*
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<ErrorCode> for u8 {
            fn from(code: ErrorCode) -> Self {
                match code {
                    $(ErrorCode::$name => $code,)*
                    ErrorCode::Unknown(code) => code,
                }
            }
        }

        impl fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let text = match self {
                    $(Self::$name => $text,)*
                    Self::Unknown(_) => "unknown error",
                };
                write!(f, "{text} (0x{:02X})", u8::from(*self))
            }
        }
    };
}

error_codes! {
    Success = 0x10 => "command succeeded",
    Fail = 0x11 => "command failed",
    McuReset = 0x20 => "cpu reset error",
    CwOn = 0x21 => "failed to turn on the carrier",
    AntennaMissing = 0x22 => "antenna missing",
    WriteFlash = 0x23 => "flash write error",
    ReadFlash = 0x24 => "flash read error",
    SetOutputPower = 0x25 => "failed to set output power",
    TagInventory = 0x31 => "tag inventory error",
    TagRead = 0x32 => "tag read error",
    TagWrite = 0x33 => "tag write error",
    TagLock = 0x34 => "tag lock error",
    TagKill = 0x35 => "tag kill error",
    NoTag = 0x36 => "no tag to operate on",
    InventoryOkButAccessFail = 0x37 => "tag inventoried but access failed",
    BufferIsEmpty = 0x38 => "inventory buffer is empty",
    AccessOrPassword = 0x40 => "access failed or wrong password",
    ParameterInvalid = 0x41 => "invalid parameter",
    WordCountTooLong = 0x42 => "word count too long",
    MemoryBankOutOfRange = 0x43 => "memory bank out of range",
    LockRegionOutOfRange = 0x44 => "lock region out of range",
    LockActionOutOfRange = 0x45 => "lock action out of range",
    ReaderAddressInvalid = 0x46 => "invalid reader address",
    AntennaIdOutOfRange = 0x47 => "antenna id out of range",
    OutputPowerOutOfRange = 0x48 => "output power out of range",
    FrequencyRegionOutOfRange = 0x49 => "frequency region out of range",
    BaudrateOutOfRange = 0x4A => "baud rate out of range",
    BeeperModeOutOfRange = 0x4B => "beeper mode out of range",
    EpcMatchTooLong = 0x4C => "epc match too long",
    EpcMatchLength = 0x4D => "epc match length error",
    EpcMatchMode = 0x4E => "invalid epc match mode",
    FrequencyRange = 0x4F => "invalid frequency range",
    NoRn16 = 0x50 => "no rn16 from the tag",
    DrmMode = 0x51 => "invalid drm mode",
    PllLockFail = 0x52 => "pll lock failed",
    RfChipNoResponse = 0x53 => "rf chip does not respond",
    OutputPowerNotReached = 0x54 => "desired output power not reached",
    CopyrightAuthentication = 0x55 => "copyright authentication failed",
    SpectrumRegulation = 0x56 => "spectrum regulation error",
    OutputPowerTooLow = 0x57 => "output power too low",
}

impl ErrorCode {
    /// True for 0x10.
    pub fn is_success(self) -> bool {
        self == Self::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_read_well() {
        for code in 0..=u8::MAX {
            assert_eq!(u8::from(ErrorCode::from(code)), code);
        }
        assert_eq!(
            ErrorCode::AntennaMissing.to_string(),
            "antenna missing (0x22)"
        );
        assert_eq!(ErrorCode::from(0x99).to_string(), "unknown error (0x99)");
    }
}
