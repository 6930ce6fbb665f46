//! Model-based test of the engine and the store: random reads, time, reader links, flushes, acks and crash-restarts against a deliberately naive model of SPEC §3.
//!
//! The model keeps every read of every tag in a plain list and recomputes each rule from scratch (window counts by
//! filtering the list, coverage and the evidence that a zone was watched by scanning the readers); the engine keeps
//! packed windows, a hash table and side tables. Readers are heard as the daemon hears them: each read (the engine
//! task tells the engine once per batch, a batch here being one read) and `Heard` events in between. Both must publish the same deltas and end with the same counts and counters. With the store, a restart
//! drops the engine and the store mid-interval and reopens them: the model rolls back to its last flush, and every
//! committed delta must still be there byte for byte (or inside the announced resync range), seqs must go on
//! without reuse, and the epoch must not change.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use proptest::prelude::*;
use tagtally::engine::{
    AntennaZone, CountChange, Engine, EngineConfig, PresenceParams, SkuPrefix, ZoneConfig,
    CLEAR_RSSI_MARGIN_CDBM, MIN_SLOT_MICROS,
};
use tagtally::store::{OutboxItem, Store, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Epc, Micros, ReaderId, TagRead};

const T0: u64 = 1_700_000_000_000_000;

/// (reader, antenna, zone index; `None` for an antenna mapped to no zone).
const ANTENNAS: [(u16, u16, Option<usize>); 5] = [
    (0, 1, Some(0)),
    (0, 2, Some(1)),
    (1, 1, Some(1)),
    (2, 1, Some(2)),
    (0, 9, None),
];
const READERS: u16 = 3;
const ZONES: [&str; 3] = ["floor", "backroom", "window"];

fn params(zone: usize, arrive_reads: u16) -> PresenceParams {
    PresenceParams {
        arrive_reads: if zone == 2 { 1 } else { arrive_reads },
        arrive_window: Duration::from_millis(if zone == 1 { 3000 } else { 2000 }),
        depart_after: Duration::from_millis(if zone == 2 { 8000 } else { 5000 }),
        move_hysteresis: Duration::from_millis(if zone == 1 { 0 } else { 3000 }),
        ..PresenceParams::default()
    }
}

fn config(arrive_reads: u16) -> EngineConfig {
    EngineConfig {
        zones: (0..ZONES.len())
            .map(|z| ZoneConfig {
                name: ZONES[z].into(),
                presence: params(z, arrive_reads),
            })
            .collect(),
        antennas: ANTENNAS
            .iter()
            .filter_map(|&(r, a, z)| {
                z.map(|z| AntennaZone {
                    reader: ReaderId(r),
                    antenna: a,
                    zone: ZONES[z].into(),
                })
            })
            .collect(),
        sku_map: vec![SkuPrefix {
            epc_prefix: "E280".into(),
            sku: "legacy".into(),
        }],
        max_candidates: None,
        suspect_after: None,
        sentinels: Vec::new(),
    }
}

/// The tag pool: SGTIN-96 of two GTINs, a prefix-mapped tag, an unknown one, a 128-bit and a 240-bit EPC.
fn tag_pool() -> Vec<Epc> {
    let sgtin = |item: u8, serial: u8| {
        [
            0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, item, 0x00, 0x00, 0x1A, serial,
        ]
    };
    [
        sgtin(0x40, 1).to_vec(),
        sgtin(0x40, 2).to_vec(),
        sgtin(0x44, 3).to_vec(),
        vec![0xE2, 0x80, 0x11, 0x60, 0, 0, 0, 1],
        vec![0xAA; 12],
        vec![0xBB; 16],
        vec![0xCC; 30],
    ]
    .iter()
    .map(|b| Epc::from_slice(b).unwrap())
    .collect()
}

