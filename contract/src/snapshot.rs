//! `tagtally.snapshot/2`: all counts of a store at a seq, in one or more retained parts, with the reason it was taken.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::schema_name::SnapshotSchema;
use crate::size::encode_in_parts;
use crate::zone_trust::ZoneTrustEntry;

/// Why a snapshot was published (SPEC §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotReason {
    /// The daemon started.
    Startup,
    /// Every reader connected or failed its first attempt: `stale_zones` is now true.
    Settled,
    /// `snapshot-interval` elapsed.
    Interval,
    /// `cmd/snapshot` asked for it (its `request_id` is echoed).
    Request,
    /// The link to the broker came back.
    Reconnect,
    /// Deltas were folded or a replay asked for seqs no longer kept: the `resync` range is covered.
    Resync,
}

impl SnapshotReason {
    /// The name as the payload carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotReason::Startup => "startup",
            SnapshotReason::Settled => "settled",
            SnapshotReason::Interval => "interval",
            SnapshotReason::Request => "request",
            SnapshotReason::Reconnect => "reconnect",
            SnapshotReason::Resync => "resync",
        }
    }
}

/// A range of delta seqs a snapshot stands in for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resync {
    /// First seq covered.
    pub first_seq: u64,
    /// Last seq covered.
    pub last_seq: u64,
}

/// One (zone, SKU) count; pairs absent from a snapshot have count 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCount<'a> {
    /// Zone name.
    #[serde(borrow)]
    pub zone: Cow<'a, str>,
    /// SKU.
    #[serde(borrow)]
    pub sku: Cow<'a, str>,
    /// The count (never 0 in what the store publishes).
    pub count: u32,
}

/// One part of a snapshot (topic `snapshot` for part 1, `snapshot/{k}` for part k; retained).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotPart<'a> {
    /// Always `tagtally.snapshot/2`.
    pub schema: SnapshotSchema,
    /// The store name.
    #[serde(borrow)]
    pub store: Cow<'a, str>,
    /// The epoch.
    #[serde(borrow)]
    pub epoch: Cow<'a, str>,
    /// The seq of the last delta included.
    pub seq: u64,
    /// RFC 3339 UTC.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// Unique per snapshot; the same in all its parts.
    #[serde(borrow)]
    pub snapshot_id: Cow<'a, str>,
    /// This part's number, from 1.
    pub part: u32,
    /// How many parts the snapshot has.
    pub parts: u32,
    /// Why it was taken.
    pub reason: SnapshotReason,
    /// The `request_id` of the `cmd/snapshot` that asked for it.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Cow<'a, str>>,
    /// This part's counts.
    #[serde(borrow)]
    pub counts: Vec<SnapshotCount<'a>>,
    /// Zones whose readers are all offline (frozen, not drained); the same in every part.
    #[serde(borrow)]
    pub stale_zones: Vec<Cow<'a, str>>,
    /// The delta seqs this snapshot stands in for, when it repairs a fold or a replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resync: Option<Resync>,
    /// Per zone with antennas: how far its counts can be trusted (SPEC §10); the same in every part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zone_trust: Vec<ZoneTrustEntry>,
}

/// Everything of a snapshot but its counts and part numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotHeader<'a> {
    /// The store name.
    pub store: &'a str,
    /// The epoch.
    pub epoch: &'a str,
    /// The seq of the last delta included.
    pub seq: u64,
    /// RFC 3339 UTC.
    pub time: &'a str,
    /// Unique per snapshot.
    pub snapshot_id: &'a str,
    /// Why.
    pub reason: SnapshotReason,
    /// Echoed from `cmd/snapshot`.
    pub request_id: Option<&'a str>,
    /// Stale zones.
    pub stale_zones: &'a [&'a str],
    /// Covered seqs, if a resync.
    pub resync: Option<Resync>,
    /// Zone trust.
    pub zone_trust: &'a [ZoneTrustEntry],
}

