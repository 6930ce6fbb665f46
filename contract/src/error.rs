//! Why a payload was refused by a parser of this crate.

use std::fmt;

/// A payload that is not what the contract says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractError {
    /// Not JSON of the expected shape (the serde message says where).
    Json(String),
    /// Well-formed JSON that breaks a rule of the contract.
    Invalid(String),
    /// An inbound command larger than [`MAX_COMMAND_BYTES`](crate::MAX_COMMAND_BYTES).
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The bound.
        max: usize,
    },
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContractError::Json(e) => write!(f, "not a valid payload: {e}"),
            ContractError::Invalid(e) => f.write_str(e),
            ContractError::TooLarge { bytes, max } => {
                write!(f, "payload of {bytes} bytes is larger than {max} bytes")
            }
        }
    }
}

impl std::error::Error for ContractError {}

impl From<serde_json::Error> for ContractError {
    fn from(e: serde_json::Error) -> Self {
        ContractError::Json(e.to_string())
    }
}