#[derive(Clone, Debug)]
enum Op {
    Read {
        tag: usize,
        antenna: usize,
        rssi: Option<i16>,
    },
    Advance {
        millis: u64,
    },
    Up {
        reader: u16,
    },
    Down {
        reader: u16,
    },
    /// The reader's driver says it was heard (a keepalive, any frame).
    Heard {
        reader: u16,
    },
    Flush,
    /// Acknowledge the `n`-th oldest unacknowledged delta (store runs only).
    Ack {
        n: usize,
    },
    /// The daemon dies now (store runs only).
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0..7usize, 0..ANTENNAS.len(), prop_oneof![Just(None), (-8000i16..-3000).prop_map(Some)])
            .prop_map(|(tag, antenna, rssi)| Op::Read { tag, antenna, rssi }),
        // Bleed: two antennas of different zones read the same tag at about the same strength.
        4 => (0..7usize, 0..ANTENNAS.len(), -8000i16..-3000).prop_map(|(tag, antenna, rssi)| Op::Read {
            tag,
            antenna: antenna % 4,
            rssi: Some(rssi - (rssi % 700)),
        }),
        6 => prop_oneof![0..300u64, 0..2500u64, 0..9000u64, (0..20u64).prop_map(|k| k * 500)].prop_map(|millis| Op::Advance { millis }),
        1 => (0..READERS).prop_map(|reader| Op::Up { reader }),
        1 => (0..READERS).prop_map(|reader| Op::Down { reader }),
        3 => (0..READERS).prop_map(|reader| Op::Heard { reader }),
        3 => Just(Op::Flush),
    ]
}

fn op_with_store() -> impl Strategy<Value = Op> {
    prop_oneof![
        20 => op(),
        2 => (0..3usize).prop_map(|n| Op::Ack { n }),
        1 => Just(Op::Restart),
    ]
}

/// One read as the model remembers it.
#[derive(Clone, Copy, Debug)]
struct Seen {
    at: u64,
    zone: usize,
    rssi: Option<i16>,
}

#[derive(Clone, Debug, Default)]
struct ModelTag {
    present: Option<usize>,
    /// Reads since arrival when present; since it last stopped being present otherwise.
    reads: Vec<Seen>,
    challenger: Option<(usize, u64)>,
}

/// SPEC §3, computed from scratch at every step.
#[derive(Debug)]
struct Model {
    params: Vec<PresenceParams>,
    skus: Vec<String>,
    tags: Vec<ModelTag>,
    up: Vec<bool>,
    /// When each reader was last heard; only meaningful while it is up.
    heard_at: Vec<u64>,
    covered_since: Vec<Option<u64>>,
    counts_at_last_flush: BTreeMap<(String, String), u32>,
    present_at_last_flush: Vec<Option<usize>>,
    arrivals: u64,
    departures: u64,
    moves: u64,
    slot_micros: u64,
}

fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

impl Model {
    fn new(arrive_reads: u16, skus: Vec<String>) -> Self {
        let params: Vec<PresenceParams> =
            (0..ZONES.len()).map(|z| params(z, arrive_reads)).collect();
        let slot_micros = params
            .iter()
            .map(|p| us(p.arrive_window))
            .max()
            .unwrap()
            .max(MIN_SLOT_MICROS);
        Self {
            tags: vec![ModelTag::default(); skus.len()],
            present_at_last_flush: vec![None; skus.len()],
            skus,
            params,
            up: vec![false; usize::from(READERS)],
            heard_at: vec![0; usize::from(READERS)],
            covered_since: vec![None; ZONES.len()],
            counts_at_last_flush: BTreeMap::new(),
            arrivals: 0,
            departures: 0,
            moves: 0,
            slot_micros,
        }
    }

    fn zone_covered_by_up_reader(&self, zone: usize) -> bool {
        ANTENNAS
            .iter()
            .any(|&(r, _, z)| z == Some(zone) && self.up[usize::from(r)])
    }

