//! A wall-clock instant that travels over the control socket as RFC 3339 UTC text.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::{Duration, SystemTime};

/// 9999-12-31T23:59:59.999Z as time since the epoch: the last instant a four-digit year writes.
const LATEST_SINCE_EPOCH: Duration = Duration::from_millis(253_402_300_799_999);

/// A wall-clock instant, written as RFC 3339 UTC with milliseconds (`2025-03-01T09:30:00.250Z`),
/// the same form as the `time` of the MQTT payloads (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub SystemTime);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        Timestamp(SystemTime::now())
    }

    /// How long before `now` this instant was; zero when it lies in the future (clock steps).
    pub fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.0).unwrap_or(Duration::ZERO)
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        Timestamp(time)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 3339 has four-digit years after 1970 here, and humantime fails outside that
        // range; such instants cannot come from a clock tagtally trusts, so they print
        // clamped rather than failing a whole reply.
        let latest = SystemTime::UNIX_EPOCH
            .checked_add(LATEST_SINCE_EPOCH)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let time = self.0.clamp(SystemTime::UNIX_EPOCH, latest);
        write!(f, "{}", humantime::format_rfc3339_millis(time))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        humantime::parse_rfc3339(&text)
            .map(Timestamp)
            .map_err(|error| serde::de::Error::custom(format!("bad time `{text}`: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_rfc3339_millis() {
        let time = Timestamp(SystemTime::UNIX_EPOCH + Duration::from_millis(1_740_821_400_250));
        let json = serde_json::to_string(&time).unwrap();
        assert_eq!(json, r#""2025-03-01T09:30:00.250Z""#);
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), time);
    }

    #[test]
    fn out_of_range_instants_print_clamped() {
        let before = Timestamp(SystemTime::UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(before.to_string(), "1970-01-01T00:00:00.000Z");
        let after = Timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000));
        assert_eq!(after.to_string(), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn bad_text_is_an_error_naming_it() {
        let error = serde_json::from_str::<Timestamp>(r#""yesterday""#).unwrap_err();
        assert!(
            error.to_string().contains("bad time `yesterday`"),
            "{error}"
        );
    }
}
