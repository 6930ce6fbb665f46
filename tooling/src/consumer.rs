//! The HQ side of the contract, as a reference: per-store dedup and gap detection on
//! (store, epoch, seq), snapshots assembled from their parts, resync from them, status ordered by
//! (epoch, boot, connection), and chain-wide per-SKU totals (docs/HQ.md §3).
//!
//! Counts are taken from each change's absolute `count`, keyed with the seq that set them, so
//! applying a duplicate or a late re-send can never double-count. Pure: bytes in, observations
//! out; `tagtally hq-tail` does the MQTT.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use std::cmp::Ordering;

use tagtally_contract::{DeltaMessage, SnapshotPart, StatusMessage};

/// Above this many out-of-order seqs waiting behind a gap, the gap is given up as lost (and
/// stays reported), so a store that never fills a hole cannot grow memory without bound.
const MAX_PENDING: usize = 100_000;
/// Most parts of one snapshot held while assembling it.
const MAX_PARTS: u32 = 100_000;

/// The parts of one snapshot received so far.
#[derive(Debug)]
struct Assembly {
    snapshot_id: String,
    epoch: String,
    seq: u64,
    parts: u32,
    received: BTreeMap<u32, Vec<(String, String, u64)>>,
}

/// What one message meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// A delta applied for the first time.
    Applied {
        /// Store.
        store: String,
        /// Epoch.
        epoch: String,
        /// Seq.
        seq: u64,
    },
    /// A delta seen before (normal after reconnects); ignored.
    Duplicate {
        /// Store.
        store: String,
        /// Epoch.
        epoch: String,
        /// Seq.
        seq: u64,
    },
    /// Seqs `from..=to` have not been seen (yet).
    Gap {
        /// Store.
        store: String,
        /// Epoch.
        epoch: String,
        /// First missing seq.
        from: u64,
        /// Last missing seq.
        to: u64,
    },
    /// A store started over (first sight, or its state database was wiped).
    NewEpoch {
        /// Store.
        store: String,
        /// The new epoch.
        epoch: String,
    },
    /// A snapshot replaced counts up to `seq`.
    Resynced {
        /// Store.
        store: String,
        /// Epoch.
        epoch: String,
        /// The snapshot's seq.
        seq: u64,
    },
    /// A status newer than the one held (older ones are ignored).
    Status {
        /// Store.
        store: String,
        /// Online, offline or disk full.
        state: tagtally_contract::StoreState,
        /// The boot and connection it speaks for.
        boot: u64,
        /// The connection within that boot.
        connection: u64,
        /// The store's last committed seq.
        seq: u64,
    },
    /// Not a payload this consumer understands; ignored.
    Invalid {
        /// Why.
        reason: String,
    },
}

#[derive(Debug)]
struct StoreTrack {
    epoch: String,
    /// Every seq up to this one is applied (or covered by a snapshot).
    applied: u64,
    /// Applied seqs above `applied + 1` (arrived after a gap).
    pending: BTreeSet<u64>,
    /// Highest seq seen or covered.
    max_seen: u64,
    /// (zone, sku) → (count, seq that set it).
    counts: HashMap<(String, String), (u64, u64)>,
    /// A snapshot being assembled from its parts.
    assembly: Option<Assembly>,
}

impl StoreTrack {
    fn new(epoch: String) -> StoreTrack {
        StoreTrack {
            epoch,
            applied: 0,
            pending: BTreeSet::new(),
            max_seen: 0,
            counts: HashMap::new(),
            assembly: None,
        }
    }

    fn seen(&self, seq: u64) -> bool {
        seq <= self.applied || self.pending.contains(&seq)
    }

    fn advance(&mut self) {
        while self.pending.remove(&(self.applied + 1)) {
            self.applied += 1;
        }
        if self.pending.len() > MAX_PENDING {
            if let Some(&first) = self.pending.first() {
                self.applied = first - 1;
                self.advance();
            }
        }
    }
}

/// Counters over the whole run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Delta messages received (duplicates included).
    pub deltas: u64,
    /// Duplicates among them.
    pub duplicates: u64,
    /// Gaps detected.
    pub gaps: u64,
}

/// Tracks every store of a chain.
#[derive(Debug, Default)]
pub struct ChainTracker {
    stores: BTreeMap<String, StoreTrack>,
    /// The newest status of each store, by the contract's order.
    statuses: BTreeMap<String, StatusMessage<'static>>,
    tally: Tally,
}

