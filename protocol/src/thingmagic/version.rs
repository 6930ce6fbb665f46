//! The VERSION (0x03) reply: bootloader, hardware, firmware date and version, supported protocols
//! (MercuryAPI `TMR_SR_cmdVersion` / `fillVersionInfo`).

use super::cursor::Cursor;
use super::error::DecodeError;

/// Module families by the first hardware byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Model {
    M6e,
    M6eNano,
    M7ePico,
    Unknown(u8),
}

impl From<u8> for Model {
    fn from(code: u8) -> Self {
        match code {
            0x18 => Self::M6e,
            0x30 => Self::M6eNano,
            0x38 => Self::M7ePico,
            other => Self::Unknown(other),
        }
    }
}

/// What a module says about itself; the byte groups are kept raw because their inner format
/// differs between families, and `Display` prints them the way ThingMagic tools do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VersionInfo {
    pub bootloader: [u8; 4],
    pub hardware: [u8; 4],
    /// BCD `YYYYMMDD`.
    pub firmware_date: [u8; 4],
    pub firmware_version: [u8; 4],
    /// Bit `n-1` set = protocol `n` supported (Gen2 = 5 → 0x10).
    pub supported_protocols: u32,
}

impl VersionInfo {
    /// Bytes of the reply data.
    pub const LEN: usize = 20;

    pub fn model(&self) -> Model {
        Model::from(self.hardware[0])
    }

    /// Reads the 20-byte reply; longer replies (newer firmware appends fields) are accepted and
    /// the extra bytes ignored.
    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        let mut cursor = Cursor::new(data);
        let mut field = |what| -> Result<[u8; 4], DecodeError> {
            let bytes = cursor.take(4, what)?;
            Ok([bytes[0], bytes[1], bytes[2], bytes[3]])
        };
        let bootloader = field("bootloader version")?;
        let hardware = field("hardware version")?;
        let firmware_date = field("firmware date")?;
        let firmware_version = field("firmware version")?;
        let supported = field("supported protocols")?;
        Ok(Self {
            bootloader,
            hardware,
            firmware_date,
            firmware_version,
            supported_protocols: u32::from_be_bytes(supported),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bootloader);
        out.extend_from_slice(&self.hardware);
        out.extend_from_slice(&self.firmware_date);
        out.extend_from_slice(&self.firmware_version);
        out.extend_from_slice(&self.supported_protocols.to_be_bytes());
    }
}

impl std::fmt::Display for VersionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dotted = |b: [u8; 4]| format!("{:02X}.{:02X}.{:02X}.{:02X}", b[0], b[1], b[2], b[3]);
        let d = self.firmware_date;
        write!(
            f,
            "{:?} hardware {} firmware {} ({:02X}{:02X}-{:02X}-{:02X}) bootloader {}",
            self.model(),
            dotted(self.hardware),
            dotted(self.firmware_version),
            d[0],
            d[1],
            d[2],
            d[3],
            dotted(self.bootloader)
        )
    }
}
