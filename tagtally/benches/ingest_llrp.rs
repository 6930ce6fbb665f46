//! Criterion bench of the whole ingest hot path (SPEC §8): LLRP RO_ACCESS_REPORT bytes → framing → TagReport iterator → engine, 200 000 resident SGTIN-96 tags in random order.
//!
//! * `ingest_llrp/known_tags_per_read` — each TagReport goes straight to `Engine::observe_epc`.
//! * `ingest_llrp/known_tags_batched` — each report's reads are gathered into a reused buffer and handed to
//!   `Engine::observe_batch` (probe-ahead).
//! * `ingest_llrp/*_cpu_time` — the same, timed in the thread's CPU time (the machine may be shared).
//! * `ingest_llrp/first_sighting` — 200 000 tags never seen, over 200 000 resident ones.
//!
//! Reports hold 100 tags each (antenna, PeakRSSI, first-seen UTC), like a reader's periodic report; tags and
//! reports come from `tagtally_tooling::bench::population`, the same input `tagtally bench ingest` uses. That command times
//! the full path through the real `LlrpSession`; this bench isolates framing + iterator + engine.
//! Run: `cargo bench -p tagtally --bench ingest_llrp`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tagtally::engine::{
    AntennaZone, Engine, EngineConfig, PresenceParams, RestoredTag, ZoneConfig,
};
use tagtally_protocol::llrp::{FrameLimits, Frames, TagReports};
use tagtally_reader_drivers::{Epc, Micros, ReaderId, TagRead};
use tagtally_tooling::bench::cpu_time::thread_cpu_time;
use tagtally_tooling::bench::population::{Population, TAGS_PER_REPORT};

const TAGS: u32 = 200_000;
const T0: u64 = 1_776_939_300_000_000;

/// Tags `0..TAGS` are resident, `TAGS..2 * TAGS` are the fresh ones of the first-sighting bench
/// (the same EPCs as `tagtally bench ingest` reads).
fn population() -> Population {
    Population::new(2 * TAGS).expect("bench population")
}

/// Concatenated RO_ACCESS_REPORTs (100 reads each) reading the tags `order` once each, in that order.
fn reports(order: impl Iterator<Item = u32>) -> Vec<u8> {
    population()
        .reports(order, T0)
        .expect("bench reports encode")
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
        antennas: (1..=4)
            .map(|antenna| AntennaZone {
                reader: ReaderId(0),
                antenna,
                zone: "floor".into(),
            })
            .collect(),
        sku_map: vec![],
        max_candidates: None,
        suspect_after: None,
        sentinels: Vec::new(),
    }
}

fn resident_engine() -> Engine {
    let mut engine = Engine::new(&config().check().unwrap());
    let population = population();
    let epcs: Vec<[u8; 12]> = (0..TAGS).map(|tag| population.epc(tag)).collect();
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

/// The daemon's per-report loop, read by read.
fn ingest_per_read(engine: &mut Engine, bytes: &[u8], now: Micros) {
    for frame in Frames::new(bytes, FrameLimits::default()) {
        let Ok(message) = frame else { continue };
        let Some(reports) = TagReports::from_message(&message) else {
            continue;
        };
        for report in reports.flatten() {
            engine.observe_epc(
                ReaderId(0),
                report.antenna_id.unwrap_or(0),
                report.epc,
                report.best_rssi_centi_dbm(),
                now,
            );
        }
    }
}

/// The daemon's per-report loop, one batch per report.
fn ingest_batched(engine: &mut Engine, bytes: &[u8], now: Micros, buffer: &mut Vec<TagRead>) {
    for frame in Frames::new(bytes, FrameLimits::default()) {
        let Ok(message) = frame else { continue };
        let Some(reports) = TagReports::from_message(&message) else {
            continue;
        };
        buffer.clear();
        for report in reports.flatten() {
            let Some(epc) = Epc::from_slice(report.epc) else {
                continue;
            };
            buffer.push(TagRead {
                reader: ReaderId(0),
                antenna: report.antenna_id.unwrap_or(0),
                epc,
                rssi_cdbm: report.best_rssi_centi_dbm(),
                time: Micros(report.first_seen_utc_us.unwrap_or(0)),
            });
        }
        engine.observe_batch(buffer, now);
    }
}

fn bench(c: &mut Criterion) {
    let resident = Population::new(TAGS).expect("resident population");
    let known = reports(resident.read_order(u64::from(TAGS), 7));
    let fresh = reports(
        resident
            .read_order(u64::from(TAGS), 11)
            .map(|tag| tag + TAGS),
    );
    let mut engine = resident_engine();
    ingest_per_read(&mut engine, &known, Micros(T0));
    assert_eq!(
        engine.counters().candidates,
        0,
        "every read hits a resident tag"
    );

    let mut group = c.benchmark_group("ingest_llrp");
    group.throughput(Throughput::Elements(u64::from(TAGS)));
    group.sample_size(20);
    let mut now = T0;
    group.bench_function("known_tags_per_read/200k_resident_random_order", |b| {
        b.iter(|| {
            now += 1000;
            ingest_per_read(&mut engine, black_box(&known), Micros(now))
        })
    });
    let mut buffer = Vec::with_capacity(TAGS_PER_REPORT);
    group.bench_function("known_tags_batched/200k_resident_random_order", |b| {
        b.iter(|| {
            now += 1000;
            ingest_batched(&mut engine, black_box(&known), Micros(now), &mut buffer)
        })
    });
    // The machine is shared: the same loops timed in this thread's CPU time, which leaves out the time other
    // processes held the core (it still includes their cache and memory-bandwidth interference).
    group.bench_function(
        "known_tags_per_read_cpu_time/200k_resident_random_order",
        |b| {
            b.iter_custom(|iterations| {
                let start = thread_cpu_time();
                for _ in 0..iterations {
                    now += 1000;
                    ingest_per_read(&mut engine, black_box(&known), Micros(now));
                }
                thread_cpu_time() - start
            })
        },
    );
    group.bench_function(
        "known_tags_batched_cpu_time/200k_resident_random_order",
        |b| {
            b.iter_custom(|iterations| {
                let start = thread_cpu_time();
                for _ in 0..iterations {
                    now += 1000;
                    ingest_batched(&mut engine, black_box(&known), Micros(now), &mut buffer);
                }
                thread_cpu_time() - start
            })
        },
    );
    group.sample_size(10);
    group.bench_function("first_sighting/200k_new_over_200k_resident", |b| {
        b.iter_batched(
            resident_engine,
            |mut engine| {
                ingest_per_read(&mut engine, black_box(&fresh), Micros(T0 + 1));
                engine
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
