//! What HQ can prove from a recording (SPEC §3, §6): the epoch never changes; every redelivered seq
//! is byte-identical; each delta's changes are arithmetic on the previous counts; the first snapshot
//! plus every later delta replays, with no seq gap, to counts that equal every later snapshot at its
//! seq; a gap is allowed only where a resync snapshot says deltas were folded. Snapshots
//! (`tagtally.snapshot/2`) count once all their parts (`snapshot`, `snapshot/{k}`, one
//! `snapshot_id`) are recorded. Every recorded payload is checked against the published JSON
//! Schemas. Written from the contract, not from the daemon's consumer code.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::recorder::Message;
use crate::Counts;

/// The result of a consistent recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub epoch: String,
    /// The last seq the chain reached.
    pub seq: u64,
    /// The replayed counts at `seq`, zero cells left out.
    pub counts: Counts,
    /// Distinct delta seqs received.
    pub deltas: u64,
    /// Deliveries of a seq beyond its first (byte-identical, checked).
    pub redeliveries: u64,
    /// Snapshots whose counts were checked against the replay at their seq.
    pub snapshots_checked: u64,
    /// Seqs that never arrived but were covered by a resync snapshot.
    pub folded: u64,
    /// Every SKU any delta or snapshot ever mentioned.
    pub skus_seen: std::collections::BTreeSet<String>,
}

#[derive(Debug)]
struct Snapshot {
    seq: u64,
    counts: Counts,
    resync: Option<(u64, u64)>,
}

/// A snapshot's parts so far: (seq, parts, resync, part number → its payload).
type Parts = (u64, u64, Option<(u64, u64)>, BTreeMap<u64, Value>);

fn json(m: &Message) -> Value {
    serde_json::from_slice(&m.payload).unwrap_or_else(|e| {
        panic!(
            "{} payload is not JSON ({e}): {}",
            m.topic,
            String::from_utf8_lossy(&m.payload)
        )
    })
}

fn cell(v: &Value) -> (String, String) {
    (
        v["zone"].as_str().expect("zone").to_owned(),
        v["sku"].as_str().expect("sku").to_owned(),
    )
}

