//! SPEC §10 zone trust against the engine's public API: a silent antenna never drains its zone, a zone
//! that empties gradually still does, sentinels are never stock.

use std::time::Duration;

use tagtally_core::engine::{
    AntennaTrustState, AntennaZone, Engine, EngineConfig, PresenceParams, RestoredTag, SentinelTag,
    ZoneConfig,
};
use tagtally_core::{Epc, Micros, ReaderId, TagRead};

const T0: u64 = 1_700_000_000_000_000;
const READER: ReaderId = ReaderId(0);
const DEPART_AFTER: u64 = 60;
const SUSPECT_AFTER: u64 = 10;
const SENTINEL: [u8; 12] = [0xE2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99];

fn at(ms: u64) -> Micros {
    Micros(T0 + ms * 1000)
}

/// Reader 0: antenna 1 looks at the floor, antenna 2 at the stockroom.
fn config(sentinels: bool) -> EngineConfig {
    let presence = PresenceParams {
        arrive_reads: 2,
        arrive_window: Duration::from_secs(10),
        depart_after: Duration::from_secs(DEPART_AFTER),
        move_hysteresis: Duration::from_secs(30),
        ..PresenceParams::default()
    };
    let zone = |name: &str| ZoneConfig {
        name: name.into(),
        presence,
    };
    let antenna = |antenna, zone: &str| AntennaZone {
        reader: READER,
        antenna,
        zone: zone.into(),
    };
    EngineConfig {
        zones: vec![zone("floor"), zone("stockroom")],
        antennas: vec![antenna(1, "floor"), antenna(2, "stockroom")],
        sku_map: Vec::new(),
        max_candidates: None,
        suspect_after: Some(Duration::from_secs(SUSPECT_AFTER)),
        sentinels: if sentinels {
            vec![SentinelTag {
                reader: READER,
                antenna: 2,
                epc: SENTINEL.to_vec(),
            }]
        } else {
            Vec::new()
        },
    }
}

fn sgtin(item: u8, serial: u8) -> [u8; 12] {
    [
        0x30, 0x74, 0x25, 0x7b, 0xf7, 0x19, 0x4e, item, 0, 0, 0, serial,
    ]
}

fn read(antenna: u16, epc: &[u8], time: Micros) -> TagRead {
    TagRead {
        reader: READER,
        antenna,
        epc: Epc::from_slice(epc).expect("epc"),
        rssi_cdbm: Some(-5000),
        time,
    }
}

/// A store of 10 floor and 10 stockroom tags, read every 500 ms until `until_ms`.
struct Store {
    engine: Engine,
    now: u64,
    sentinel: bool,
}

impl Store {
    fn new(sentinel: bool) -> Self {
        let mut engine = Engine::new(&config(sentinel).check().expect("config"));
        engine.reader_up(READER, at(0));
        let mut store = Store {
            engine,
            now: 0,
            sentinel,
        };
        store.run(60_000, |_| true, |_, _| true);
        assert_eq!(store.count("floor"), 10);
        assert_eq!(store.count("stockroom"), 10);
        store
    }

    /// Runs for `ms`: antenna 1 reads its tags, antenna 2 reads `stock_read(now, i)` tags when
    /// `antenna2(now)`; flushes every step and checks `each` afterwards.
    fn run(
        &mut self,
        ms: u64,
        antenna2: impl Fn(u64) -> bool,
        stock_read: impl Fn(u64, u8) -> bool,
    ) -> Vec<(u64, u32, bool)> {
        let mut seen = Vec::new();
        let end = self.now + ms;
        while self.now < end {
            let now = at(self.now);
            let mut batch: Vec<TagRead> = (0..10).map(|i| read(1, &sgtin(1, i), now)).collect();
            if antenna2(self.now) {
                batch.extend(
                    (0..10)
                        .filter(|&i| stock_read(self.now, i))
                        .map(|i| read(2, &sgtin(2, i), now)),
                );
                if self.sentinel {
                    batch.push(read(2, &SENTINEL, now));
                }
            }
            self.engine.observe_batch(&batch, now);
            self.engine.heard(READER, now);
            self.engine.flush(now);
            let stale = self
                .engine
                .stale_zones()
                .iter()
                .any(|z| &**z == "stockroom");
            seen.push((self.now, self.count("stockroom"), stale));
            self.now += 500;
        }
        seen
    }

