//! R2000 command codes (xinxinyun/wms `CMD.java`); replies echo them, unknown ones are kept.

use std::fmt;

macro_rules! command_codes {
    ($($name:ident = $code:literal,)*) => {
        /// A command code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum CommandCode {
            $($name,)*
            Unknown(u8),
        }

        impl From<u8> for CommandCode {
            fn from(code: u8) -> Self {
                match code {
                    $($code => Self::$name,)*
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<CommandCode> for u8 {
            fn from(command: CommandCode) -> Self {
                match command {
                    $(CommandCode::$name => $code,)*
                    CommandCode::Unknown(code) => code,
                }
            }
        }
    };
}

command_codes! {
    ReadGpioValue = 0x60,
    WriteGpioValue = 0x61,
    SetAntConnectionDetector = 0x62,
    GetAntConnectionDetector = 0x63,
    SetTemporaryOutputPower = 0x66,
    SetReaderIdentifier = 0x67,
    GetReaderIdentifier = 0x68,
    SetRfLinkProfile = 0x69,
    GetRfLinkProfile = 0x6A,
    Reset = 0x70,
    SetUartBaudrate = 0x71,
    GetFirmwareVersion = 0x72,
    SetReaderAddress = 0x73,
    SetWorkAntenna = 0x74,
    GetWorkAntenna = 0x75,
    SetOutputPower = 0x76,
    GetOutputPower = 0x77,
    SetFrequencyRegion = 0x78,
    GetFrequencyRegion = 0x79,
    SetBeeperMode = 0x7A,
    GetReaderTemperature = 0x7B,
    GetRfPortReturnLoss = 0x7E,
    Inventory = 0x80,
    ReadTag = 0x81,
    WriteTag = 0x82,
    LockTag = 0x83,
    KillTag = 0x84,
    SetAccessEpcMatch = 0x85,
    GetAccessEpcMatch = 0x86,
    RealTimeInventory = 0x89,
    FastSwitchAntInventory = 0x8A,
    CustomizedSessionTargetInventory = 0x8B,
    SetImpinjFastTid = 0x8C,
    SetAndSaveImpinjFastTid = 0x8D,
    GetImpinjFastTid = 0x8E,
    GetInventoryBuffer = 0x90,
    GetAndResetInventoryBuffer = 0x91,
    GetInventoryBufferTagCount = 0x92,
    ResetInventoryBuffer = 0x93,
    Iso180006BInventory = 0xB0,
}

impl CommandCode {
    /// The inventory commands whose replies stream tag records (0x89, 0x8A, 0x8B).
    pub fn is_real_time_inventory(self) -> bool {
        matches!(
            self,
            Self::RealTimeInventory
                | Self::FastSwitchAntInventory
                | Self::CustomizedSessionTargetInventory
        )
    }
}

impl fmt::Display for CommandCode {
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
            assert_eq!(u8::from(CommandCode::from(code)), code);
        }
    }
}