impl<'a> SnapshotPart<'a> {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and checks a payload.
    pub fn parse(payload: &'a [u8]) -> Result<SnapshotPart<'a>, ContractError> {
        let s: SnapshotPart<'a> = serde_json::from_slice(payload)?;
        if s.parts == 0 || s.part == 0 || s.part > s.parts {
            return Err(ContractError::Invalid(format!(
                "snapshot part {} of {} does not exist",
                s.part, s.parts
            )));
        }
        if let Some(r) = s.resync {
            if r.first_seq == 0 || r.first_seq > r.last_seq || r.last_seq > s.seq {
                return Err(ContractError::Invalid(format!(
                    "resync range {}..={} does not fit snapshot seq {}",
                    r.first_seq, r.last_seq, s.seq
                )));
            }
        }
        Ok(s)
    }
}

/// Encodes a snapshot as parts of at most `max_payload` bytes each (part 1 first). Always at
/// least one part; a count too large to fit even alone goes in a part of its own.
pub fn encode_snapshot_parts(
    header: &SnapshotHeader<'_>,
    counts: &[SnapshotCount<'_>],
    max_payload: usize,
) -> Vec<Vec<u8>> {
    encode_in_parts(counts, max_payload, |part, parts, counts| {
        SnapshotPart {
            schema: SnapshotSchema,
            store: Cow::Borrowed(header.store),
            epoch: Cow::Borrowed(header.epoch),
            seq: header.seq,
            time: Cow::Borrowed(header.time),
            snapshot_id: Cow::Borrowed(header.snapshot_id),
            part,
            parts,
            reason: header.reason,
            request_id: header.request_id.map(Cow::Borrowed),
            counts: counts.to_vec(),
            stale_zones: header
                .stale_zones
                .iter()
                .map(|z| Cow::Borrowed(*z))
                .collect(),
            resync: header.resync,
            zone_trust: header.zone_trust.to_vec(),
        }
        .encode()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(stale: &'a [&'a str]) -> SnapshotHeader<'a> {
        SnapshotHeader {
            store: "paris-01",
            epoch: "e",
            seq: 42,
            time: "2026-01-01T00:00:00.000Z",
            snapshot_id: "0190a0b0-0000-7000-8000-000000000001",
            reason: SnapshotReason::Request,
            request_id: Some("r-1"),
            stale_zones: stale,
            resync: None,
            zone_trust: &[],
        }
    }

    fn counts(n: u32) -> Vec<SnapshotCount<'static>> {
        (0..n)
            .map(|i| SnapshotCount {
                zone: Cow::Owned(format!("zone-{}", i % 7)),
                sku: Cow::Owned(format!("806141411{i:05}")),
                count: i + 1,
            })
            .collect()
    }

    #[test]
    fn a_small_snapshot_is_one_part_in_spec_order() {
        let parts = encode_snapshot_parts(&header(&["backroom"]), &counts(1), 100_000);
        assert_eq!(parts.len(), 1);
        let text = String::from_utf8(parts[0].clone()).unwrap();
        assert_eq!(
            text,
            r#"{"schema":"tagtally.snapshot/2","store":"paris-01","epoch":"e","seq":42,"time":"2026-01-01T00:00:00.000Z","snapshot_id":"0190a0b0-0000-7000-8000-000000000001","part":1,"parts":1,"reason":"request","request_id":"r-1","counts":[{"zone":"zone-0","sku":"80614141100000","count":1}],"stale_zones":["backroom"]}"#
        );
        let empty = encode_snapshot_parts(&header(&[]), &[], 100);
        assert_eq!(SnapshotPart::parse(&empty[0]).unwrap().parts, 1);
    }

    #[test]
    fn a_large_snapshot_splits_into_bounded_parts_holding_every_count() {
        let all = counts(400);
        let parts = encode_snapshot_parts(&header(&["backroom"]), &all, 3900);
        assert!(parts.len() >= 5, "{}", parts.len());
        let mut seen = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            assert!(p.len() <= 3900);
            let s = SnapshotPart::parse(p).unwrap();
            assert_eq!((s.part, s.parts), (i as u32 + 1, parts.len() as u32));
            assert_eq!(s.seq, 42);
            assert_eq!(s.stale_zones, ["backroom"]);
            seen.extend(s.counts.into_iter().map(|c| c.count));
        }
        assert_eq!(seen, all.iter().map(|c| c.count).collect::<Vec<_>>());
    }

    #[test]
    fn impossible_parts_and_ranges_are_refused() {
        let mut s = SnapshotPart::parse(&encode_snapshot_parts(&header(&[]), &[], 1000)[0])
            .unwrap()
            .encode();
        assert!(SnapshotPart::parse(&s).is_ok());
        let text = String::from_utf8(s.clone()).unwrap();
        s = text.replace(r#""part":1"#, r#""part":2"#).into_bytes();
        assert!(matches!(
            SnapshotPart::parse(&s),
            Err(ContractError::Invalid(_))
        ));
        let resync = text.replace(
            r#""stale_zones":[]"#,
            r#""stale_zones":[],"resync":{"first_seq":40,"last_seq":43}"#,
        );
        assert!(SnapshotPart::parse(resync.as_bytes()).is_err());
        let resync = resync.replace("43}", "42}");
        assert_eq!(
            SnapshotPart::parse(resync.as_bytes()).unwrap().resync,
            Some(Resync {
                first_seq: 40,
                last_seq: 42
            })
        );
    }
}
