//! One emulated store: its stock truth and the payloads a real store publishes for it (SPEC §6):
//! deltas with consecutive seqs, snapshots split into parts, status with epoch, boot and
//! connection, replays of its history; plus what happens to real stores: restarts, wipes.

use std::collections::{BTreeMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use std::borrow::Cow;
use tagtally_contract::{
    encode_snapshot_parts, DeltaChange, DeltaMessage, DeltaSchema, SnapshotCount, SnapshotHeader,
    SnapshotReason, StatusMessage, StatusSchema, StoreState,
};

/// Deltas kept for replays, per store (a real store keeps days; emulation needs minutes).
const HISTORY_MAX: usize = 4096;

/// A payload and the topic level(s) after `{prefix}/{store}/` it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// `delta`, `snapshot`, `snapshot/2`, `status`.
    pub suffix: String,
    /// JSON bytes.
    pub payload: Vec<u8>,
    /// Whether a real store publishes it retained.
    pub retained: bool,
}

/// A store's state and its publishing rules.
#[derive(Debug, Clone)]
pub struct EmulatedStore {
    name: String,
    epoch: String,
    seq: u64,
    boot: u64,
    connection: u64,
    snapshots: u64,
    counts: BTreeMap<(String, String), u32>,
    history: VecDeque<(u64, Vec<u8>)>,
}

