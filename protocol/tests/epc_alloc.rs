//! `epc::sku` on a 96-bit SGTIN touches no heap: counted with a global allocator that tallies every allocation.
// A `GlobalAlloc` impl is unsafe by definition; it only forwards to `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tagtally_protocol::epc::{self, Sku};

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads cannot disturb the count.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn sgtin96_sku_allocates_nothing() {
    let epcs: [[u8; 12]; 5] = [
        [
            0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
        ],
        [
            0x30, 0x20, 0x4E, 0xD9, 0x49, 0x63, 0x34, 0x00, 0x00, 0x00, 0x00, 0x6E,
        ],
        [
            0x30, 0x08, 0x33, 0xB2, 0xDD, 0xD9, 0x01, 0x40, 0x00, 0x00, 0x00, 0x01,
        ],
        // partition 7 and a too-wide company prefix: the invalid path must not allocate either
        [
            0x30, 0x7C, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
        ],
        [
            0x30, 0x76, 0x62, 0x5A, 0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, 0x01,
        ],
    ];
    let mut gtins = 0u32;
    let before = allocations();
    for _ in 0..1000 {
        for epc in &epcs {
            if let Sku::Gtin(gtin) = epc::sku(std::hint::black_box(epc)) {
                gtins += u32::from(gtin.check_digit_valid());
            }
        }
    }
    // Non-GS1 EPCs are also on the first-sighting path and resolve without allocating.
    let factory_default = [
        0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x05, 0x4E, 0x3C, 0x1C, 0x0B,
    ];
    assert!(matches!(
        epc::sku(std::hint::black_box(&factory_default)),
        Sku::Unresolved
    ));
    let after = allocations();
    assert_eq!(after - before, 0, "sku() allocated");
    assert_eq!(gtins, 3000);

    // The counter does count: decode() builds strings.
    let before = allocations();
    let decoded = epc::decode(&epcs[0]);
    assert!(allocations() > before);
    drop(decoded);
}
