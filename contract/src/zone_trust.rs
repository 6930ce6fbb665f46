//! Zone trust as published (SPEC §10): per zone in snapshots and status, per antenna in `readers/{reader}`.

use serde::{Deserialize, Serialize};

/// One zone's trust: its covering antennas, how many of them can be believed, when it was last read
/// and its read rate against its own baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneTrustEntry {
    /// The zone.
    pub zone: String,
    /// Antennas mapped to it.
    pub antennas: u32,
    /// Of those, how many are trusted (reader up, antenna not suspect). Fewer than `antennas`
    /// makes the zone stale when one is suspect.
    pub healthy: u32,
    /// RFC 3339 UTC of the latest read by any of its antennas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read: Option<String>,
    /// Reads per second of its antennas now (two significant digits).
    pub reads_per_sec: f64,
    /// Their usual reads per second, once learnt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_per_sec: Option<f64>,
}

/// One antenna's trust.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AntennaTrustEntry {
    /// `trusted`, `suspect` (silent where it should read: its zone is stale) or `unwatched`
    /// (its reader is down).
    pub state: String,
    /// Sentinel tags configured for it (0: watched by its read rate).
    pub sentinels: u32,
    /// RFC 3339 UTC of its last sentinel read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sentinel_read: Option<String>,
    /// Its usual reads per second, once learnt (two significant digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_per_sec: Option<f64>,
}

/// Two significant digits: enough for a dashboard, and a jittering rate does not count as a change.
pub fn coarse_rate(rate: f64) -> f64 {
    if !rate.is_finite() || rate < 0.05 {
        return 0.0;
    }
    let magnitude = 10f64.powf(rate.log10().floor() - 1.0);
    (rate / magnitude).round() * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_are_left_out() {
        let entry = ZoneTrustEntry {
            zone: "floor".into(),
            antennas: 2,
            healthy: 1,
            last_read: None,
            reads_per_sec: coarse_rate(123.4),
            baseline_per_sec: None,
        };
        let text = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            text,
            r#"{"zone":"floor","antennas":2,"healthy":1,"reads_per_sec":120.0}"#
        );
        assert_eq!(
            serde_json::from_str::<ZoneTrustEntry>(&text).unwrap(),
            entry
        );
        assert_eq!(coarse_rate(0.01), 0.0);
        assert_eq!(coarse_rate(f64::NAN), 0.0);
    }
}
