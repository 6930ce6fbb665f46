//! Criterion bench: SGTIN-96 → SKU (`epc::sku`), the per-tag cost of a first sighting (SPEC §8), and full `decode`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use tagtally_protocol::epc;

/// A store-like population: many company prefixes, partitions and serials.
fn population(n: usize) -> Vec<[u8; 12]> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // partition 5: 24-bit company prefix (< 10^7), 20-bit item reference (< 10^6)
            let cp = (state >> 8) % 10_000_000;
            let item = (state >> 32) % 1_000_000;
            let serial = state & ((1 << 38) - 1);
            let cp = epc::Digits::new(cp, 7).expect("7 digits");
            let item = epc::Digits::new(item, 6).expect("6 digits");
            epc::Sgtin96::new(1, cp, item, serial)
                .expect("partition 5 fields")
                .to_bytes()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let epcs = population(4096);
    let mut group = c.benchmark_group("epc");
    group.throughput(Throughput::Elements(epcs.len() as u64));
    group.bench_function("sku_sgtin96", |b| {
        b.iter(|| {
            for epc in &epcs {
                black_box(epc::sku(black_box(epc)));
            }
        })
    });
    group.bench_function("decode_sgtin96", |b| {
        b.iter_batched(
            || epcs.clone(),
            |epcs| {
                for epc in &epcs {
                    black_box(epc::decode(black_box(epc)));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