/// Checks `messages` and replays them. Contract violations panic at once (they never heal);
/// `Err` means the recording is not complete yet (no snapshot, or a gap nothing covers so far).
pub fn replay(store: &str, messages: &[Message]) -> Result<Replay, String> {
    let mut epoch: Option<String> = None;
    let mut deltas: BTreeMap<u64, (Vec<u8>, Value)> = BTreeMap::new();
    let mut snapshots = Vec::new();
    let mut redeliveries = 0;
    let mut skus_seen = std::collections::BTreeSet::new();
    let mut assembling: BTreeMap<String, Parts> = BTreeMap::new();
    for m in messages {
        crate::schemas::assert_payload_valid(
            &format!("tagtally/v1/{store}/{}", m.topic),
            &m.payload,
        );
        let is_snapshot = m.topic == "snapshot" || m.topic.starts_with("snapshot/");
        if m.topic != "delta" && !is_snapshot {
            continue;
        }
        if m.payload.is_empty() {
            // A stale part cleared.
            continue;
        }
        let v = json(m);
        assert_eq!(v["store"], store, "{} names another store", m.topic);
        let e = v["epoch"].as_str().expect("epoch").to_owned();
        match &epoch {
            None => epoch = Some(e),
            Some(first) => assert_eq!(first, &e, "the epoch changed"),
        }
        let seq = v["seq"].as_u64().expect("seq");
        if m.topic == "delta" {
            assert_eq!(v["schema"], "tagtally.delta/1");
            for c in v["changes"].as_array().expect("changes") {
                skus_seen.insert(cell(c).1);
            }
            match deltas.get(&seq) {
                Some((first, _)) => {
                    assert!(
                        first == &m.payload,
                        "seq {seq} redelivered with other bytes:\n{}\n{}",
                        String::from_utf8_lossy(first),
                        String::from_utf8_lossy(&m.payload)
                    );
                    redeliveries += 1;
                }
                None => {
                    deltas.insert(seq, (m.payload.clone(), v));
                }
            }
        } else {
            assert_eq!(v["schema"], "tagtally.snapshot/2");
            let part = v["part"].as_u64().expect("part");
            let parts = v["parts"].as_u64().expect("parts");
            let topic_part = m
                .topic
                .strip_prefix("snapshot/")
                .map_or(1, |k| k.parse::<u64>().expect("part topic"));
            assert_eq!(
                part, topic_part,
                "snapshot part {part} on topic {}",
                m.topic
            );
            let id = v["snapshot_id"].as_str().expect("snapshot_id").to_owned();
            let resync = v.get("resync").map(|r| {
                (
                    r["first_seq"].as_u64().expect("first_seq"),
                    r["last_seq"].as_u64().expect("last_seq"),
                )
            });
            let entry = assembling
                .entry(id.clone())
                .or_insert_with(|| (seq, parts, resync, BTreeMap::new()));
            assert_eq!(
                (entry.0, entry.1, entry.2),
                (seq, parts, resync),
                "parts of snapshot {id} disagree on seq, parts or resync"
            );
            entry.3.insert(part, v);
            if entry.3.len() as u64 == parts {
                let Some((seq, _, resync, received)) = assembling.remove(&id) else {
                    continue;
                };
                let mut counts = Counts::new();
                for v in received.values() {
                    for c in v["counts"].as_array().expect("counts") {
                        skus_seen.insert(cell(c).1);
                        let n = c["count"].as_u64().expect("count");
                        if n > 0 {
                            assert!(
                                counts.insert(cell(c), n).is_none(),
                                "a cell twice in a snapshot"
                            );
                        }
                    }
                }
                snapshots.push(Snapshot {
                    seq,
                    counts,
                    resync,
                });
            }
        }
    }
    let epoch = epoch.ok_or("nothing recorded yet")?;
    let first = snapshots.first().ok_or("no snapshot recorded yet")?;
    let mut seq = first.seq;
    let mut counts = first.counts.clone();
    let mut folded = 0;
    let mut snapshots_checked = 0;
    let last = deltas.keys().next_back().copied().unwrap_or(0).max(seq);
    let check_snapshots = |seq: u64, counts: &Counts, checked: &mut u64| {
        for s in snapshots.iter().filter(|s| s.seq == seq) {
            assert_eq!(
                &s.counts, counts,
                "the snapshot at seq {seq} differs from the replayed deltas"
            );
            *checked += 1;
        }
    };
    check_snapshots(seq, &counts, &mut snapshots_checked);
    while seq < last {
        let next = seq + 1;
        let Some((_, delta)) = deltas.get(&next) else {
            // A missing seq is only fine where a resync snapshot covers it: jump to that snapshot.
            let cover = snapshots
                .iter()
                .filter(|s| matches!(s.resync, Some((a, b)) if a <= next && next <= b))
                .max_by_key(|s| s.seq)
                .ok_or_else(|| format!("seq {next} missing (after {seq}, up to {last})"))?;
            assert!(cover.seq >= next, "a resync snapshot older than its range");
            folded += cover.seq - seq - deltas.range(next..=cover.seq).count() as u64;
            seq = cover.seq;
            counts = cover.counts.clone();
            check_snapshots(seq, &counts, &mut snapshots_checked);
            continue;
        };
        for c in delta["changes"].as_array().expect("changes") {
            let key = cell(c);
            let before = counts.get(&key).copied().unwrap_or(0) as i64;
            let d = c["delta"].as_i64().expect("delta");
            let after = c["count"].as_u64().expect("count");
            assert_eq!(
                before + d,
                after as i64,
                "seq {next}: {key:?} was {before}, delta {d}, new count {after}"
            );
            assert_ne!(d, 0, "seq {next}: a change of 0 for {key:?}");
            if after == 0 {
                counts.remove(&key);
            } else {
                counts.insert(key, after);
            }
        }
        seq = next;
        check_snapshots(seq, &counts, &mut snapshots_checked);
    }
    Ok(Replay {
        epoch,
        seq,
        counts,
        deltas: deltas.len() as u64,
        redeliveries,
        snapshots_checked,
        folded,
        skus_seen,
    })
}
