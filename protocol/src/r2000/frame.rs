//! R2000 frames: a zero-copy checked view and the encoder (protocols.md §2.5, xinxinyun/wms
//! `ReaderBase`/`MessageTran`). The same layout serves both directions:
//!
//! ```text
//! A0 | LEN | ADDR | CMD | DATA... | CHECK        LEN = bytes after LEN, CHECK included = data + 3
//! ```
//!
//! Once `new_checked` succeeded, no accessor panics.

use super::checksum::checksum;
use super::command_code::CommandCode;
use super::error::FrameError;

/// First byte of every frame.
pub const HEADER: u8 = 0xA0;
/// Header, LEN, address, command, check.
pub const OVERHEAD: usize = 5;
/// LEN counts address, command and check besides the data.
pub const MIN_LEN: u8 = 3;
/// LEN is one byte.
pub const MAX_DATA_LEN: usize = 255 - 3;
/// The longest frame.
pub const MAX_FRAME_LEN: usize = 255 + 2;
/// The broadcast/public reader address.
pub const BROADCAST_ADDRESS: u8 = 0xFF;

mod field {
    pub const LEN: usize = 1;
    pub const ADDRESS: usize = 2;
    pub const COMMAND: usize = 3;
    pub const DATA: usize = 4;
}

/// A checked frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    bytes: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Accepts exactly one whole frame with a good checksum.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, FrameError> {
        if bytes.len() < OVERHEAD {
            return Err(FrameError::Truncated {
                needed: OVERHEAD,
                actual: bytes.len(),
            });
        }
        if bytes[0] != HEADER {
            return Err(FrameError::BadHeader { found: bytes[0] });
        }
        let declared = bytes[field::LEN];
        if declared < MIN_LEN {
            return Err(FrameError::LengthTooSmall { declared });
        }
        let expected = usize::from(declared) + 2;
        if bytes.len() != expected {
            return Err(FrameError::LengthMismatch {
                declared,
                expected,
                actual: bytes.len(),
            });
        }
        let (covered, check) = bytes.split_at(bytes.len() - 1);
        let expected = checksum(covered);
        if expected != check[0] {
            return Err(FrameError::BadChecksum {
                expected,
                actual: check[0],
            });
        }
        Ok(Self { bytes })
    }

    #[inline]
    pub fn address(&self) -> u8 {
        self.bytes[field::ADDRESS]
    }

    #[inline]
    pub fn command(&self) -> CommandCode {
        CommandCode::from(self.bytes[field::COMMAND])
    }

    #[inline]
    pub fn data(&self) -> &'a [u8] {
        &self.bytes[field::DATA..self.bytes.len() - 1]
    }

    /// The whole frame, header to check byte.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Appends a frame to `out`.
pub fn encode_frame(
    address: u8,
    command: CommandCode,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    if data.len() > MAX_DATA_LEN {
        return Err(FrameError::DataTooLong { len: data.len() });
    }
    let start = out.len();
    out.push(HEADER);
    out.push(data.len() as u8 + MIN_LEN);
    out.push(address);
    out.push(u8::from(command));
    out.extend_from_slice(data);
    let check = checksum(&out[start..]);
    out.push(check);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformations_are_reported_with_their_values() {
        assert_eq!(
            Frame::new_checked(&[0xA0, 0x02, 0x01, 0x72, 0xEB]),
            Err(FrameError::LengthTooSmall { declared: 2 })
        );
        assert_eq!(
            Frame::new_checked(&[0xA0, 0x03, 0x01, 0x72, 0xEB]),
            Err(FrameError::BadChecksum {
                expected: 0xEA,
                actual: 0xEB
            })
        );
        assert_eq!(
            encode_frame(1, CommandCode::Reset, &[0; 253], &mut Vec::new()),
            Err(FrameError::DataTooLong { len: 253 })
        );
    }
}