impl ChainTracker {
    /// An empty tracker.
    pub fn new() -> ChainTracker {
        ChainTracker::default()
    }

    /// Handles a `delta` payload.
    pub fn on_delta(&mut self, payload: &[u8]) -> Vec<Observation> {
        let d = match DeltaMessage::parse(payload) {
            Ok(d) => d,
            Err(e) => return vec![invalid(format!("delta: {e}"))],
        };
        let (store, epoch) = (d.store.into_owned(), d.epoch.into_owned());
        self.tally.deltas += 1;
        let mut out = Vec::new();
        let first_sight = !self.stores.contains_key(&store);
        let state = self
            .stores
            .entry(store.clone())
            .or_insert_with(|| StoreTrack::new(epoch.clone()));
        if first_sight || state.epoch != epoch {
            *state = StoreTrack::new(epoch.clone());
            // Joining mid-stream: the first delta seen is the baseline, not a gap from 1.
            state.applied = d.seq - 1;
            state.max_seen = d.seq - 1;
            out.push(Observation::NewEpoch {
                store: store.clone(),
                epoch: epoch.clone(),
            });
        }
        if state.seen(d.seq) {
            self.tally.duplicates += 1;
            out.push(Observation::Duplicate {
                store,
                epoch,
                seq: d.seq,
            });
            return out;
        }
        if d.seq > state.max_seen + 1 {
            self.tally.gaps += 1;
            out.push(Observation::Gap {
                store: store.clone(),
                epoch: epoch.clone(),
                from: state.max_seen + 1,
                to: d.seq - 1,
            });
        }
        state.max_seen = state.max_seen.max(d.seq);
        for c in d.changes {
            let slot = state
                .counts
                .entry((c.zone.into_owned(), c.sku.into_owned()))
                .or_insert((0, 0));
            if slot.1 < d.seq {
                *slot = (u64::from(c.count), d.seq);
            }
        }
        state.pending.insert(d.seq);
        state.advance();
        out.push(Observation::Applied {
            store,
            epoch,
            seq: d.seq,
        });
        out
    }

    /// Handles a payload on `snapshot` or `snapshot/{k}`: parts are held until every part of one
    /// snapshot is there, then it applies. An empty payload (a cleared stale part) is nothing.
    pub fn on_snapshot(&mut self, payload: &[u8]) -> Vec<Observation> {
        if payload.is_empty() {
            return Vec::new();
        }
        let part = match SnapshotPart::parse(payload) {
            Ok(s) => s,
            Err(e) => return vec![invalid(format!("snapshot: {e}"))],
        };
        if part.parts > MAX_PARTS {
            return vec![invalid(format!("snapshot of {} parts", part.parts))];
        }
        let store = part.store.to_string();
        let state = self
            .stores
            .entry(store.clone())
            .or_insert_with(|| StoreTrack::new(part.epoch.to_string()));
        let same = state.assembly.as_ref().is_some_and(|a| {
            a.snapshot_id == part.snapshot_id && a.epoch == part.epoch && a.parts == part.parts
        });
        if !same {
            state.assembly = Some(Assembly {
                snapshot_id: part.snapshot_id.to_string(),
                epoch: part.epoch.to_string(),
                seq: part.seq,
                parts: part.parts,
                received: BTreeMap::new(),
            });
        }
        let Some(assembly) = state.assembly.as_mut() else {
            return Vec::new();
        };
        assembly.received.insert(
            part.part,
            part.counts
                .into_iter()
                .map(|c| (c.zone.into_owned(), c.sku.into_owned(), u64::from(c.count)))
                .collect(),
        );
        if assembly.received.len() < assembly.parts as usize {
            return Vec::new();
        }
        let Some(whole) = state.assembly.take() else {
            return Vec::new();
        };
        self.apply_snapshot(store, whole)
    }

