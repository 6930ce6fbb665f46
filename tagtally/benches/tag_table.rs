//! Measures the tag-table choices behind `engine/tag_table.rs`: hash function and probe batching, 200 000 resident 96-bit keys in random order.
//!
//! The entries mimic the engine's 48-byte layout. Variants:
//! * `foldhash`, `fxhash-like multiply`, `std SipHash` — one probe per read, key hashed as two 64-bit words.
//! * `foldhash batched` — probes a batch of reads read-only first (independent loads the CPU overlaps),
//!   then updates: the memory latency of a random probe is paid once per batch instead of once per read.
//!
//! Run: `cargo bench -p tagtally --bench tag_table`.

use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hashbrown::HashTable;

const TAGS: usize = 200_000;

#[derive(Clone, Copy)]
struct Entry {
    key: [u8; 16],
    len: u8,
    flags: u8,
    zone: u16,
    sku: u32,
    stat: [u32; 3],
    last_seen: u64,
}

fn words(key: &[u8; 16], len: u8) -> (u64, u64) {
    let mut a = [0u8; 8];
    let mut b = [0u8; 8];
    a.copy_from_slice(&key[..8]);
    b.copy_from_slice(&key[8..]);
    (
        u64::from_le_bytes(a),
        u64::from_le_bytes(b) ^ (u64::from(len) << 56),
    )
}

/// One multiply-and-fold per word, like FxHash, with a fixed seed.
#[derive(Default, Clone)]
struct FxLike(u64);
impl Hasher for FxLike {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}
#[derive(Default, Clone)]
struct FxBuild;
impl BuildHasher for FxBuild {
    type Hasher = FxLike;
    fn build_hasher(&self) -> FxLike {
        FxLike(0)
    }
}

fn key(i: u32) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&0x3074_257B_F719_4E40u64.to_be_bytes());
    k[8..12].copy_from_slice(&i.to_be_bytes());
    k
}

fn shuffled(n: usize, seed: u64) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut x = seed | 1;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

fn table<S: BuildHasher>(s: &S) -> HashTable<Entry> {
    let mut t = HashTable::new();
    for i in 0..TAGS as u32 {
        let e = Entry {
            key: key(i),
            len: 12,
            flags: 0,
            zone: 0,
            sku: i % 5000,
            stat: [0; 3],
            last_seen: 0,
        };
        let h = s.hash_one(words(&e.key, e.len));
        t.insert_unique(h, e, |e| s.hash_one(words(&e.key, e.len)));
    }
    t
}

fn one_by_one<S: BuildHasher>(s: &S, t: &mut HashTable<Entry>, reads: &[[u8; 16]], now: u64) {
    for k in reads {
        let h = s.hash_one(words(k, 12));
        if let Some(e) = t.find_mut(h, |e| e.key == *k && e.len == 12) {
            e.last_seen = now;
            if e.zone == 0 && e.flags == 0 {
                e.stat[1] += 1;
            }
        }
    }
}

fn batched<S: BuildHasher>(s: &S, t: &mut HashTable<Entry>, reads: &[[u8; 16]], now: u64) {
    for chunk in reads.chunks(16) {
        let mut hashes = [0u64; 16];
        let mut touch = 0u32;
        for (h, k) in hashes.iter_mut().zip(chunk) {
            *h = s.hash_one(words(k, 12));
            // Read-only probes: independent of each other, so their cache misses overlap.
            touch ^= t.find(*h, |e| e.key == *k).map_or(0, |e| e.sku);
        }
        black_box(touch);
        for (h, k) in hashes.iter().zip(chunk) {
            if let Some(e) = t.find_mut(*h, |e| e.key == *k && e.len == 12) {
                e.last_seen = now;
                e.stat[1] += 1;
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    let reads: Vec<[u8; 16]> = shuffled(TAGS, 7).into_iter().map(key).collect();
    let mut group = c.benchmark_group("tag_table");
    group.throughput(Throughput::Elements(TAGS as u64));
    group.sample_size(20);

    let fold = hashbrown::DefaultHashBuilder::default();
    let mut t = table(&fold);
    group.bench_function("foldhash", |b| {
        let mut now = 0;
        b.iter(|| {
            now += 1;
            one_by_one(&fold, &mut t, &reads, now)
        })
    });
    group.bench_function("foldhash_batched_16", |b| {
        let mut now = 0;
        b.iter(|| {
            now += 1;
            batched(&fold, &mut t, &reads, now)
        })
    });
    drop(t);

    let mut t = table(&FxBuild);
    group.bench_function("fxhash_like", |b| {
        let mut now = 0;
        b.iter(|| {
            now += 1;
            one_by_one(&FxBuild, &mut t, &reads, now)
        })
    });
    drop(t);

    let sip = std::collections::hash_map::RandomState::new();
    let mut t = table(&sip);
    group.bench_function("std_siphash", |b| {
        let mut now = 0;
        b.iter(|| {
            now += 1;
            one_by_one(&sip, &mut t, &reads, now)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
