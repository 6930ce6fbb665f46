//! Names of the store, zones and readers: `[a-z0-9_-]{1,64}`.
//!
//! SPEC §4 fixes the rule for `store`, which appears in MQTT topics. Reader names appear in topics
//! too (`readers/{reader}`), and zone names in every payload HQ parses, so all three share it:
//! nothing that would need escaping in a topic (`/`, `+`, `#`) or in a log line can get in.

use serde::Deserialize;

/// The longest name accepted, in bytes (all allowed characters are one byte).
pub const MAX_NAME_LEN: usize = 64;

/// A validated name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub(crate) struct Name(pub String);

/// A name that breaks the `[a-z0-9_-]{1,64}` rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a valid name: use 1 to 64 characters from a-z, 0-9, '_' and '-'")]
pub struct InvalidName {
    /// The name as written.
    pub name: String,
}

/// Whether `name` follows the `[a-z0-9_-]{1,64}` rule.
pub fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|byte| matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

impl TryFrom<String> for Name {
    type Error = InvalidName;

    fn try_from(name: String) -> Result<Self, InvalidName> {
        if is_valid_name(&name) {
            Ok(Name(name))
        } else {
            Err(InvalidName { name })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_letters_digits_underscore_and_dash_are_valid() {
        for name in ["paris-01", "a", "floor", "ceiling_1", &"x".repeat(64)] {
            assert!(is_valid_name(name), "{name}");
        }
    }

    #[test]
    fn empty_long_upper_case_spaced_and_topic_characters_are_invalid() {
        for name in [
            "",
            &"x".repeat(65),
            "Paris",
            "paris 01",
            "a/b",
            "a+",
            "#",
            "café",
            "a.b",
        ] {
            assert!(!is_valid_name(name), "{name:?}");
        }
    }

    #[test]
    fn the_error_quotes_the_name_and_states_the_rule() {
        let error = Name::try_from("Paris 01".to_owned()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`Paris 01` is not a valid name: use 1 to 64 characters from a-z, 0-9, '_' and '-'"
        );
    }
}
