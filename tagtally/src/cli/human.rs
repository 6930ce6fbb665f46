//! Figures as a person reads them: ages ("3s ago"), durations ("1h 2m"), sizes ("1.5 KiB").

use std::time::{Duration, SystemTime};
use tagtally::control::Timestamp;

/// "3s ago", "1h 2m ago", "now", or "never" — for times in tables.
pub fn ago(time: Option<Timestamp>, now: SystemTime) -> String {
    match time {
        None => "never".to_owned(),
        Some(time) => {
            let age = time.age(now);
            if age < Duration::from_secs(1) {
                "now".to_owned()
            } else {
                format!("{} ago", human_duration(age))
            }
        }
    }
}

/// A duration in whole seconds at most, with the two largest units: "1h 2m", "45s", "3days 4h".
pub fn human_duration(duration: Duration) -> String {
    let whole = humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string();
    whole.split(' ').take(2).collect::<Vec<_>>().join(" ")
}

/// 1536 → "1.5 KiB"; exact below 1 KiB.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_a_person_wrote_them() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let before = |secs| Some(Timestamp(now - Duration::from_secs(secs)));
        assert_eq!(ago(None, now), "never");
        assert_eq!(ago(before(0), now), "now");
        assert_eq!(ago(before(45), now), "45s ago");
        assert_eq!(ago(before(3723), now), "1h 2m ago");
        assert_eq!(human_duration(Duration::from_secs(90_061)), "1day 1h");
    }

    #[test]
    fn bytes_read_in_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5.0 MiB");
    }
}