    fn apply_snapshot(&mut self, store: String, s: Assembly) -> Vec<Observation> {
        let mut out = Vec::new();
        let state = self
            .stores
            .entry(store.clone())
            .or_insert_with(|| StoreTrack::new(s.epoch.clone()));
        if state.epoch != s.epoch {
            *state = StoreTrack::new(s.epoch.clone());
            out.push(Observation::NewEpoch {
                store: store.clone(),
                epoch: s.epoch.clone(),
            });
        }
        // Pairs last set at or below the snapshot's seq are replaced by it (absent = 0).
        state.counts.retain(|_, (_, seq)| *seq > s.seq);
        for (zone, sku, count) in s.received.into_values().flatten() {
            state.counts.entry((zone, sku)).or_insert((count, s.seq));
        }
        state.applied = state.applied.max(s.seq);
        state.max_seen = state.max_seen.max(s.seq);
        state.pending.retain(|seq| *seq > s.seq);
        state.advance();
        out.push(Observation::Resynced {
            store,
            epoch: s.epoch,
            seq: s.seq,
        });
        out
    }

    /// Handles a `status` payload: kept only if newer than the one held, by the contract's
    /// order. A newer status whose `seq` is above every delta seen reveals deltas lost at the
    /// end of a stream (a gap).
    pub fn on_status(&mut self, payload: &[u8]) -> Vec<Observation> {
        let status = match StatusMessage::parse(payload) {
            Ok(s) => s,
            Err(e) => return vec![invalid(format!("status: {e}"))],
        };
        let store = status.store.to_string();
        if let Some(held) = self.statuses.get(&store) {
            if status.order(held) != Ordering::Greater {
                return Vec::new();
            }
        }
        let mut out = Vec::new();
        if let Some(state) = self.stores.get_mut(&store) {
            if state.epoch == status.epoch && status.seq > state.max_seen {
                self.tally.gaps += 1;
                out.push(Observation::Gap {
                    store: store.clone(),
                    epoch: state.epoch.clone(),
                    from: state.max_seen + 1,
                    to: status.seq,
                });
                state.max_seen = status.seq;
            }
        }
        out.push(Observation::Status {
            store: store.clone(),
            state: status.state,
            boot: status.boot,
            connection: status.connection,
            seq: status.seq,
        });
        let owned = StatusMessage::parse(payload).map(|s| StatusMessage {
            schema: s.schema,
            store: s.store.into_owned().into(),
            epoch: s.epoch.into_owned().into(),
            boot: s.boot,
            connection: s.connection,
            time: s.time.into_owned().into(),
            state: s.state,
            version: s.version.into_owned().into(),
            seq: s.seq,
            refused: None,
        });
        if let Ok(owned) = owned {
            self.statuses.insert(store, owned);
        }
        out
    }

    /// The newest status of `store`, if any.
    pub fn status(&self, store: &str) -> Option<&StatusMessage<'static>> {
        self.statuses.get(store)
    }

    /// Chain-wide count per SKU: the latest count of every (store, zone, sku), summed.
    pub fn totals(&self) -> BTreeMap<String, u64> {
        let mut totals = BTreeMap::new();
        for state in self.stores.values() {
            for ((_, sku), (count, _)) in &state.counts {
                *totals.entry(sku.clone()).or_insert(0) += count;
            }
        }
        totals
    }

    /// The counts of `store` rebuilt so far, (zone, sku) → count; zero pairs left out.
    pub fn counts(&self, store: &str) -> BTreeMap<(String, String), u64> {
        self.stores.get(store).map_or_else(BTreeMap::new, |state| {
            state
                .counts
                .iter()
                .filter(|(_, (count, _))| *count > 0)
                .map(|(pair, (count, _))| (pair.clone(), *count))
                .collect()
        })
    }

    /// The epoch of `store` and the seq up to which its chain is complete.
    pub fn position(&self, store: &str) -> Option<(&str, u64)> {
        self.stores
            .get(store)
            .map(|state| (state.epoch.as_str(), state.applied))
    }

    /// Stores seen.
    pub fn stores(&self) -> usize {
        self.stores.len()
    }

    /// Counters.
    pub fn tally(&self) -> Tally {
        self.tally
    }
}

