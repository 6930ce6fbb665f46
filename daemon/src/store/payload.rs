//! The MQTT payloads the store commits (SPEC §6): the delta message, serialised once at commit so every re-send is byte-identical, and the resync snapshot flag.

use serde::Serialize;
use tagtally_reader_drivers::Micros;

use crate::engine::{CountChange, Snapshot};

/// The delta schema name.
pub const DELTA_SCHEMA: &str = "tagtally.delta/1";
/// The snapshot schema name.
pub const SNAPSHOT_SCHEMA: &str = "tagtally.snapshot/1";

#[derive(Serialize)]
struct DeltaMessage<'a> {
    schema: &'static str,
    store: &'a str,
    epoch: &'a str,
    seq: u64,
    time: String,
    changes: Vec<ChangeItem<'a>>,
}

#[derive(Serialize)]
struct ChangeItem<'a> {
    zone: &'a str,
    sku: &'a str,
    delta: i64,
    count: u32,
}

/// The delta message bytes.
pub fn delta_json(
    store: &str,
    epoch: &str,
    seq: u64,
    time: Micros,
    changes: &[CountChange],
) -> Vec<u8> {
    let message = DeltaMessage {
        schema: DELTA_SCHEMA,
        store,
        epoch,
        seq,
        time: rfc3339(time),
        changes: changes
            .iter()
            .map(|c| ChangeItem {
                zone: &c.zone,
                sku: &c.sku,
                delta: c.delta,
                count: c.count,
            })
            .collect(),
    };
    // Serialising plain strings and integers into a Vec cannot fail; an empty payload would be refused by HQ.
    serde_json::to_vec(&message).unwrap_or_default()
}

/// The range of deltas folded away because the outbox was full; HQ sees them as a gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Resync {
    /// First folded seq.
    pub first_seq: u64,
    /// Last folded seq.
    pub last_seq: u64,
}

#[derive(Serialize)]
struct SnapshotMessage<'a> {
    schema: &'static str,
    store: &'a str,
    epoch: &'a str,
    seq: u64,
    time: String,
    counts: Vec<CountItem<'a>>,
    stale_zones: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resync: Option<Resync>,
}

#[derive(Serialize)]
struct CountItem<'a> {
    zone: &'a str,
    sku: &'a str,
    count: u32,
}

/// The snapshot message bytes; `seq` is the last delta included. With `resync`, the snapshot also replaces
/// the folded deltas: the extra field `"resync":{"first_seq","last_seq"}` tells HQ the gap was intended.
pub fn snapshot_json(
    store: &str,
    epoch: &str,
    seq: u64,
    time: Micros,
    snapshot: &Snapshot,
    resync: Option<Resync>,
) -> Vec<u8> {
    let message = SnapshotMessage {
        schema: SNAPSHOT_SCHEMA,
        store,
        epoch,
        seq,
        time: rfc3339(time),
        counts: snapshot
            .counts
            .iter()
            .map(|c| CountItem {
                zone: &c.zone,
                sku: &c.sku,
                count: c.count,
            })
            .collect(),
        stale_zones: snapshot.stale_zones.iter().map(|z| &**z).collect(),
        resync,
    };
    serde_json::to_vec(&message).unwrap_or_default()
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-04-23T10:15:00.123Z`.
pub fn rfc3339(time: Micros) -> String {
    let secs = time.0 / 1_000_000;
    let millis = (time.0 % 1_000_000) / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's civil-from-days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(Micros(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(Micros(951_782_400_000_000)),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339(Micros(1_776_939_300_123_456)),
            "2026-04-23T10:15:00.123Z"
        );
    }

    #[test]
    fn delta_message_has_the_spec_shape() {
        let changes = [CountChange {
            zone: Arc::from("floor"),
            sku: Arc::from("80614141123458"),
            delta: -1,
            count: 4,
        }];
        let json = delta_json("paris-01", "e1", 7, Micros(0), &changes);
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"schema":"tagtally.delta/1","store":"paris-01","epoch":"e1","seq":7,"time":"1970-01-01T00:00:00.000Z","changes":[{"zone":"floor","sku":"80614141123458","delta":-1,"count":4}]}"#
        );
    }

    #[test]
    fn resync_flag_only_when_folding() {
        let s = Snapshot::default();
        let plain = String::from_utf8(snapshot_json("s", "e", 3, Micros(0), &s, None)).unwrap();
        assert!(!plain.contains("resync"));
        let r = Resync {
            first_seq: 1,
            last_seq: 2,
        };
        let flagged =
            String::from_utf8(snapshot_json("s", "e", 3, Micros(0), &s, Some(r))).unwrap();
        assert!(flagged.ends_with(r#""stale_zones":[],"resync":{"first_seq":1,"last_seq":2}}"#));
    }
}
