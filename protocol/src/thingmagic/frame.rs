//! ThingMagic frames: zero-copy checked views and encoders for both directions (protocols.md §2.1).
//!
//! ```text
//! host → module : FF | LEN | OPCODE |                     DATA[LEN] | CRC_HI CRC_LO
//! module → host : FF | LEN | OPCODE | STATUS_HI STATUS_LO DATA[LEN] | CRC_HI CRC_LO
//! ```
//!
//! LEN counts DATA only; the CRC covers LEN through the end of DATA. Once `new_checked` succeeded,
//! no accessor panics.

use super::crc::thingmagic_crc;
use super::error::FrameError;
use super::opcode::Opcode;
use super::status::StatusWord;

/// First byte of every frame, both directions.
pub const HEADER: u8 = 0xFF;
/// LEN is one byte.
pub const MAX_DATA_LEN: usize = 255;
/// Header, LEN, opcode and CRC.
pub const COMMAND_OVERHEAD: usize = 5;
/// Header, LEN, opcode, status word and CRC.
pub const RESPONSE_OVERHEAD: usize = 7;
/// The longest host→module frame.
pub const MAX_COMMAND_FRAME_LEN: usize = MAX_DATA_LEN + COMMAND_OVERHEAD;
/// The longest module→host frame.
pub const MAX_RESPONSE_FRAME_LEN: usize = MAX_DATA_LEN + RESPONSE_OVERHEAD;

mod field {
    pub const LEN: usize = 1;
    pub const OPCODE: usize = 2;
    pub const STATUS: usize = 3;
    pub const COMMAND_DATA: usize = 3;
    pub const RESPONSE_DATA: usize = 5;
}

/// Checks header, length and CRC of a frame with `overhead` bytes around its data.
fn check(bytes: &[u8], overhead: usize) -> Result<(), FrameError> {
    if bytes.len() < overhead {
        return Err(FrameError::Truncated {
            needed: overhead,
            actual: bytes.len(),
        });
    }
    if bytes[0] != HEADER {
        return Err(FrameError::BadHeader { found: bytes[0] });
    }
    let declared = bytes[field::LEN];
    let expected = usize::from(declared) + overhead;
    if bytes.len() != expected {
        return Err(FrameError::LengthMismatch {
            declared,
            expected,
            actual: bytes.len(),
        });
    }
    let (covered, crc) = bytes[field::LEN..].split_at(bytes.len() - 1 - 2);
    let actual = u16::from_be_bytes([crc[0], crc[1]]);
    let expected = thingmagic_crc(covered);
    if expected != actual {
        return Err(FrameError::BadCrc { expected, actual });
    }
    Ok(())
}

/// A checked host→module frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandFrame<'a> {
    bytes: &'a [u8],
}

impl<'a> CommandFrame<'a> {
    /// Accepts exactly one whole frame with a good CRC.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, FrameError> {
        check(bytes, COMMAND_OVERHEAD)?;
        Ok(Self { bytes })
    }

    #[inline]
    pub fn opcode(&self) -> Opcode {
        Opcode::from(self.bytes[field::OPCODE])
    }

    #[inline]
    pub fn data(&self) -> &'a [u8] {
        &self.bytes[field::COMMAND_DATA..self.bytes.len() - 2]
    }

    /// The whole frame, header to CRC.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// A checked module→host frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseFrame<'a> {
    bytes: &'a [u8],
}

impl<'a> ResponseFrame<'a> {
    /// Accepts exactly one whole frame with a good CRC.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, FrameError> {
        check(bytes, RESPONSE_OVERHEAD)?;
        Ok(Self { bytes })
    }

    #[inline]
    pub fn opcode(&self) -> Opcode {
        Opcode::from(self.bytes[field::OPCODE])
    }

    #[inline]
    pub fn status(&self) -> StatusWord {
        StatusWord::from(u16::from_be_bytes([
            self.bytes[field::STATUS],
            self.bytes[field::STATUS + 1],
        ]))
    }

    #[inline]
    pub fn data(&self) -> &'a [u8] {
        &self.bytes[field::RESPONSE_DATA..self.bytes.len() - 2]
    }

    /// The whole frame, header to CRC.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Appends a host→module frame to `out`.
pub fn encode_command(opcode: Opcode, data: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
    encode(opcode, None, data, out)
}

/// Appends a module→host frame to `out`.
pub fn encode_response(
    opcode: Opcode,
    status: StatusWord,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    encode(opcode, Some(status), data, out)
}

fn encode(
    opcode: Opcode,
    status: Option<StatusWord>,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let len = u8::try_from(data.len()).map_err(|_| FrameError::DataTooLong { len: data.len() })?;
    let start = out.len();
    out.push(HEADER);
    out.push(len);
    out.push(u8::from(opcode));
    if let Some(status) = status {
        out.extend_from_slice(&u16::from(status).to_be_bytes());
    }
    out.extend_from_slice(data);
    let crc = thingmagic_crc(&out[start + field::LEN..]);
    out.extend_from_slice(&crc.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_command_encodes_and_checks() {
        let mut out = Vec::new();
        encode_command(Opcode::Version, &[], &mut out).unwrap();
        assert_eq!(out, [0xFF, 0x00, 0x03, 0x1D, 0x0C]);
        let frame = CommandFrame::new_checked(&out).unwrap();
        assert_eq!(frame.opcode(), Opcode::Version);
        assert!(frame.data().is_empty());
    }

    #[test]
    fn every_malformation_is_reported_with_its_values() {
        assert_eq!(
            CommandFrame::new_checked(&[0xFF, 0x00]),
            Err(FrameError::Truncated {
                needed: 5,
                actual: 2
            })
        );
        assert_eq!(
            CommandFrame::new_checked(&[0xFE, 0x00, 0x03, 0x1D, 0x0C]),
            Err(FrameError::BadHeader { found: 0xFE })
        );
        assert_eq!(
            CommandFrame::new_checked(&[0xFF, 0x01, 0x03, 0x1D, 0x0C]),
            Err(FrameError::LengthMismatch {
                declared: 1,
                expected: 6,
                actual: 5
            })
        );
        assert_eq!(
            CommandFrame::new_checked(&[0xFF, 0x00, 0x03, 0x1D, 0x0D]),
            Err(FrameError::BadCrc {
                expected: 0x1D0C,
                actual: 0x1D0D
            })
        );
        let too_long = [0u8; 256];
        assert_eq!(
            encode_command(Opcode::Version, &too_long, &mut Vec::new()),
            Err(FrameError::DataTooLong { len: 256 })
        );
    }
}
