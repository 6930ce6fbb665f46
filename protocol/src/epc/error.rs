//! Why an EPC whose header names a GS1 scheme cannot be decoded as that scheme.

use super::header::Scheme;
use thiserror::Error;

/// The fields behind a known header are not a valid encoding of its scheme (SPEC §5.1 `invalid`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The EPC is shorter than the scheme's fixed length.
    #[error("needs {needed} bits, got {got}")]
    TooFewBits {
        /// Bits the scheme needs.
        needed: usize,
        /// Bits the EPC has.
        got: usize,
    },
    /// A scheme's decoder was handed an EPC with another header.
    #[error("header 0x{found:02x} is not {expected}")]
    WrongHeader {
        /// The scheme whose decoder was called.
        expected: Scheme,
        /// The EPC's first byte.
        found: u8,
    },
    /// Partition 7 is reserved in every partition table.
    #[error("partition {0} is reserved (valid: 0-6)")]
    BadPartition(u8),
    /// A decimal field holds a value with more digits than its partition allows.
    #[error("{field} {value} has more digits than partition {partition} allows ({digits})")]
    TooManyDigits {
        /// Which field (`company prefix`, `item reference`, ...).
        field: &'static str,
        /// The decoded integer.
        value: u64,
        /// The most digits the partition allows.
        digits: u8,
        /// The partition value read from the EPC.
        partition: u8,
    },
    /// A 7-bit serial character outside the GS1 AI encodable character set 82.
    #[error("serial character {position} is 0x{byte:02x}, not in the gs1 character set")]
    BadSerialChar {
        /// Zero-based character index.
        position: usize,
        /// The 7-bit value.
        byte: u8,
    },
    /// A non-zero character follows the zero character that ends a 7-bit serial.
    #[error("serial character {position} is 0x{byte:02x} after the terminating zero")]
    SerialAfterEnd {
        /// Zero-based character index.
        position: usize,
        /// The 7-bit value.
        byte: u8,
    },
    /// A 7-bit serial with no characters (GS1 serials have at least one).
    #[error("serial is empty")]
    EmptySerial,
}

/// Checks that `epc` has at least `bits` bits and starts with `scheme`'s header.
#[inline]
pub(crate) fn expect_scheme(epc: &[u8], scheme: Scheme, bits: usize) -> Result<(), DecodeError> {
    let got = epc.len().saturating_mul(8);
    if got < bits {
        return Err(DecodeError::TooFewBits { needed: bits, got });
    }
    match epc.first() {
        Some(&found) if found == scheme.header() => Ok(()),
        found => Err(DecodeError::WrongHeader {
            expected: scheme,
            found: found.copied().unwrap_or(0),
        }),
    }
}