fn invalid(reason: String) -> Observation {
    Observation::Invalid { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(store: &str, epoch: &str, seq: u64, changes: &[(&str, &str, u64)]) -> Vec<u8> {
        let changes: Vec<String> = changes
            .iter()
            .map(|(z, s, c)| format!(r#"{{"zone":"{z}","sku":"{s}","delta":1,"count":{c}}}"#))
            .collect();
        format!(
            r#"{{"schema":"tagtally.delta/1","store":"{store}","epoch":"{epoch}","seq":{seq},"time":"2025-01-01T00:00:00Z","changes":[{}]}}"#,
            changes.join(",")
        )
        .into_bytes()
    }

    fn kinds(obs: &[Observation]) -> Vec<&'static str> {
        obs.iter()
            .map(|o| match o {
                Observation::Applied { .. } => "applied",
                Observation::Duplicate { .. } => "duplicate",
                Observation::Gap { .. } => "gap",
                Observation::NewEpoch { .. } => "new-epoch",
                Observation::Resynced { .. } => "resynced",
                Observation::Status { .. } => "status",
                Observation::Invalid { .. } => "invalid",
            })
            .collect()
    }

    #[test]
    fn duplicates_and_gaps_per_store() {
        let mut t = ChainTracker::new();
        assert_eq!(
            kinds(&t.on_delta(&delta("a", "e", 1, &[("f", "X", 1)]))),
            ["new-epoch", "applied"]
        );
        assert_eq!(
            kinds(&t.on_delta(&delta("a", "e", 2, &[("f", "X", 2)]))),
            ["applied"]
        );
        assert_eq!(
            kinds(&t.on_delta(&delta("a", "e", 2, &[("f", "X", 2)]))),
            ["duplicate"]
        );
        let gap = t.on_delta(&delta("a", "e", 5, &[("f", "X", 5)]));
        assert_eq!(
            gap[0],
            Observation::Gap {
                store: "a".into(),
                epoch: "e".into(),
                from: 3,
                to: 4
            }
        );
        // A late seq fills the hole without being a duplicate, and cannot lower a newer count.
        assert_eq!(
            kinds(&t.on_delta(&delta("a", "e", 3, &[("f", "X", 3)]))),
            ["applied"]
        );
        assert_eq!(t.totals()["X"], 5);
        // Another store, joining mid-stream: no gap from 1.
        assert_eq!(
            kinds(&t.on_delta(&delta("b", "e", 40, &[("f", "X", 7)]))),
            ["new-epoch", "applied"]
        );
        assert_eq!(t.totals()["X"], 12);
        assert_eq!(
            t.tally(),
            Tally {
                deltas: 6,
                duplicates: 1,
                gaps: 1
            }
        );
    }

    #[test]
    fn snapshot_resyncs_and_closes_gaps() {
        let mut t = ChainTracker::new();
        t.on_delta(&delta("a", "e", 1, &[("f", "X", 1), ("f", "Y", 9)]));
        t.on_delta(&delta("a", "e", 4, &[("f", "X", 4)]));
        let snap = br#"{"schema":"tagtally.snapshot/2","store":"a","epoch":"e","seq":3,"time":"t","snapshot_id":"i","part":1,"parts":1,"reason":"request","counts":[{"zone":"f","sku":"X","count":3}],"stale_zones":[]}"#;
        assert_eq!(kinds(&t.on_snapshot(snap)), ["resynced"]);
        // Y is absent from the snapshot (count 0); X keeps seq 4's newer count.
        assert_eq!(t.totals().get("Y"), None);
        assert_eq!(t.totals()["X"], 4);
        assert_eq!(
            kinds(&t.on_delta(&delta("a", "e", 2, &[("f", "X", 2)]))),
            ["duplicate"]
        );
        assert_eq!(
            kinds(&t.on_delta(&delta("a", "e", 5, &[("f", "X", 5)]))),
            ["applied"]
        );
    }

    #[test]
    fn new_epoch_starts_over_and_bad_input_is_ignored() {
        let mut t = ChainTracker::new();
        t.on_delta(&delta("a", "e1", 10, &[("f", "X", 10)]));
        assert_eq!(
            kinds(&t.on_delta(&delta("a", "e2", 1, &[("f", "X", 1)]))),
            ["new-epoch", "applied"]
        );
        assert_eq!(t.totals()["X"], 1);
        assert_eq!(kinds(&t.on_delta(b"not json")), ["invalid"]);
        assert_eq!(
            kinds(&t.on_delta(br#"{"schema":"tagtally.delta/9"}"#)),
            ["invalid"]
        );
        assert_eq!(kinds(&t.on_delta(&delta("a", "e2", 0, &[]))), ["invalid"]);
    }
}
