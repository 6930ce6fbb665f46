//! The candidate table: tags seen but not counted, under a hard cap that a flood of ghost EPCs cannot break.
//!
//! Every EPC a reader reports that is not present becomes a candidate, so without a bound one peer
//! sending never-repeated EPCs grows this table until the gateway runs out of memory (1.8 GB in 20 s
//! was measured). The cap is the number of candidates held at once: `max-candidates` when
//! configured, otherwise twice the tags present with a floor of [`DEFAULT_MIN_CANDIDATES`], so the
//! cold start of a large store (every tag a candidate at once) still fits.
//!
//! # At the cap
//!
//! A new candidate that finds the table full first makes room, and the room is taken from whoever
//! floods, not from the readers that read real tags:
//!
//! 1. the reader holding the most candidates loses every candidate of its own read only once (the
//!    signature of a ghost: a real tag is read again within its arrival window);
//! 2. if that frees less than an eighth of the cap, that reader loses all its candidates;
//! 3. if still less, every reader loses its single-read candidates.
//!
//! So a flood from one reader evicts its own ghosts while the other readers' tags keep arriving, and
//! each purge frees a share of the table, which keeps the cost per read constant (one pass over the
//! table buys many insertions). Evicted candidates count as stray reads, and per reader as
//! evictions, shown in `tagtally readers`.
//!
//! # Shards
//!
//! The table is spread over [`SHARDS`] hash tables like the tag table, for the same reason: a cold
//! start fills it with most of the store and empties it again within a minute, and a table that grows
//! or shrinks holds its old and new arrays at once. One table of 2^17 buckets shrinking held 8.5 MB
//! and 4.3 MB together next to the full tag table (the peak of the whole cold start, measured by
//! `tests/engine_cold_start_peak.rs`); a shard does it with 1/16 of that.

use std::hash::BuildHasher;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::presence::Candidate;
use super::tag_table::{shard_is_sparse, shard_of, TagKey, SHARDS};

/// The cap when `max-candidates` is not set and few tags are present: 7/8 of 2^18, the most a
/// hash table of 2^18 buckets holds (≈ 17 MiB at 65 bytes a bucket), room for the cold start of the
/// 200 000-tag store of SPEC §8 with 15 % to spare.
pub const DEFAULT_MIN_CANDIDATES: usize = 229_376;

/// Candidates a purge should leave free at least, as a fraction of the cap (1/8).
const PURGE_SHARE: usize = 8;

/// What one read did to the candidate table.
#[derive(Debug, PartialEq, Eq)]
pub enum CandidateRead {
    /// Still a candidate (or refused a place), not counted.
    Waiting,
    /// The tag has now arrived: it left the table, with the SKU it was classified as.
    Arrived(TagKey, u32),
}

/// Candidates keyed by EPC, with the cap and per-reader accounting.
#[derive(Debug)]
pub struct Candidates {
    hasher: hashbrown::DefaultHashBuilder,
    /// Candidates by [`shard_of`] the hash of their key.
    shards: [HashTable<(TagKey, Candidate)>; SHARDS],
    /// Candidates held in all shards.
    len: usize,
    /// `max-candidates`, when configured.
    configured_cap: Option<usize>,
    /// The cap in force.
    cap: usize,
    /// Per reader: candidates it first read that are still held.
    held: Vec<u32>,
    /// Per reader: its candidates evicted at the cap.
    evicted: Vec<u64>,
}

impl Candidates {
    /// An empty table for `readers` readers (reader ids `0..readers`), capped at `configured_cap`
    /// or sized from the tag table.
    pub fn new(readers: usize, configured_cap: Option<usize>) -> Self {
        let mut table = Candidates {
            hasher: hashbrown::DefaultHashBuilder::default(),
            shards: Default::default(),
            len: 0,
            configured_cap,
            cap: 0,
            held: vec![0; readers],
            evicted: vec![0; readers],
        };
        table.size_for(0);
        table
    }

    /// Candidates held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No candidates held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The cap in force.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Heap bytes of the table.
    pub fn allocation_size(&self) -> usize {
        self.shards.iter().map(HashTable::allocation_size).sum()
    }

    /// Candidates of `reader` evicted at the cap since start.
    pub fn evicted(&self, reader: u16) -> u64 {
        self.evicted.get(usize::from(reader)).copied().unwrap_or(0)
    }

    /// Candidates evicted at the cap since start, all readers.
    pub fn evicted_total(&self) -> u64 {
        self.evicted.iter().sum()
    }

    /// Sets the cap from the number of tags present (when `max-candidates` is not configured).
    pub fn size_for(&mut self, tags_present: usize) {
        self.cap = self
            .configured_cap
            .unwrap_or_else(|| DEFAULT_MIN_CANDIDATES.max(tags_present.saturating_mul(2)))
            .max(1);
    }

