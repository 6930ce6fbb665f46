//! Proves the engine's hot path allocates nothing: a counting global allocator watches reads of present tags, one by one and batched.

// A global allocator is an `unsafe impl` by definition; it only forwards to `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tagtally_core::engine::{AntennaZone, Engine, EngineConfig, PresenceParams, ZoneConfig};
use tagtally_core::{Epc, Micros, ReaderId, TagRead};

thread_local! {
    // Only this thread's allocations while counting is on: the test harness allocates elsewhere.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

struct CountingAllocator;

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNTING.try_with(|counting| {
            if counting.get() {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            }
        });
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(|n| n.get())
}

fn sgtin96(serial: u16) -> Epc {
    let mut epc = [0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0, 0];
    epc[10..].copy_from_slice(&serial.to_be_bytes());
    Epc::from_slice(&epc).unwrap()
}

#[test]
fn reads_of_present_tags_allocate_nothing() {
    let mut engine = Engine::new(
        &EngineConfig {
            zones: vec![ZoneConfig {
                name: "floor".into(),
                presence: PresenceParams::default(),
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
        .check()
        .unwrap(),
    );
    let t0 = 1_776_939_300_000_000;
    engine.reader_up(ReaderId(0), Micros(t0));
    let reads: Vec<TagRead> = (0..1000)
        .map(|i| TagRead {
            reader: ReaderId(0),
            antenna: 1,
            epc: sgtin96(i),
            rssi_cdbm: Some(-5500),
            time: Micros(0),
        })
        .collect();
    for r in reads.iter().chain(&reads) {
        engine.observe(r, Micros(t0));
    }
    assert_eq!(engine.tags_present(), 1000);
    engine.flush(Micros(t0 + 1));

    let one_by_one = allocations_during(|| {
        for (i, r) in reads.iter().enumerate() {
            engine.observe(r, Micros(t0 + 2 + i as u64 * 20_000));
        }
    });
    assert_eq!(one_by_one, 0);
    let batched = allocations_during(|| {
        for chunk in reads.chunks(100) {
            // What the engine task does per batch: the reads, then their reader was heard.
            engine.observe_batch(chunk, Micros(t0 + 30_000_000));
            engine.heard(chunk[0].reader, Micros(t0 + 30_000_000));
        }
    });
    assert_eq!(batched, 0);
    assert_eq!(engine.counters().candidates, 0);
}