    fn set_reader(&mut self, reader: u16, up: bool, now: u64) {
        self.up[usize::from(reader)] = up;
        if up {
            // A link coming up is the reader being heard.
            self.heard_at[usize::from(reader)] = now;
        }
        for zone in 0..ZONES.len() {
            let covered = self.zone_covered_by_up_reader(zone);
            match (covered, self.covered_since[zone]) {
                (true, None) => self.covered_since[zone] = Some(now),
                (false, Some(_)) => self.covered_since[zone] = None,
                _ => {}
            }
        }
    }

    /// A sign of life from `reader`; a reader that is down is not listened to.
    fn heard(&mut self, reader: u16, now: u64) {
        if self.up[usize::from(reader)] {
            self.heard_at[usize::from(reader)] = now;
        }
    }

    /// Until when `zone` is known to have been watched: the last time one of its up readers was heard.
    fn watched_until(&self, zone: usize) -> Option<u64> {
        ANTENNAS
            .iter()
            .filter(|&&(r, _, z)| z == Some(zone) && self.up[usize::from(r)])
            .map(|&(r, _, _)| self.heard_at[usize::from(r)])
            .max()
    }

    /// Reads and peak of `zone` over the slot of `now` and the one before.
    fn window(&self, tag: usize, zone: usize, now: u64) -> (u32, Option<i16>) {
        let slot = now / self.slot_micros;
        let mut reads = 0;
        let mut peak = None;
        for s in &self.tags[tag].reads {
            let read_slot = s.at / self.slot_micros;
            if s.zone == zone && read_slot + 1 >= slot {
                reads += 1;
                if let Some(r) = s.rssi {
                    peak = Some(peak.map_or(r, |p: i16| p.max(r)));
                }
            }
        }
        (reads, peak)
    }

    fn read(&mut self, tag: usize, zone: usize, rssi: Option<i16>, now: u64) {
        self.tags[tag].reads.push(Seen {
            at: now,
            zone,
            rssi,
        });
        let Some(home) = self.tags[tag].present else {
            let p = self.params[zone];
            let in_window = self.tags[tag]
                .reads
                .iter()
                .filter(|s| s.zone == zone && now - s.at <= us(p.arrive_window))
                .count();
            if in_window >= usize::from(p.arrive_reads) {
                let t = &mut self.tags[tag];
                t.present = Some(zone);
                t.reads = vec![Seen {
                    at: now,
                    zone,
                    rssi,
                }];
                t.challenger = None;
                self.arrivals += 1;
            }
            return;
        };
        if self.covered_since[home].is_none() {
            self.tags[tag].challenger = None;
            return;
        }
        let (home_reads, home_peak) = self.window(tag, home, now);
        let mut best: Option<(usize, u32, Option<i16>)> = None;
        for z in 0..ZONES.len() {
            if z == home {
                continue;
            }
            let (reads, peak) = self.window(tag, z, now);
            let clearly_more = reads >= 2 * home_reads;
            // "About as often": at least three quarters of the home zone's reads.
            let clearly_stronger = matches!((peak, home_peak), (Some(c), Some(h))
                if 4 * reads >= 3 * home_reads && i32::from(c) >= i32::from(h) + CLEAR_RSSI_MARGIN_CDBM);
            let leads = reads >= u32::from(self.params[z].arrive_reads)
                && (clearly_more || clearly_stronger);
            let rank = |(z, r, p): (usize, u32, Option<i16>)| {
                (r, p.unwrap_or(i16::MIN), std::cmp::Reverse(z))
            };
            if leads && best.is_none_or(|b| rank((z, reads, peak)) > rank(b)) {
                best = Some((z, reads, peak));
            }
        }
        let home_watched = self.watched_until(home);
        let t = &mut self.tags[tag];
        let Some((z, _, _)) = best else {
            t.challenger = None;
            return;
        };
        let since = match t.challenger {
            Some((c, since)) if c == z => since,
            _ => now,
        };
        t.challenger = Some((z, since));
        // The lead must have lasted the hysteresis while the home zone was watched (its readers heard).
        let due = since + us(self.params[z].move_hysteresis);
        if now >= due && home_watched.is_some_and(|w| w >= due) {
            t.present = Some(z);
            t.challenger = None;
            self.moves += 1;
        }
    }

