//! Regulatory region codes (MercuryAPI `tmr_region.h`); unknown ones are kept.

/// The region a module's frequency plan follows (SET_REGION / GET_REGION, one byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    NorthAmerica,
    Europe,
    Korea,
    India,
    Japan,
    China,
    Europe2,
    Europe3,
    Korea2,
    China2,
    Australia,
    NewZealand,
    NorthAmerica2,
    NorthAmerica3,
    Open,
    Unknown(u8),
}

impl From<u8> for Region {
    fn from(code: u8) -> Self {
        match code {
            0x01 => Self::NorthAmerica,
            0x02 => Self::Europe,
            0x03 => Self::Korea,
            0x04 => Self::India,
            0x05 => Self::Japan,
            0x06 => Self::China,
            0x07 => Self::Europe2,
            0x08 => Self::Europe3,
            0x09 => Self::Korea2,
            0x0A => Self::China2,
            0x0B => Self::Australia,
            0x0C => Self::NewZealand,
            0x0D => Self::NorthAmerica2,
            0x0E => Self::NorthAmerica3,
            0xFF => Self::Open,
            other => Self::Unknown(other),
        }
    }
}

impl From<Region> for u8 {
    fn from(region: Region) -> Self {
        match region {
            Region::NorthAmerica => 0x01,
            Region::Europe => 0x02,
            Region::Korea => 0x03,
            Region::India => 0x04,
            Region::Japan => 0x05,
            Region::China => 0x06,
            Region::Europe2 => 0x07,
            Region::Europe3 => 0x08,
            Region::Korea2 => 0x09,
            Region::China2 => 0x0A,
            Region::Australia => 0x0B,
            Region::NewZealand => 0x0C,
            Region::NorthAmerica2 => 0x0D,
            Region::NorthAmerica3 => 0x0E,
            Region::Open => 0xFF,
            Region::Unknown(code) => code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for code in 0..=u8::MAX {
            assert_eq!(u8::from(Region::from(code)), code);
        }
    }
}
