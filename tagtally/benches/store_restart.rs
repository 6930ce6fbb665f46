//! Criterion benches of start-up with 200 000 present tags (SPEC §8: ready in ≤ 1 s), after a clean stop and after a crash.
//!
//! * `store/restart_clean` — `Store::open` (load + every invariant check) and `Engine::restore`.
//! * `store/restart_after_abort` — the same after a child process committed and aborted without closing the
//!   database, so redb must repair it first (what `kill -9` or a power loss leaves).
//! * `store/commit_one_flush` — one flush's commit (a few tags and counts) on the 200 000-tag database: the
//!   per-second cost, dominated by the fsync.
//!
//! Run: `cargo bench -p tagtally --bench store_restart`. The database is built once through the real path
//! (reads → engine → flush → commit) in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use tagtally::engine::{AntennaZone, Engine, EngineConfig, PresenceParams, ZoneConfig};
use tagtally::store::{Store, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Micros, ReaderId};
use tagtally_tooling::bench::population::Population;

const TAGS: u32 = 200_000;
const T0: u64 = 1_776_939_300_000_000;
const CHILD_ENV: &str = "TAGTALLY_BENCH_ABORT_CHILD_DB";

/// SGTIN-96 of tag `serial` in the shared bench population (company prefix 0614141, 5 000 GTINs).
fn sgtin96(serial: u32) -> [u8; 12] {
    Population::new(u32::MAX)
        .expect("bench population")
        .epc(serial)
}

fn config() -> EngineConfig {
    EngineConfig {
        zones: vec![ZoneConfig {
            name: "floor".into(),
            presence: PresenceParams {
                depart_after: Duration::from_secs(3600),
                ..PresenceParams::default()
            },
        }],
        antennas: vec![AntennaZone {
            reader: ReaderId(0),
            antenna: 1,
            zone: "floor".into(),
        }],
        sku_map: vec![],
        max_candidates: None,
        suspect_after: None,
        sentinels: Vec::new(),
    }
}

fn options() -> StoreOptions {
    StoreOptions::new("bench", 64 << 20)
}

/// Opens the store and restores the engine: what `tagtally run` does before it is ready.
fn restart(path: &Path) -> (Store, Engine) {
    let opened = Store::open(path, options()).unwrap();
    let mut engine = Engine::new(&config().check().unwrap());
    engine
        .restore(opened.tags.iter().map(|t| t.as_restored()))
        .unwrap();
    assert!(
        engine.tags_present() >= TAGS as usize,
        "restored {} tags from {}",
        engine.tags_present(),
        path.display()
    );
    (opened.store, engine)
}

/// One more flush that changes something: tag `n` leaves and comes back under a new serial.
fn churn(store: &Store, engine: &mut Engine, now: &mut u64) {
    *now += 10_000_000;
    let serial = TAGS + (*now / 10_000_000 % 1_000_000) as u32;
    for _ in 0..2 {
        engine.observe_epc(ReaderId(0), 1, &sgtin96(serial), None, Micros(*now));
    }
    if let Some(delta) = engine.flush(Micros(*now)) {
        store.commit(&delta).unwrap();
    }
}

fn build(path: &Path) {
    let opened = Store::open(path, options()).unwrap();
    let mut engine = Engine::new(&config().check().unwrap());
    engine.reader_up(ReaderId(0), Micros(T0));
    for _ in 0..2 {
        for serial in 0..TAGS {
            engine.observe_epc(ReaderId(0), 1, &sgtin96(serial), None, Micros(T0));
        }
    }
    let delta = engine.flush(Micros(T0 + 1)).unwrap();
    let started = Instant::now();
    opened.store.commit(&delta).unwrap();
    eprintln!(
        "first commit of {} tags took {:?}; database {} bytes",
        delta.tag_changes.len(),
        started.elapsed(),
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    );
}

/// The child: open, commit one flush, and die without closing the database.
fn abort_child(path: &Path) -> ! {
    let (store, mut engine) = restart(path);
    let mut now = T0 + u64::from(std::process::id()) * 1_000_000_000;
    // Coverage starts now, so no resident tag has been silent long enough to leave.
    engine.reader_up(ReaderId(0), Micros(now));
    churn(&store, &mut engine, &mut now);
    std::process::abort();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join(DATABASE_FILE);
    build(&path);
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.bench_function("restart_clean/200k_present", |b| b.iter(|| restart(&path)));
    group.bench_function("restart_after_abort/200k_present", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let status = Command::new(std::env::current_exe().unwrap())
                    .env(CHILD_ENV, &path)
                    .status()
                    .unwrap();
                assert!(!status.success(), "the child aborts");
                let started = Instant::now();
                let ready = restart(&path);
                total += started.elapsed();
                drop(ready);
            }
            total
        })
    });
    let (store, mut engine) = restart(&path);
    let mut now = T0 + 1_000_000_000_000;
    engine.reader_up(ReaderId(0), Micros(now));
    group.bench_function("commit_one_flush/200k_present", |b| {
        b.iter(|| churn(&store, &mut engine, &mut now))
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        abort_child(Path::new(&path));
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
