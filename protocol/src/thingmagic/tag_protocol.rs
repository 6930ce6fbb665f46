//! Air-protocol identifiers (MercuryAPI `TMR_TagProtocol`): u16 in SET/GET_TAG_PROTOCOL, u8 in tag metadata.

/// The air protocol a module searches for; unknown ones are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TagProtocol {
    None,
    Iso180006B,
    Gen2,
    Iso180006BUcode,
    Unknown(u16),
}

impl From<u16> for TagProtocol {
    fn from(code: u16) -> Self {
        match code {
            0x0000 => Self::None,
            0x0003 => Self::Iso180006B,
            0x0005 => Self::Gen2,
            0x0006 => Self::Iso180006BUcode,
            other => Self::Unknown(other),
        }
    }
}

impl From<TagProtocol> for u16 {
    fn from(protocol: TagProtocol) -> Self {
        match protocol {
            TagProtocol::None => 0x0000,
            TagProtocol::Iso180006B => 0x0003,
            TagProtocol::Gen2 => 0x0005,
            TagProtocol::Iso180006BUcode => 0x0006,
            TagProtocol::Unknown(code) => code,
        }
    }
}

impl From<u8> for TagProtocol {
    fn from(code: u8) -> Self {
        Self::from(u16::from(code))
    }
}

impl TagProtocol {
    /// The one-byte form used in tag metadata and in the 0x2F search command; `None` when the code
    /// does not fit a byte.
    pub fn as_u8(self) -> Option<u8> {
        u8::try_from(u16::from(self)).ok()
    }
}