/// A time-ordered epoch (hex milliseconds, then a counter), later than `after`.
fn next_epoch(after: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    let candidate = format!("{millis:016x}-0000");
    if candidate.as_str() > after {
        return candidate;
    }
    // Same millisecond (or a clock step back): count up from the previous one.
    let counter = after
        .rsplit_once('-')
        .and_then(|(_, counter)| u16::from_str_radix(counter, 16).ok())
        .unwrap_or(0);
    let stem = after.rsplit_once('-').map_or(after, |(stem, _)| stem);
    format!("{stem}-{:04x}", counter.saturating_add(1))
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

impl EmulatedStore {
    /// A freshly installed store: new epoch, nothing counted, first boot.
    pub fn new(name: &str) -> EmulatedStore {
        EmulatedStore {
            name: name.to_owned(),
            epoch: next_epoch(""),
            seq: 0,
            boot: 1,
            connection: 1,
            snapshots: 0,
            counts: BTreeMap::new(),
            history: VecDeque::new(),
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its current epoch.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Its last committed seq.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The truth: every non-zero count, as `tagtally stock` shows it.
    pub fn counts(&self) -> &BTreeMap<(String, String), u32> {
        &self.counts
    }

    /// Commits one delta setting these pairs to these counts, and returns its publication.
    pub fn commit(&mut self, changes: &[(String, String, u32)]) -> Publication {
        self.seq += 1;
        let changes: Vec<DeltaChange<'_>> = changes
            .iter()
            .map(|(zone, sku, count)| {
                let key = (zone.clone(), sku.clone());
                let before = self.counts.get(&key).copied().unwrap_or(0);
                if *count == 0 {
                    self.counts.remove(&key);
                } else {
                    self.counts.insert(key, *count);
                }
                DeltaChange {
                    zone: Cow::Borrowed(zone),
                    sku: Cow::Borrowed(sku),
                    delta: i64::from(*count) - i64::from(before),
                    count: *count,
                }
            })
            .collect();
        let time = now_rfc3339();
        let payload = DeltaMessage {
            schema: DeltaSchema,
            store: Cow::Borrowed(&self.name),
            epoch: Cow::Borrowed(&self.epoch),
            seq: self.seq,
            time: Cow::Borrowed(&time),
            changes,
        }
        .encode();
        self.history.push_back((self.seq, payload.clone()));
        if self.history.len() > HISTORY_MAX {
            self.history.pop_front();
        }
        Publication {
            suffix: "delta".to_owned(),
            payload,
            retained: false,
        }
    }

    /// Commits a delta of random churn: `pairs` random (zone, sku) pairs out of
    /// `zones` × `skus` get a new random count (0 included: a pair that empties).
    pub fn churn(
        &mut self,
        rng: &mut fastrand::Rng,
        zones: u32,
        skus: u32,
        pairs: usize,
    ) -> Publication {
        let mut chosen = BTreeMap::new();
        for _ in 0..pairs {
            let zone = format!("zone-{}", rng.u32(0..zones.max(1)));
            let sku = format!(
                "{:014}",
                4_000_000_000_000u64 + u64::from(rng.u32(0..skus.max(1)))
            );
            chosen.insert((zone, sku), rng.u32(0..40));
        }
        let changes: Vec<_> = chosen
            .into_iter()
            .map(|((zone, sku), count)| (zone, sku, count))
            .collect();
        self.commit(&changes)
    }

    /// A fresh snapshot of the committed state, split into parts of at most `max_payload`
    /// bytes as the store splits it.
    pub fn snapshot(&mut self, max_payload: usize, reason: SnapshotReason) -> Vec<Publication> {
        self.snapshots += 1;
        let snapshot_id = format!("{}-{}-{}", self.epoch, self.boot, self.snapshots);
        let time = now_rfc3339();
        let header = SnapshotHeader {
            store: &self.name,
            epoch: &self.epoch,
            seq: self.seq,
            time: &time,
            snapshot_id: &snapshot_id,
            reason,
            request_id: None,
            stale_zones: &[],
            resync: None,
            zone_trust: &[],
        };
        let counts: Vec<SnapshotCount<'_>> = self
            .counts
            .iter()
            .map(|((zone, sku), count)| SnapshotCount {
                zone: Cow::Borrowed(zone),
                sku: Cow::Borrowed(sku),
                count: *count,
            })
            .collect();
        encode_snapshot_parts(&header, &counts, max_payload)
            .into_iter()
            .zip(1u32..)
            .map(|(payload, part)| Publication {
                suffix: if part == 1 {
                    "snapshot".to_owned()
                } else {
                    format!("snapshot/{part}")
                },
                payload,
                retained: true,
            })
            .collect()
    }

    /// The status message, `online` or `offline` (the last will).
    pub fn status(&self, online: bool) -> Publication {
        let time = now_rfc3339();
        let payload = StatusMessage {
            schema: StatusSchema,
            store: Cow::Borrowed(&self.name),
            epoch: Cow::Borrowed(&self.epoch),
            boot: self.boot,
            connection: self.connection,
            time: Cow::Borrowed(&time),
            state: if online {
                StoreState::Online
            } else {
                StoreState::Offline
            },
            version: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
            seq: self.seq,
            refused: None,
        }
        .encode();
        Publication {
            suffix: "status".to_owned(),
            payload,
            retained: true,
        }
    }

    /// The deltas `from..=to` still in history, byte-identical, in seq order; `None` when
    /// some of them are gone (a real store then publishes a resync snapshot).
    pub fn replay(&self, from: u64, to: u64) -> Option<Vec<Publication>> {
        let oldest = self.history.front().map_or(self.seq + 1, |(seq, _)| *seq);
        if from < oldest || to > self.seq || from > to {
            return None;
        }
        Some(
            self.history
                .iter()
                .filter(|(seq, _)| (from..=to).contains(seq))
                .map(|(_, payload)| Publication {
                    suffix: "delta".to_owned(),
                    payload: payload.clone(),
                    retained: false,
                })
                .collect(),
        )
    }

    /// The daemon restarted (kill -9 and systemd): same epoch and state, next boot.
    pub fn restart(&mut self) {
        self.boot += 1;
        self.connection = 1;
    }

    /// The MQTT connection dropped and came back.
    pub fn reconnect(&mut self) {
        self.connection += 1;
    }

    /// The state database was wiped: a new epoch, nothing counted, seq from 1 again.
    pub fn wipe(&mut self) {
        self.epoch = next_epoch(&self.epoch);
        self.seq = 0;
        self.boot = 1;
        self.connection = 1;
        self.counts.clear();
        self.history.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_sort_by_creation_even_within_one_millisecond() {
        let mut epoch = next_epoch("");
        for _ in 0..100 {
            let next = next_epoch(&epoch);
            assert!(next > epoch, "{next} after {epoch}");
            epoch = next;
        }
    }

    #[test]
    fn snapshots_split_into_parts_that_cover_every_pair() {
        let mut store = EmulatedStore::new("s");
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20 {
            store.churn(&mut rng, 3, 50, 5);
        }
        let parts = store.snapshot(400, SnapshotReason::Interval);
        let total: usize = parts
            .iter()
            .map(|part| {
                let value: serde_json::Value = serde_json::from_slice(&part.payload).unwrap();
                value["counts"].as_array().unwrap().len()
            })
            .sum();
        assert_eq!(total, store.counts().len());
        assert_eq!(parts[0].suffix, "snapshot");
        assert!(parts.len() > 1, "{} parts", parts.len());
        assert_eq!(parts[1].suffix, "snapshot/2");
    }

    #[test]
    fn replay_is_byte_identical_and_refuses_what_history_lost() {
        let mut store = EmulatedStore::new("s");
        let first = store.commit(&[("f".into(), "x".into(), 1)]);
        store.commit(&[("f".into(), "x".into(), 2)]);
        assert_eq!(store.replay(1, 1).unwrap()[0], first);
        assert!(store.replay(1, 3).is_none());
        store.wipe();
        assert!(store.replay(1, 1).is_none());
    }
}