    fn counts(&self) -> BTreeMap<(String, String), u32> {
        let mut counts = BTreeMap::new();
        for (i, t) in self.tags.iter().enumerate() {
            if let Some(z) = t.present {
                *counts
                    .entry((ZONES[z].to_string(), self.skus[i].clone()))
                    .or_insert(0) += 1;
            }
        }
        counts
    }

    /// Departures and the changes since the last flush. When the flush happens does not matter: a tag
    /// leaves on evidence that its zone was watched, never because time passed.
    fn flush(&mut self) -> Vec<(String, String, i64, u32)> {
        let watched: Vec<Option<u64>> = (0..ZONES.len()).map(|z| self.watched_until(z)).collect();
        for t in &mut self.tags {
            let Some(z) = t.present else { continue };
            let last_seen = t.reads.iter().map(|s| s.at).max().unwrap_or(0);
            // Absence needs evidence: a covering reader heard after the departure time, whatever `now` is.
            let due = match (self.covered_since[z], watched[z]) {
                (Some(since), Some(until)) => {
                    until >= last_seen.max(since) + us(self.params[z].depart_after)
                }
                _ => false,
            };
            if due {
                *t = ModelTag::default();
                self.departures += 1;
            }
        }
        let now_counts = self.counts();
        let mut changes = Vec::new();
        let keys: std::collections::BTreeSet<_> = now_counts
            .keys()
            .chain(self.counts_at_last_flush.keys())
            .cloned()
            .collect();
        for k in keys {
            let before = self.counts_at_last_flush.get(&k).copied().unwrap_or(0);
            let after = now_counts.get(&k).copied().unwrap_or(0);
            if before != after {
                changes.push((k.0, k.1, i64::from(after) - i64::from(before), after));
            }
        }
        self.counts_at_last_flush = now_counts;
        self.present_at_last_flush = self.tags.iter().map(|t| t.present).collect();
        changes
    }

    /// The daemon died: what was not flushed is gone, no reader is up, nothing has been read since.
    fn restart(&mut self) {
        for (t, present) in self.tags.iter_mut().zip(&self.present_at_last_flush) {
            *t = ModelTag {
                present: *present,
                ..ModelTag::default()
            };
        }
        self.up.iter_mut().for_each(|u| *u = false);
        self.covered_since.iter_mut().for_each(|c| *c = None);
    }
}

fn engine_changes(changes: &[CountChange]) -> Vec<(String, String, i64, u32)> {
    changes
        .iter()
        .map(|c| (c.zone.to_string(), c.sku.to_string(), c.delta, c.count))
        .collect()
}

/// The engine with (optionally) its store, as the daemon would wire them.
struct System {
    engine: Engine,
    store: Option<Store>,
}

/// What the store side has promised so far.
#[derive(Default)]
struct Promises {
    epoch: Option<String>,
    /// Every committed seq with its bytes, for the whole test.
    committed: BTreeMap<u64, Vec<u8>>,
    /// Seqs acknowledged, one by one or as a resync range covered by a snapshot.
    acked: BTreeSet<u64>,
}

fn skus(pool: &[Epc]) -> Vec<String> {
    pool.iter()
        .map(|epc| match tagtally_protocol::epc::sku(epc.as_bytes()) {
            tagtally_protocol::epc::Sku::Unresolved
                if epc.as_bytes().starts_with(&[0xE2, 0x80]) =>
            {
                "legacy".to_string()
            }
            other => other.to_string(),
        })
        .collect()
}

