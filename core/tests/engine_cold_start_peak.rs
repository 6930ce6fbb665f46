//! The heap a full store's cold start takes at its worst moment, watched by a counting allocator: the moment `bench store` measures as peak RSS.
//!
//! The load is `tagtally bench store`'s (SPEC §8): 200 000 tags on 16 readers, each tag read at random
//! about every 10.4 s, `arrive-reads` 2 within 30 s, a flush every second. Every tag is a candidate
//! first and arrives on its second read, so for a while the candidate table and a growing tag table
//! are both large; a table that grows by reallocating also holds its old and new arrays at once.

// A global allocator is an `unsafe impl` by definition; it only forwards to `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tagtally_core::engine::{AntennaZone, Engine, EngineConfig, PresenceParams, ZoneConfig};
use tagtally_core::{Epc, Micros, ReaderId, TagRead};
use tagtally_protocol::epc::{Digits, Sgtin96};

/// Live heap bytes of the whole process, and the most there were since the last reset.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct PeakAllocator;

unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: PeakAllocator = PeakAllocator;

const TAGS: u32 = 200_000;
const READERS: u16 = 16;
/// `bench store`'s emulators: 9.7 rounds/s, so reads fall in ≈ 100 ms steps.
const TICK_MICROS: u64 = 100_000;
/// Mean time between two reads of one tag (1 200 reads/s per reader, 12 500 tags each).
const MEAN_GAP_MICROS: f64 = 10_416_667.0;
/// Past the peak (≈ 20 s) and the candidate table's shrinking (≈ 34 s), with most tags arrived.
const RUN_MICROS: u64 = 60_000_000;
const T0: u64 = 1_776_939_300_000_000;

fn engine() -> Engine {
    let presence = PresenceParams {
        arrive_reads: 2,
        arrive_window: Duration::from_secs(30),
        ..PresenceParams::default()
    };
    let zone = |name: &str| ZoneConfig {
        name: name.into(),
        presence,
    };
    Engine::new(
        &EngineConfig {
            zones: vec![zone("floor"), zone("backroom")],
            antennas: (0..READERS)
                .map(|r| AntennaZone {
                    reader: ReaderId(r),
                    antenna: 1,
                    zone: if r < 12 { "floor" } else { "backroom" }.into(),
                })
                .collect(),
            sku_map: vec![],
            max_candidates: None,
            suspect_after: None,
            sentinels: Vec::new(),
        }
        .check()
        .unwrap(),
    )
}

/// `bench store`'s population: SGTIN-96, company prefix 614141, 5 000 GTINs, tag `i` has serial `i`.
fn population() -> Vec<[u8; 12]> {
    let company = Digits::new(614_141, 7).unwrap();
    (0..TAGS)
        .map(|serial| {
            let item = Digits::new(u64::from(serial % 5_000), 6).unwrap();
            Sgtin96::new(3, company, item, u64::from(serial))
                .unwrap()
                .to_bytes()
        })
        .collect()
}

fn tag_read(epcs: &[[u8; 12]], serial: u32, now: u64) -> TagRead {
    TagRead {
        reader: ReaderId((serial % u32::from(READERS)) as u16),
        antenna: 1,
        epc: Epc::from_slice(&epcs[serial as usize]).unwrap(),
        rssi_cdbm: Some(-6000),
        time: Micros(now),
    }
}

/// Every read of the run as (tick, tag), in tick order: each tag read as a Poisson process.
fn schedule() -> Vec<(u32, u32)> {
    let mut rng = fastrand::Rng::with_seed(17);
    let ticks = RUN_MICROS / TICK_MICROS;
    let mut reads = Vec::new();
    for serial in 0..TAGS {
        let mut at = 0.0f64;
        loop {
            at += -(1.0 - rng.f64()).ln() * MEAN_GAP_MICROS;
            let tick = (at as u64) / TICK_MICROS;
            if tick >= ticks {
                break;
            }
            reads.push((tick as u32, serial));
        }
    }
    reads.sort_unstable();
    reads
}

#[test]
fn a_full_store_cold_start_peaks_at_under_1_75_times_the_heap_the_store_then_holds() {
    let schedule = schedule();
    let epcs = population();
    let mut batch: Vec<TagRead> = Vec::with_capacity(4_096);
    let mut engine = engine();
    for r in 0..READERS {
        engine.reader_up(ReaderId(r), Micros(T0));
    }
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);

    let mut next = schedule.iter().peekable();
    let mut peak_seen = 0usize;
    let mut at_peak = String::new();
    for tick in 0..(RUN_MICROS / TICK_MICROS) as u32 {
        let now = T0 + u64::from(tick) * TICK_MICROS;
        batch.clear();
        while let Some(&&(t, serial)) = next.peek() {
            if t != tick {
                break;
            }
            batch.push(tag_read(&epcs, serial, now));
            next.next();
        }
        engine.observe_batch(&batch, Micros(now));
        for r in 0..READERS {
            engine.heard(ReaderId(r), Micros(now));
        }
        if tick % 10 == 9 {
            engine.flush(Micros(now));
        }
        let peak = PEAK.load(Ordering::Relaxed) - before;
        if peak > peak_seen {
            peak_seen = peak;
            at_peak = format!(
                "{:.1} s: {} tags, {} candidates; tag table {} B, side tables {} B",
                (tick + 1) as f64 / 10.0,
                engine.tags_present(),
                engine.counters().candidates,
                engine.tag_table_bytes(),
                engine.side_table_bytes(),
            );
        }
    }
    let steady = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    eprintln!(
        "cold start of {TAGS} tags: peak heap {peak} B (after the tick at {at_peak}), \
         steady {steady} B (tag table {} B, side tables {} B), ratio {:.2}",
        engine.tag_table_bytes(),
        engine.side_table_bytes(),
        peak as f64 / steady as f64,
    );
    // A tag whose reads were more than 30 s apart starts over as a candidate: a few percent are
    // still to come at 60 s (`bench store` waits for the last one; the peak is long past).
    assert!(
        engine.tags_present() >= TAGS as usize * 95 / 100,
        "the store arrived: {} tags",
        engine.tags_present()
    );
    // Measured: 2.04x with one tag table and one candidate table, each growing and shrinking whole
    // (the tag table's last doubling next to the full candidate table); 1.56x with shards.
    assert!(
        peak * 4 <= steady * 7,
        "the cold start took {peak} B at its peak, {:.2}x the steady {steady} B",
        peak as f64 / steady as f64
    );
}
