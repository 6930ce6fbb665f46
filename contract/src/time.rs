//! RFC 3339 UTC timestamps as the payloads carry them, from microseconds since the Unix epoch (through humantime).

use std::time::{Duration, UNIX_EPOCH};

/// The last instant humantime can write (9999-12-31T23:59:59.999999Z), in microseconds.
const LAST_MICROS: u64 = 253_402_300_800_000_000 - 1;

/// RFC 3339 UTC with milliseconds, e.g. `2026-04-23T10:15:00.123Z`. An instant after the year 9999
/// (only a broken clock gives one) is written as the last millisecond of 9999 rather than failing.
pub fn rfc3339_from_micros(micros: u64) -> String {
    let time = UNIX_EPOCH + Duration::from_micros(micros.min(LAST_MICROS));
    humantime::format_rfc3339_millis(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_from_micros(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_micros(951_782_400_000_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339_from_micros(1_776_939_300_123_456),
            "2026-04-23T10:15:00.123Z"
        );
    }

    #[test]
    fn a_clock_beyond_year_9999_is_clamped_not_a_panic() {
        assert_eq!(rfc3339_from_micros(u64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_from_micros(LAST_MICROS), "9999-12-31T23:59:59.999Z");
    }
}
