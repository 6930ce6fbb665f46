//! Tag-read metadata flags (MercuryAPI `tmr_tag_data.h`): which optional fields a tag record carries.

use std::fmt;
use std::ops::BitOr;

/// A set of metadata flags, as the u16 on the wire.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MetadataFlags(pub u16);

impl MetadataFlags {
    pub const NONE: Self = Self(0);
    pub const READ_COUNT: Self = Self(0x0001);
    pub const RSSI: Self = Self(0x0002);
    pub const ANTENNA: Self = Self(0x0004);
    pub const FREQUENCY: Self = Self(0x0008);
    pub const TIMESTAMP: Self = Self(0x0010);
    pub const PHASE: Self = Self(0x0020);
    pub const PROTOCOL: Self = Self(0x0040);
    pub const DATA: Self = Self(0x0080);
    pub const GPIO: Self = Self(0x0100);
    pub const GEN2_Q: Self = Self(0x0200);
    pub const GEN2_LINK_FREQUENCY: Self = Self(0x0400);
    pub const GEN2_TARGET: Self = Self(0x0800);
    pub const BRAND_ID: Self = Self(0x1000);
    /// Everything a UHF module can report and this crate can parse (0x1FFF). Higher bits (tag
    /// type, HF/LF only) have variable-size encodings and are refused.
    pub const SUPPORTED: Self = Self(0x1FFF);
    /// What tagtally asks for: read count through GPIO (0x01FF), as SparkFun and protocols.md do.
    pub const STANDARD: Self = Self(0x01FF);

    /// True when every flag of `other` is set here.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags set here that this crate cannot parse.
    pub fn unsupported(self) -> Self {
        Self(self.0 & !Self::SUPPORTED.0)
    }
}

impl BitOr for MetadataFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl fmt::Debug for MetadataFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MetadataFlags(0x{:04X})", self.0)
    }
}