fn start(arrive_reads: u16, db: Option<&std::path::Path>, max_outbox: u64) -> System {
    let mut engine = Engine::new(&config(arrive_reads).check().unwrap());
    let store = db.map(|path| {
        let opened = Store::open(path, StoreOptions::new("model", max_outbox)).unwrap();
        engine
            .restore(opened.tags.iter().map(|t| t.as_restored()))
            .unwrap();
        opened.store
    });
    System { engine, store }
}

/// Checks the store after a restart against everything it promised.
fn check_store_promises(store: &Store, promises: &mut Promises) -> Result<(), TestCaseError> {
    match &promises.epoch {
        Some(e) => prop_assert_eq!(store.epoch(), e.as_str(), "epoch changed"),
        None => promises.epoch = Some(store.epoch().to_owned()),
    }
    let last = promises.committed.keys().next_back().copied().unwrap_or(0);
    prop_assert_eq!(store.last_seq(), last, "seq resumes after the last commit");
    let mut resync = None;
    let mut present = BTreeSet::new();
    for item in store.unacked().unwrap() {
        match item.unwrap() {
            OutboxItem::Resync(r) => resync = Some(r),
            OutboxItem::Delta { seq, payload } => {
                prop_assert_eq!(
                    promises.committed.get(&seq),
                    Some(&payload),
                    "seq {} is byte-identical",
                    seq
                );
                prop_assert!(
                    !promises.acked.contains(&seq),
                    "acked seq {} came back",
                    seq
                );
                present.insert(seq);
            }
        }
    }
    for &seq in promises.committed.keys() {
        let folded = resync.is_some_and(|r| (r.first_seq..=r.last_seq).contains(&seq));
        prop_assert!(
            present.contains(&seq) || promises.acked.contains(&seq) || folded,
            "committed seq {} lost",
            seq
        );
    }
    Ok(())
}

