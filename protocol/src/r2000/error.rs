//! Errors of the R2000 layer: a broken frame, an undecodable payload, an unencodable value.
//!
//! "The reader said no" is not here: it is an [`ErrorCode`](super::ErrorCode) in a good reply
//! ([`Reply::Status`](super::Reply::Status)).

use thiserror::Error;

/// The bytes are not one well-formed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("frame truncated: need {needed} bytes, have {actual}")]
    Truncated { needed: usize, actual: usize },
    #[error("bad header byte 0x{found:02x}, expected 0xa0")]
    BadHeader { found: u8 },
    #[error("length byte {declared} is below the minimum of 3 (address, command, check)")]
    LengthTooSmall { declared: u8 },
    #[error("length byte {declared} means a {expected}-byte frame, got {actual} bytes")]
    LengthMismatch {
        declared: u8,
        expected: usize,
        actual: usize,
    },
    #[error("bad checksum: computed 0x{expected:02x}, frame carries 0x{actual:02x}")]
    BadChecksum { expected: u8, actual: u8 },
    #[error("{len} data bytes do not fit a frame (at most 252)")]
    DataTooLong { len: usize },
}

/// A well-formed frame whose payload does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("tag record of {len} bytes is shorter than freq/ant, pc and rssi (4)")]
    TagRecordTooShort { len: usize },
}

/// A value that cannot be put on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("{what} value {value} is out of range")]
    OutOfRange { what: &'static str, value: i32 },
}
