//! Why bits are not a valid encoding of the scheme their header names, and why field values cannot be encoded.

use thiserror::Error;

/// The fields behind a known header are not a valid encoding of its scheme (SPEC §5.1 `invalid`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The EPC is shorter than the scheme needs.
    #[error("needs {needed} bits, got {got}")]
    TooFewBits {
        /// Bits the scheme needs (so far, for variable-length schemes).
        needed: usize,
        /// Bits the EPC has.
        got: usize,
    },
    /// Partition 7 is reserved in every partition table.
    #[error("partition {0} is reserved (valid: 0-6)")]
    BadPartition(u8),
    /// A decimal field holds a value with more digits than its partition allows.
    #[error("{field} {value} has more digits than partition {partition} allows ({digits})")]
    TooManyDigits {
        /// Which field (`company_prefix`, `item_ref`, ...).
        field: &'static str,
        /// The decoded integer.
        value: u64,
        /// The most digits the partition allows.
        digits: u8,
        /// The partition value read from the EPC.
        partition: u8,
    },
    /// A non-zero character follows the zero character that ends a text field.
    #[error("{field} character {position} is 0x{code:02x} after the terminating zero")]
    CharAfterEnd {
        /// Which field.
        field: &'static str,
        /// Zero-based character index.
        position: usize,
        /// The character's code.
        code: u8,
    },
    /// A variable-length text field has no terminating zero character within its maximum length.
    #[error("{field} has no terminator within {max_chars} characters")]
    Unterminated {
        /// Which field.
        field: &'static str,
        /// The most characters it may hold.
        max_chars: u8,
    },
    /// Bits that the scheme reserves (or that pad a text field) are not zero.
    #[error("{bits} reserved bits after {after} are 0x{value:x}, not zero")]
    ReservedBits {
        /// The field they follow.
        after: &'static str,
        /// How many bits.
        bits: u32,
        /// Their value.
        value: u64,
    },
    /// A numeric-string field's integer does not start with the digit 1 that marks its length.
    #[error("{field} {value} does not start with the digit 1")]
    NumericStringMark {
        /// Which field.
        field: &'static str,
        /// The decoded integer.
        value: u64,
    },
    /// An AI value of a '+' scheme is not a valid TDS §14.5 encoding (digit nibble above 9,
    /// reserved encoding indicator, length above the AI's maximum, ...).
    #[error("{field}: {reason}")]
    AidcValue {
        /// Which field.
        field: &'static str,
        /// What is wrong with its bits.
        reason: String,
    },
    /// The decoded values break a rule of the field itself (character set, length, range).
    #[error(transparent)]
    Field(#[from] FieldError),
}

/// Field values that are not a valid identity of a scheme, so cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldError {
    /// The scheme has no layout of this encoder: a '+' scheme given to [`super::Gs1Epc`] (its
    /// encoder is [`super::PlusEpc`]) or the other way round, a '++' scheme, GDTI-113.
    #[error("{0} is not encodable by this crate")]
    Unsupported(&'static str),
    /// A '+' scheme value breaks a rule of its GS1 AI (digits, check digit, length, characters).
    #[error("{field} {value:?}: {reason}")]
    AidcRule {
        /// Which field.
        field: &'static str,
        /// The value given.
        value: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// Wrong number of field values for the scheme.
    #[error("{scheme} has {expected} fields, got {got}")]
    FieldCount {
        /// The scheme.
        scheme: &'static str,
        /// Fields it has.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A filter value wider than the scheme's filter field, or one given for a scheme with none.
    #[error("filter {value:?} does not fit {scheme} ({bits} filter bits)")]
    Filter {
        /// The scheme.
        scheme: &'static str,
        /// The value given.
        value: Option<u8>,
        /// Filter bits of the scheme.
        bits: u32,
    },
    /// A company prefix whose length matches no partition (6 to 12 digits).
    #[error("company_prefix {0:?} is not 6 to 12 digits")]
    CompanyPrefix(String),
    /// A numeric field with a character that is not a digit.
    #[error("{field} {value:?} is not all digits")]
    NotDigits {
        /// Which field.
        field: &'static str,
        /// Its text.
        value: String,
    },
    /// A field with the wrong number of digits or characters.
    #[error("{field} {value:?} has {got} characters, expected {min}..={max}")]
    Length {
        /// Which field.
        field: &'static str,
        /// Its text.
        value: String,
        /// Its length.
        got: usize,
        /// Fewest allowed.
        min: usize,
        /// Most allowed.
        max: usize,
    },
    /// An integer field written with a leading zero (URIs write integers without them).
    #[error("{field} {value:?} has a leading zero")]
    LeadingZero {
        /// Which field.
        field: &'static str,
        /// Its text.
        value: String,
    },
    /// An integer too large for the field's bits.
    #[error("{field} {value} does not fit {bits} bits")]
    TooLarge {
        /// Which field.
        field: &'static str,
        /// Its text.
        value: String,
        /// The field's width.
        bits: u32,
    },
    /// The output buffer is shorter than [`super::Gs1Epc::buffer_len`].
    #[error("buffer of {got} bytes, the encoding needs {needed}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// A character outside the field's character set.
    #[error("{field} character {position} {found:?} is not allowed")]
    BadChar {
        /// Which field.
        field: &'static str,
        /// Zero-based character index.
        position: usize,
        /// The character.
        found: char,
    },
}