fn run(
    arrive_reads: u16,
    ops: &[Op],
    with_store: bool,
    max_outbox: u64,
) -> Result<(), TestCaseError> {
    let pool = tag_pool();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join(DATABASE_FILE);
    let db = with_store.then_some(db_path.as_path());
    let mut sys = start(arrive_reads, db, max_outbox);
    let mut promises = Promises::default();
    if let Some(store) = &sys.store {
        check_store_promises(store, &mut promises)?;
    }
    let mut model = Model::new(arrive_reads, skus(&pool));
    let mut now = T0;
    let flush =
        |sys: &mut System, promises: &mut Promises, now: u64| -> Vec<(String, String, i64, u32)> {
            let Some(delta) = sys.engine.flush(Micros(now)) else {
                return Vec::new();
            };
            if let Some(store) = &sys.store {
                if let Some(c) = store.commit(&delta).unwrap() {
                    let expected = promises.committed.keys().next_back().copied().unwrap_or(0) + 1;
                    assert_eq!(c.first_seq, expected, "seqs grow by one");
                    assert_eq!(c.seq + 1 - c.first_seq, c.payloads.len() as u64);
                    for (seq, payload) in (c.first_seq..).zip(c.payloads) {
                        let text = String::from_utf8(payload.clone()).unwrap();
                        assert!(text.contains(&format!("\"seq\":{seq}")), "{text}");
                        promises.committed.insert(seq, payload);
                    }
                }
            }
            engine_changes(&delta.changes)
        };
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Read { tag, antenna, rssi } => {
                let (reader, port, zone) = ANTENNAS[antenna];
                sys.engine.observe(
                    &TagRead {
                        reader: ReaderId(reader),
                        antenna: port,
                        epc: pool[tag],
                        rssi_cdbm: rssi,
                        time: Micros(0),
                    },
                    Micros(now),
                );
                // The engine task: one `heard` per read batch, whatever zone the antenna maps to.
                sys.engine.heard(ReaderId(reader), Micros(now));
                if let Some(zone) = zone {
                    model.read(tag, zone, rssi, now);
                }
                model.heard(reader, now);
            }
            Op::Advance { millis } => now += millis * 1000,
            Op::Up { reader } => {
                sys.engine.reader_up(ReaderId(reader), Micros(now));
                model.set_reader(reader, true, now);
            }
            Op::Down { reader } => {
                sys.engine.reader_down(ReaderId(reader), Micros(now));
                model.set_reader(reader, false, now);
            }
            Op::Heard { reader } => {
                sys.engine.heard(ReaderId(reader), Micros(now));
                model.heard(reader, now);
            }
            Op::Flush => {
                let got = flush(&mut sys, &mut promises, now);
                let want = model.flush();
                prop_assert_eq!(got, want, "delta at step {} ({:?})", step, op);
            }
            Op::Ack { n } => {
                let Some(store) = &sys.store else { continue };
                let seq = store
                    .unacked()
                    .unwrap()
                    .filter_map(|i| match i.unwrap() {
                        OutboxItem::Delta { seq, .. } => Some(seq),
                        OutboxItem::Resync(_) => None,
                    })
                    .nth(n);
                if let Some(seq) = seq {
                    prop_assert!(store.ack(seq).unwrap());
                    promises.acked.insert(seq);
                }
                if let Some(r) = store.outbox_stats().resync {
                    // The uplink published a resync snapshot at the last seq: the folded range is delivered.
                    prop_assert!(store.ack_resync(store.last_seq()).unwrap());
                    promises.acked.extend(r.first_seq..=r.last_seq);
                }
            }
            Op::Restart => {
                if !with_store {
                    continue;
                }
                drop(sys);
                sys = start(arrive_reads, db, max_outbox);
                if let Some(store) = &sys.store {
                    check_store_promises(store, &mut promises)?;
                }
                model.restart();
                model.arrivals = 0;
                model.departures = 0;
                model.moves = 0;
                let restored: BTreeMap<(String, String), u32> = sys
                    .engine
                    .snapshot()
                    .counts
                    .iter()
                    .map(|c| ((c.zone.to_string(), c.sku.to_string()), c.count))
                    .collect();
                prop_assert_eq!(&restored, &model.counts_at_last_flush, "restored counts");
            }
        }
    }
    let got = flush(&mut sys, &mut promises, now);
    prop_assert_eq!(got, model.flush(), "final delta");
    let snapshot: BTreeMap<(String, String), u32> = sys
        .engine
        .snapshot()
        .counts
        .iter()
        .map(|c| ((c.zone.to_string(), c.sku.to_string()), c.count))
        .collect();
    prop_assert_eq!(snapshot, model.counts());
    let c = sys.engine.counters();
    prop_assert_eq!(
        (c.arrivals, c.departures, c.moves),
        (model.arrivals, model.departures, model.moves)
    );
    let zones: HashMap<String, u32> = c
        .present_per_zone
        .iter()
        .map(|(z, n)| (z.to_string(), *n))
        .collect();
    for (z, name) in ZONES.iter().enumerate() {
        let want = model.tags.iter().filter(|t| t.present == Some(z)).count() as u32;
        prop_assert_eq!(zones[*name], want, "present in {}", name);
    }
    if let Some(store) = &sys.store {
        check_store_promises(store, &mut promises)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_naive_model(
        arrive_reads in 1u16..4,
        ops in proptest::collection::vec(op(), 1..300),
    ) {
        run(arrive_reads, &ops, false, 0)?;
    }
}

proptest! {
    // Every commit is an fsync: fewer, longer cases keep the suite within its time budget.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn engine_and_store_agree_with_the_naive_model_across_restarts(
        arrive_reads in 1u16..4,
        max_outbox in prop_oneof![Just(1u64 << 20), Just(700u64)],
        ops in proptest::collection::vec(op_with_store(), 1..300),
    ) {
        run(arrive_reads, &ops, true, max_outbox)?;
    }
}
