//! Criterion benches of the engine's ingest paths with 200 000 resident SGTIN-96 tags read in random order (SPEC §8).
//!
//! * `engine/known_tag` — the hot path: a read of a present tag in its zone, one `observe_epc` per read.
//! * `engine/known_tag_batched` — the same reads as reports of 64 through `observe_batch`.
//! * `engine/first_sighting` — 200 000 tags never seen before, on top of 200 000 resident ones: SGTIN decode,
//!   SKU interning, candidate state.
//! * `engine/arrival` — the second read of each of those: candidate → present.
//!
//! Run: `cargo bench -p tagtally --bench engine_ingest`. Resident bytes per tag are printed once at start.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tagtally::engine::{
    AntennaZone, Engine, EngineConfig, PresenceParams, RestoredTag, ZoneConfig,
};
use tagtally_reader_drivers::{Epc, Micros, ReaderId, TagRead};
use tagtally_tooling::bench::population::Population;

const TAGS: usize = 200_000;
const T0: u64 = 1_776_939_300_000_000;

/// SGTIN-96 of tag `serial` in the shared bench population (company prefix 0614141, 5 000 GTINs).
pub fn sgtin96(serial: u32) -> [u8; 12] {
    Population::new(u32::MAX)
        .expect("bench population")
        .epc(serial)
}

/// A fixed random permutation of `0..n` (the shared bench population's read order).
pub fn shuffled(n: usize, seed: u64) -> Vec<u32> {
    let n = u32::try_from(n).expect("bench sizes fit u32");
    Population::new(n)
        .expect("bench population")
        .read_order(u64::from(n), seed)
        .collect()
}

fn config() -> EngineConfig {
    let presence = PresenceParams {
        depart_after: Duration::from_secs(3600),
        ..PresenceParams::default()
    };
    EngineConfig {
        zones: vec![ZoneConfig {
            name: "floor".into(),
            presence,
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

/// An engine with `TAGS` present tags (serials `0..TAGS`) and its reader up.
fn resident_engine() -> Engine {
    let mut engine = Engine::new(&config().check().unwrap());
    let epcs: Vec<[u8; 12]> = (0..TAGS as u32).map(sgtin96).collect();
    let skus: Vec<String> = epcs
        .iter()
        .map(|e| tagtally_protocol::epc::sku(e).to_string())
        .collect();
    engine
        .restore(epcs.iter().zip(&skus).map(|(e, s)| RestoredTag {
            epc: e,
            zone: "floor",
            sku: s,
        }))
        .unwrap();
    engine.reader_up(ReaderId(0), Micros(T0));
    engine
}

/// Resident set size of this process, from /proc (Linux), in bytes.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn bench(c: &mut Criterion) {
    let rss_before = rss_bytes();
    let mut engine = resident_engine();
    let rss_after = rss_bytes();
    eprintln!(
        "tag table: {} bytes for {} tags = {:.1} bytes/tag; process RSS grew {:.1} bytes/tag (restore's transient state included)",
        engine.tag_table_bytes(),
        engine.tags_present(),
        engine.tag_table_bytes() as f64 / engine.tags_present() as f64,
        rss_after.saturating_sub(rss_before) as f64 / engine.tags_present() as f64
    );
    let reads: Vec<[u8; 12]> = shuffled(TAGS, 7).into_iter().map(sgtin96).collect();
    // One pass so every tag's window is in the current slot, as in steady state.
    for epc in &reads {
        engine.observe_epc(ReaderId(0), 1, epc, Some(-5500), Micros(T0));
    }

    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(TAGS as u64));
    group.sample_size(20);
    group.bench_function("known_tag/200k_resident_random_order", |b| {
        let mut now = T0;
        b.iter(|| {
            now += 1_000;
            for epc in &reads {
                engine.observe_epc(ReaderId(0), 1, black_box(epc), Some(-5500), Micros(now));
            }
        })
    });

    // The same reads as reports of 64, through the batch entry point.
    let batches: Vec<Vec<TagRead>> = reads
        .chunks(64)
        .map(|chunk| {
            chunk
                .iter()
                .map(|epc| TagRead {
                    reader: ReaderId(0),
                    antenna: 1,
                    epc: Epc::from_slice(epc).unwrap(),
                    rssi_cdbm: Some(-5500),
                    time: Micros(T0),
                })
                .collect()
        })
        .collect();
    group.bench_function(
        "known_tag_batched/200k_resident_random_order_reports_of_64",
        |b| {
            let mut now = T0;
            b.iter(|| {
                now += 1_000;
                for batch in &batches {
                    engine.observe_batch(black_box(batch), Micros(now));
                }
            })
        },
    );

    let fresh: Vec<[u8; 12]> = shuffled(TAGS, 11)
        .into_iter()
        .map(|i| sgtin96(TAGS as u32 + i))
        .collect();
    group.sample_size(10);
    group.bench_function("first_sighting/200k_new_over_200k_resident", |b| {
        b.iter_batched(
            resident_engine,
            |mut engine| {
                for epc in &fresh {
                    engine.observe_epc(ReaderId(0), 1, black_box(epc), Some(-5500), Micros(T0 + 1));
                }
                engine
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("arrival/second_read_of_200k_candidates", |b| {
        b.iter_batched(
            || {
                let mut engine = resident_engine();
                for epc in &fresh {
                    engine.observe_epc(ReaderId(0), 1, epc, Some(-5500), Micros(T0 + 1));
                }
                engine
            },
            |mut engine| {
                for epc in &fresh {
                    engine.observe_epc(ReaderId(0), 1, black_box(epc), Some(-5500), Micros(T0 + 2));
                }
                engine
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
