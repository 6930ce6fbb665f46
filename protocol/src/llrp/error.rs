//! Error types of the LLRP layer: framing (link-fatal), decoding (message-level) and encoding.

use thiserror::Error;

/// A framing error. TCP carries no resynchronisation marker for LLRP, so after any of these the
/// byte stream can no longer be trusted: the driver drops the connection and reconnects.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The header's version field is neither 1 (LLRP 1.0.1) nor 2 (LLRP 1.1).
    #[error("unsupported llrp header version {version}")]
    UnsupportedVersion { version: u8 },
    /// The declared length is below the 10-byte header.
    #[error("declared message length {declared} is below the 10-byte header")]
    LengthTooSmall { declared: u32 },
    /// The declared length exceeds the configured maximum; refused before buffering it.
    #[error("declared message length {declared} exceeds the maximum of {max}")]
    LengthTooLarge { declared: u32, max: u32 },
    /// A message view was built over a slice whose size disagrees with the header.
    #[error("message header declares {declared} bytes but the slice holds {actual}")]
    LengthMismatch { declared: u32, actual: usize },
}

/// A message or parameter body that cannot be decoded. The frame boundary is still known, so the
/// connection survives: the message is dropped and counted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// A field runs past the end of its message or parameter.
    #[error("{what} truncated: needed {needed} bytes, {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// A TLV parameter's length is below its 4-byte header or runs past its parent.
    #[error("parameter {param_type} declares length {length}, but only {available} bytes remain")]
    BadParameterLength {
        param_type: u16,
        length: u16,
        available: usize,
    },
    /// A TV parameter of an unknown type where its parent cannot end cleanly (no length to skip by).
    #[error("unknown tv parameter type {tv_type} at a place that cannot be skipped")]
    UnknownTv { tv_type: u8 },
    /// A mandatory parameter is absent.
    #[error("{parent} lacks its mandatory {missing} parameter")]
    MissingParameter {
        parent: &'static str,
        missing: &'static str,
    },
    /// LLRPStatus/ParameterError nesting deeper than any real reader sends; refused so that a hostile
    /// frame cannot exhaust the stack.
    #[error("parameter nesting deeper than {max}")]
    NestingTooDeep { max: usize },
}

/// A value that cannot be put on the wire (a list or text longer than its LLRP length field).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("{what} is {len} long, above the wire maximum of {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// An EPCData bit length that disagrees with the EPC bytes given.
    #[error("epc of {bytes} bytes cannot carry {bits} bits")]
    EpcBitLength { bits: u16, bytes: usize },
}