    /// Records a read of `key` by `reader` in `zone` at `now`; `classify` gives the SKU of a tag
    /// that arrives (only then: see [`Candidate::new`]). Returns what became of the tag; `stray`
    /// grows by the reads of candidates evicted to make room.
    #[allow(clippy::too_many_arguments)]
    pub fn read(
        &mut self,
        key: TagKey,
        reader: u16,
        zone: u16,
        now: u64,
        (arrive_reads, arrive_window): (u16, u64),
        classify: impl FnOnce() -> u32,
        stray: &mut u64,
    ) -> CandidateRead {
        // One hash and probe whether the tag is new, waiting or arriving; a second only at the cap.
        let full = self.len >= self.cap;
        let hasher = &self.hasher;
        let hash = hasher.hash_one(&key);
        let shard = &mut self.shards[shard_of(hash)];
        let c = match shard.entry(hash, |(k, _)| *k == key, |(k, _)| hasher.hash_one(k)) {
            Entry::Occupied(mut waiting) => {
                if !waiting
                    .get_mut()
                    .1
                    .record(zone, now, arrive_reads, arrive_window)
                {
                    return CandidateRead::Waiting;
                }
                let ((key, c), _) = waiting.remove();
                self.len -= 1;
                release(&mut self.held, c.reader);
                return CandidateRead::Arrived(key, classify());
            }
            Entry::Vacant(new) => {
                let mut c = Candidate::new(reader);
                if c.record(zone, now, arrive_reads, arrive_window) {
                    return CandidateRead::Arrived(key, classify());
                }
                if !full {
                    new.insert((key, c));
                    self.len += 1;
                    hold(&mut self.held, reader);
                    return CandidateRead::Waiting;
                }
                c
            }
        };
        *stray += self.make_room();
        let hasher = &self.hasher;
        self.shards[shard_of(hash)].insert_unique(hash, (key, c), |(k, _)| hasher.hash_one(k));
        self.len += 1;
        hold(&mut self.held, reader);
        CandidateRead::Waiting
    }

    /// Forgets a tag that became present by other means than its reads (a count found it); its
    /// reads are not stray, so they are not counted as such.
    pub fn forget(&mut self, key: &TagKey) {
        let hash = self.hasher.hash_one(key);
        if let Ok(found) = self.shards[shard_of(hash)].find_entry(hash, |(k, _)| k == key) {
            let ((_, c), _) = found.remove();
            self.len -= 1;
            release(&mut self.held, c.reader);
        }
    }

    /// Drops candidates none of whose reads can still fall in an arrival window; returns their reads.
    pub fn forget_stale(&mut self, now: u64, longest_arrive_window: u64) -> u64 {
        let held = &mut self.held;
        let mut reads = 0u64;
        retain(&mut self.shards, &mut self.len, |c| {
            let stale = c.is_stale(now, longest_arrive_window);
            if stale {
                reads += u64::from(c.reads);
                release(held, c.reader);
            }
            !stale
        });
        reads
    }

    /// Gives memory back once it is mostly empty: each shard less than a quarter full is shrunk to
    /// twice what it holds.
    pub fn shrink_if_sparse(&mut self) {
        let hasher = &self.hasher;
        for shard in &mut self.shards {
            if shard_is_sparse(shard.len(), shard.capacity()) {
                shard.shrink_to(shard.len() * 2, |(k, _)| hasher.hash_one(k));
            }
        }
    }

    /// Evicts as the module doc says, leaving room for at least one more; returns the evicted reads.
    fn make_room(&mut self) -> u64 {
        let Some(victim) = self
            .held
            .iter()
            .enumerate()
            .max_by_key(|&(_, &n)| n)
            .map(|(r, _)| r as u16)
        else {
            return 0;
        };
        let enough = self.cap - self.cap / PURGE_SHARE;
        let mut reads = self.purge(|c| c.reader == victim && c.reads == 1);
        if self.len > enough {
            reads += self.purge(|c| c.reader == victim);
        }
        if self.len > enough {
            reads += self.purge(|c| c.reads == 1);
        }
        if self.len >= self.cap {
            // Unreachable while every candidate is held by some reader (the victim held at least
            // one and lost all in step 2); kept so the cap holds whatever the accounting says.
            reads += self.purge(|_| true);
        }
        reads
    }

    /// Evicts every candidate `doomed` picks; returns their reads.
    fn purge(&mut self, doomed: impl Fn(&Candidate) -> bool) -> u64 {
        let (held, evicted) = (&mut self.held, &mut self.evicted);
        let mut reads = 0u64;
        retain(&mut self.shards, &mut self.len, |c| {
            if !doomed(c) {
                return true;
            }
            reads += u64::from(c.reads);
            release(held, c.reader);
            if let Some(n) = evicted.get_mut(usize::from(c.reader)) {
                *n += 1;
            }
            false
        });
        reads
    }
}

