//! Proves the RO_ACCESS_REPORT hot path allocates nothing: a counting global allocator watches
//! framing and iterating the tag reports of a 100-tag report.

// A global allocator is an `unsafe impl` by definition; it only forwards to `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tagtally_protocol::llrp::*;

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

fn report_of(tags: u16) -> Vec<u8> {
    let reports = (0..tags)
        .map(|i| {
            let mut epc = [0x30u8; 12];
            epc[10..].copy_from_slice(&i.to_be_bytes());
            let mut report = TagReportData::new(&epc);
            report.antenna_id = Some(1 + i % 4);
            report.peak_rssi_dbm = Some(-60);
            report.impinj_peak_rssi_centi_dbm = Some(-6025);
            report.first_seen_utc_us = Some(1_700_000_000_000_000 + u64::from(i));
            report.last_seen_utc_us = Some(1_700_000_000_000_100 + u64::from(i));
            report
        })
        .collect();
    let mut bytes = Vec::new();
    Message::RoAccessReport(reports)
        .encode(ProtocolVersion::V1_0_1, 1, &mut bytes)
        .unwrap();
    bytes
}

#[test]
fn counting_allocator_sees_allocations() {
    // Guards the guard: if counting were broken the next test would pass vacuously.
    let n = allocations_during(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert!(n >= 1);
}

#[test]
fn framing_and_tag_report_iteration_allocate_nothing() {
    let bytes = report_of(100);
    let limits = FrameLimits::default();
    let mut seen = 0usize;
    let mut rssi_sum = 0i64;
    let n = allocations_during(|| {
        for frame in Frames::new(&bytes, limits) {
            let message = frame.unwrap();
            for report in TagReports::from_message(&message).unwrap() {
                let report = report.unwrap();
                seen += 1;
                rssi_sum += i64::from(report.best_rssi_centi_dbm().unwrap());
                std::hint::black_box(report.epc);
            }
        }
    });
    assert_eq!(seen, 100);
    assert_eq!(rssi_sum, -602_500);
    assert_eq!(n, 0, "the hot path allocated {n} times");
}
