//! Errors of the ThingMagic layer: a broken frame, an undecodable payload, an unencodable value.
//!
//! None of these is "the module said no": that is a [`StatusWord`](super::StatusWord) inside a
//! well-formed response ([`Response::Rejected`](super::Response::Rejected)).

use thiserror::Error;

/// The bytes are not one well-formed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("frame truncated: need {needed} bytes, have {actual}")]
    Truncated { needed: usize, actual: usize },
    #[error("bad header byte 0x{found:02x}, expected 0xff")]
    BadHeader { found: u8 },
    #[error("length byte {declared} means a {expected}-byte frame, got {actual} bytes")]
    LengthMismatch {
        declared: u8,
        expected: usize,
        actual: usize,
    },
    #[error("bad crc: computed 0x{expected:04x}, frame carries 0x{actual:04x}")]
    BadCrc { expected: u16, actual: u16 },
    #[error("{len} data bytes do not fit a frame (at most 255)")]
    DataTooLong { len: usize },
}

/// A well-formed frame whose payload does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("{what} needs {needed} bytes at offset {offset}, the payload has {available}")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("{count} unexpected bytes after {what}")]
    TrailingBytes { what: &'static str, count: usize },
    #[error("metadata flags 0x{flags:04x} include fields of unknown size")]
    UnsupportedMetadata { flags: u16 },
    #[error("tag stream response type 0x{response_type:02x} carries no tag")]
    NotATagRecord { response_type: u8 },
    #[error("epc field of {bits} bits cannot hold pc, {xpc_words} xpc words and the tag crc")]
    BadEpcLength { bits: u16, xpc_words: u8 },
    #[error("{what}: unexpected value 0x{value:x}")]
    UnexpectedValue { what: &'static str, value: u32 },
}

/// A value that cannot be put on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("{what} value {value} is out of range")]
    OutOfRange { what: &'static str, value: u32 },
    #[error("pc word 0x{pc:04x} and the xpc words given disagree")]
    InconsistentXpc { pc: u16 },
}
