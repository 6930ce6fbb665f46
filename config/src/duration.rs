//! Durations written as strings with a unit ("500ms", "10s", "5m", "1h30m"), as SPEC §4 fixes.
//!
//! The grammar is `humantime`'s (maintained under the chronotope organisation): a unit is
//! required ("10" is refused, so nobody has to guess whether it meant seconds or milliseconds);
//! fractions ("1.5s"), a space before the unit ("10 s") and sums ("5m30s", "5m 30s") are accepted;
//! units are ns, us, ms, s, m, h, d, w (and their long names). Every duration in the config is a
//! period or a timeout, so zero is refused, and so is anything above [`MAX_DURATION`], which keeps
//! `Instant + duration` far away from overflow in the engine.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// The longest duration any key accepts: 30 days.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a duration at all (no unit, unknown unit, not a number).
    #[error("`{text}` is not a duration ({reason}); write it with a unit, like \"500ms\", \"10s\", \"5m\" or \"1h\"")]
    Syntax {
        /// The text as written.
        text: String,
        /// What the parser disliked.
        reason: String,
    },
    /// Zero where a period or timeout is needed.
    #[error("duration `{text}` must be greater than zero")]
    Zero {
        /// The text as written.
        text: String,
    },
    /// Longer than [`MAX_DURATION`].
    #[error("duration `{text}` is longer than the maximum of 30 days")]
    TooLong {
        /// The text as written.
        text: String,
    },
}

/// Parses a positive duration of at most [`MAX_DURATION`].
pub fn parse_positive_duration(text: &str) -> Result<Duration, DurationError> {
    let duration = humantime::parse_duration(text).map_err(|error| DurationError::Syntax {
        text: text.to_owned(),
        reason: error.to_string(),
    })?;
    if duration.is_zero() {
        return Err(DurationError::Zero {
            text: text.to_owned(),
        });
    }
    if duration > MAX_DURATION {
        return Err(DurationError::TooLong {
            text: text.to_owned(),
        });
    }
    Ok(duration)
}

/// A positive duration as it appears in the TOML file; deserializing it runs the checks above,
/// so a bad value is reported at its own line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interval(pub Duration);

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(IntervalVisitor)
    }
}

struct IntervalVisitor;

impl Visitor<'_> for IntervalVisitor {
    type Value = Interval;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a duration string with a unit, like \"10s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Interval, E> {
        parse_positive_duration(text)
            .map(Interval)
            .map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Duration {
        parse_positive_duration(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
    }

    #[test]
    fn the_spec_examples_parse() {
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("10s"), Duration::from_secs(10));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
    }

    #[test]
    fn fractions_sums_and_a_space_before_the_unit_are_accepted() {
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("5m30s"), Duration::from_secs(330));
        assert_eq!(ok("5m 30s"), Duration::from_secs(330));
        assert_eq!(ok("10 s"), Duration::from_secs(10));
    }

    #[test]
    fn a_bare_number_is_refused_because_its_unit_would_be_a_guess() {
        assert!(matches!(
            parse_positive_duration("10"),
            Err(DurationError::Syntax { .. })
        ));
    }

    #[test]
    fn zero_is_refused_in_any_unit() {
        assert!(matches!(
            parse_positive_duration("0s"),
            Err(DurationError::Zero { .. })
        ));
        assert!(matches!(
            parse_positive_duration("0ms"),
            Err(DurationError::Zero { .. })
        ));
    }

    #[test]
    fn negative_and_garbage_values_are_refused() {
        for text in ["-1s", "", "s", "ten seconds", "10 parsecs", "1e3s"] {
            assert!(
                matches!(
                    parse_positive_duration(text),
                    Err(DurationError::Syntax { .. })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_maximum_is_inclusive_and_one_more_nanosecond_is_refused() {
        assert_eq!(ok("30d"), MAX_DURATION);
        assert!(matches!(
            parse_positive_duration("30d 1ns"),
            Err(DurationError::TooLong { .. })
        ));
        assert!(matches!(
            parse_positive_duration("99999999999999h"),
            Err(DurationError::TooLong { .. })
        ));
    }

    #[test]
    fn the_error_names_the_text_and_shows_an_example() {
        let message = parse_positive_duration("10").unwrap_err().to_string();
        assert!(message.starts_with("`10` is not a duration"), "{message}");
        assert!(message.contains("\"10s\""), "{message}");
    }
}