/// Keeps the candidates `keep` says true for, in every shard, and counts them into `len`.
fn retain(
    shards: &mut [HashTable<(TagKey, Candidate)>; SHARDS],
    len: &mut usize,
    mut keep: impl FnMut(&Candidate) -> bool,
) {
    for shard in shards.iter_mut() {
        shard.retain(|(_, c)| keep(c));
    }
    *len = shards.iter().map(HashTable::len).sum();
}

fn hold(held: &mut [u32], reader: u16) {
    if let Some(n) = held.get_mut(usize::from(reader)) {
        *n = n.saturating_add(1);
    }
}

fn release(held: &mut [u32], reader: u16) {
    if let Some(n) = held.get_mut(usize::from(reader)) {
        *n = n.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: (u16, u64) = (2, 10_000_000);

    fn key(n: u32, tag: u8) -> TagKey {
        let mut epc = [0x30, tag, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        epc[8..].copy_from_slice(&n.to_be_bytes());
        TagKey::new(&epc)
    }

    fn read(t: &mut Candidates, k: TagKey, reader: u16, now: u64) -> CandidateRead {
        let mut stray = 0;
        t.read(k, reader, 0, now, RULE, || 0, &mut stray)
    }

    #[test]
    fn the_cap_holds_under_a_flood_of_ghosts() {
        let mut t = Candidates::new(2, Some(1_000));
        for n in 0..100_000 {
            read(&mut t, key(n, 0xAA), 0, u64::from(n));
            assert!(t.len() <= 1_000, "{} held after {n} ghosts", t.len());
        }
        assert!(t.evicted(0) >= 99_000, "{}", t.evicted(0));
        assert_eq!(t.evicted(1), 0);
    }

    #[test]
    fn a_flood_from_one_reader_does_not_keep_another_readers_tags_from_arriving() {
        let mut t = Candidates::new(2, Some(1_000));
        let mut now = 0u64;
        let mut arrived = 0;
        for round in 0..50u32 {
            // Reader 1 sees its 20 real tags once...
            for tag in 0..20 {
                now += 1;
                read(&mut t, key(tag, 0xBB), 1, now);
            }
            // ...then reader 0 floods 5 000 ghosts (five times the cap)...
            for n in 0..5_000 {
                now += 1;
                read(&mut t, key(round * 5_000 + n, 0xAA), 0, now);
            }
            // ...and reader 1 reads its tags again: every one arrives.
            for tag in 0..20 {
                now += 1;
                if let CandidateRead::Arrived(..) = read(&mut t, key(tag, 0xBB), 1, now) {
                    arrived += 1;
                }
            }
        }
        assert_eq!(arrived, 50 * 20);
        assert_eq!(t.evicted(1), 0, "the quiet reader lost nothing");
        assert!(t.evicted(0) > 0);
    }

    #[test]
    fn ghosts_read_twice_are_still_bounded() {
        // A peer that sends each ghost twice, far apart, so none arrives but each has two reads.
        let mut t = Candidates::new(1, Some(1_000));
        for n in 0..20_000u32 {
            read(&mut t, key(n, 0xCC), 0, u64::from(n) * 20_000_000);
            read(
                &mut t,
                key(n, 0xCC),
                0,
                u64::from(n) * 20_000_000 + 15_000_000,
            );
            assert!(t.len() <= 1_000);
        }
    }

    #[test]
    fn arrivals_and_stale_candidates_release_their_readers_share() {
        let mut t = Candidates::new(1, None);
        read(&mut t, key(1, 0), 0, 0);
        read(&mut t, key(2, 0), 0, 0);
        assert_eq!(t.held[0], 2);
        assert!(matches!(
            read(&mut t, key(1, 0), 0, 1),
            CandidateRead::Arrived(..)
        ));
        assert_eq!(t.held[0], 1);
        assert_eq!(t.forget_stale(20_000_001, 10_000_000), 1);
        assert_eq!((t.held[0], t.len()), (0, 0));
    }

    #[test]
    fn only_arrivals_are_classified() {
        // Classifying interns the SKU for good: ghosts that never arrive must not grow that table.
        let mut t = Candidates::new(1, None);
        let calls = std::cell::Cell::new(0);
        let classify = || {
            calls.set(calls.get() + 1);
            0
        };
        let mut stray = 0;
        for n in 0..1_000 {
            t.read(key(n, 1), 0, 0, u64::from(n), RULE, classify, &mut stray);
        }
        assert_eq!(calls.get(), 0);
        let arrived = t.read(key(5, 1), 0, 0, 1_001, RULE, classify, &mut stray);
        assert!(matches!(arrived, CandidateRead::Arrived(..)));
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn the_default_cap_follows_the_tag_table() {
        let mut t = Candidates::new(1, None);
        assert_eq!(t.cap(), DEFAULT_MIN_CANDIDATES);
        t.size_for(1_000_000);
        assert_eq!(t.cap(), 2_000_000);
        let mut fixed = Candidates::new(1, Some(5_000));
        fixed.size_for(1_000_000);
        assert_eq!(fixed.cap(), 5_000, "a configured cap is the cap");
    }
}