    fn count(&self, zone: &str) -> u32 {
        self.engine
            .snapshot()
            .counts
            .iter()
            .filter(|c| &*c.zone == zone)
            .map(|c| c.count)
            .sum()
    }
}

/// Antenna 2 goes silent for 3 × depart-after while antenna 1 keeps reading, then comes back.
fn silent_antenna_never_drains(sentinel: bool) {
    let mut store = Store::new(sentinel);
    let cut = store.now;
    let seen = store.run(3 * DEPART_AFTER * 1000, |_| false, |_, _| true);
    let stale_at = seen
        .iter()
        .find(|(_, _, stale)| *stale)
        .map(|(t, _, _)| *t)
        .expect("the stockroom goes stale");
    assert!(
        stale_at - cut <= SUSPECT_AFTER * 1000 + 500,
        "stale {} ms after the cut",
        stale_at - cut
    );
    assert!(
        seen.iter().all(|(_, count, _)| *count == 10),
        "no stockroom tag departs while its antenna is silent"
    );
    assert!(seen.iter().skip_while(|s| !s.2).all(|s| s.2), "stays stale");
    let trust = store.engine.antenna_trust();
    assert_eq!(trust[1].state, AntennaTrustState::Suspect);
    assert_eq!(trust[0].state, AntennaTrustState::Trusted);
    let zones = store.engine.zone_trust();
    assert_eq!((zones[1].antennas, zones[1].healthy), (1, 0));

    // Back: trusted again at once, all tags still there; then tag 0 really leaves and departs on time.
    let back = store.now;
    let seen = store.run(
        DEPART_AFTER * 1000 + 5000,
        |_| true,
        |t, i| i != 0 || t < back,
    );
    assert!(!seen[0].2, "trusted at the first read");
    assert!(seen.iter().all(|s| !s.2));
    assert_eq!(store.count("stockroom"), 9, "the one tag gone departs");
    assert_eq!(store.count("floor"), 10);
}

#[test]
fn a_silent_antenna_without_sentinels_makes_its_zone_stale_not_empty() {
    silent_antenna_never_drains(false);
}

#[test]
fn a_silent_antenna_with_sentinels_makes_its_zone_stale_not_empty() {
    silent_antenna_never_drains(true);
}

/// Items leave the stockroom one by one, one every 6 s: the zone drains to zero and never goes stale.
fn gradual_emptying_drains(sentinel: bool) {
    let mut store = Store::new(sentinel);
    let start = store.now;
    let seen = store.run(
        (60 + 2 * DEPART_AFTER) * 1000,
        |_| true,
        |t, i| t < start + u64::from(i + 1) * 6000,
    );
    assert!(seen.iter().all(|s| !s.2), "never stale");
    assert_eq!(store.count("stockroom"), 0, "drained");
    assert_eq!(store.count("floor"), 10);
}

#[test]
fn a_zone_emptying_gradually_drains_without_sentinels() {
    gradual_emptying_drains(false);
}

#[test]
fn a_zone_emptying_gradually_drains_with_sentinels() {
    gradual_emptying_drains(true);
}

#[test]
fn sentinels_are_never_stock_even_when_restored() {
    let mut engine = Engine::new(&config(true).check().expect("config"));
    let restored = [
        RestoredTag {
            epc: &SENTINEL,
            zone: "stockroom",
            sku: "unknown",
        },
        RestoredTag {
            epc: &sgtin(2, 1),
            zone: "stockroom",
            sku: "10614141123456",
        },
    ];
    let summary = engine.restore(restored).expect("restore");
    assert_eq!((summary.tags, summary.sentinels), (1, 1));
    engine.reader_up(READER, at(0));
    let delta = engine.flush(at(0)).expect("the sentinel leaves the stock");
    let sentinel = delta
        .tag_changes
        .iter()
        .find(|c| c.epc.as_bytes() == SENTINEL)
        .expect("a change for the sentinel");
    assert!(sentinel.placement.is_none(), "it departs");
    for step in 0..40 {
        engine.observe(&read(2, &SENTINEL, at(step * 500)), at(step * 500));
    }
    assert!(
        engine.flush(at(20_000)).is_none(),
        "read again, never arrives"
    );
    assert_eq!(engine.counters().sentinel_reads, 40);
}
