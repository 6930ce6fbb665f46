//! The 10-byte LLRP message header: `[rsvd:3][ver:3][type:10]`, u32 length, u32 message id.

use super::cursor::{put_u16, put_u32};
use super::error::FrameError;
use super::types::{MessageType, ProtocolVersion};

/// Length of the message header; also the smallest legal message.
pub const HEADER_LEN: usize = 10;

/// Byte ranges of the header fields.
mod field {
    use core::ops::Range;
    pub const VERSION_AND_TYPE: Range<usize> = 0..2;
    pub const LENGTH: Range<usize> = 2..6;
    pub const MESSAGE_ID: Range<usize> = 6..10;
}

/// A decoded message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    pub version: ProtocolVersion,
    pub msg_type: MessageType,
    /// Matches a response to its request; the reader picks it for reports, events and keepalives.
    pub id: u32,
}

/// The raw 3-bit version of the first header byte.
#[inline]
pub(crate) fn raw_version(first_byte: u8) -> u8 {
    (first_byte >> 2) & 0x07
}

/// Parses the version, checking it is one this crate speaks.
#[inline]
pub(crate) fn parse_version(first_byte: u8) -> Result<ProtocolVersion, FrameError> {
    match ProtocolVersion::from(raw_version(first_byte)) {
        ProtocolVersion::Unknown(version) => Err(FrameError::UnsupportedVersion { version }),
        known => Ok(known),
    }
}

/// The declared length of a header whose first six bytes are present.
#[inline]
pub(crate) fn declared_len(bytes: &[u8]) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(field::LENGTH)?.try_into().ok()?;
    Some(u32::from_be_bytes(raw))
}

impl Header {
    /// Parses the first ten bytes of `bytes` (lengths are the framer's business).
    pub fn parse(bytes: &[u8]) -> Result<Option<Header>, FrameError> {
        let (Some(vt), Some(id)) = (
            bytes.get(field::VERSION_AND_TYPE),
            bytes.get(field::MESSAGE_ID),
        ) else {
            return Ok(None);
        };
        let version = parse_version(vt[0])?;
        let msg_type = MessageType::from(u16::from_be_bytes([vt[0], vt[1]]) & 0x03FF);
        let id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        Ok(Some(Header {
            version,
            msg_type,
            id,
        }))
    }

    /// Writes the header with the given total message length.
    pub fn emit(&self, total_len: u32, out: &mut Vec<u8>) {
        let version = u16::from(u8::from(self.version) & 0x07);
        let msg_type = u16::from(self.msg_type) & 0x03FF;
        put_u16(out, (version << 10) | msg_type);
        put_u32(out, total_len);
        put_u32(out, self.id);
    }
}
