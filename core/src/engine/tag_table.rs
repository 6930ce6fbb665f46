//! The resident tag table: EPC → state of every present tag, laid out so a known tag's read is one probe into one cache line.
//!
//! EPCs of up to 128 bits (nearly every retail tag: SGTIN-96 is 96) are keys stored inline in the entry, so
//! neither lookup nor insert allocates. Longer EPCs live in a second table with boxed keys. An entry is 48
//! bytes: the key, the zone, the SKU index, the zone's [`WindowStat`] and the last-seen time. Everything
//! rarer (the other zones that bleed onto a tag) is kept outside the table, behind a flag.
//!
//! Short-EPC tags are spread over [`SHARDS`] tables by bits of the hash that neither the bucket index nor
//! hashbrown's control byte uses. A hash table grows by moving into an array twice its size, old and new
//! alive together until the move is done; one table of 200 000 tags would hold 6.4 MB and 12.8 MB at once
//! in the middle of a cold start (measured: the peak RSS of `bench store`). A shard grows alone, so the
//! moment costs 1/16 of that, and the hot path pays one shift and mask for it.
//!
//! The hash is foldhash (hashbrown's default, randomly seeded per process so EPCs written by an attacker cannot
//! aim at one bucket chain) over the key as two 64-bit words: measured faster than hashing the bytes and
//! about as fast as an unseeded multiply (see `benches/engine_ingest.rs`).

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::Epc;

use super::zone_choice::WindowStat;

/// The longest EPC kept inline: 128 bits.
pub const SHORT_EPC_BYTES: usize = 16;

/// An EPC of up to 128 bits as an inline key, held as little-endian 32-bit words.
///
/// Built straight from the read's bytes into registers: copying a variable-length slice into a stack buffer
/// and reading it back as words stalls on store forwarding, which (measured) kept the CPU from overlapping the
/// table probes of consecutive reads and cost 5-8x on a 200 000-tag table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortEpc {
    words: [u32; 4],
    len: u8,
}

impl std::hash::Hash for ShortEpc {
    /// Two 64-bit writes instead of five: the side tables hash keys on the first-sighting path.
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (a, b) = self.hash_words();
        state.write_u64(a);
        state.write_u64(b);
    }
}

#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => {
            // A tail shorter than a word: the rare path for EPC lengths that are not a multiple of 32 bits.
            let mut w = [0u8; 4];
            for (i, b) in bytes.iter().skip(at).take(4).enumerate() {
                w[i] = *b;
            }
            u32::from_le_bytes(w)
        }
    }
}

impl ShortEpc {
    /// The key for `epc`, or `None` when it is longer than 128 bits.
    #[inline(always)]
    pub fn new(epc: &[u8]) -> Option<Self> {
        // SGTIN-96 and the other 96-bit schemes: three straight word loads, no branches per word.
        if let Some(&[a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3]) = epc.get(..12) {
            if epc.len() == 12 {
                return Some(Self {
                    words: [
                        u32::from_le_bytes([a0, a1, a2, a3]),
                        u32::from_le_bytes([b0, b1, b2, b3]),
                        u32::from_le_bytes([c0, c1, c2, c3]),
                        0,
                    ],
                    len: 12,
                });
            }
        }
        let len = epc.len();
        if len > SHORT_EPC_BYTES {
            return None;
        }
        let at = |i: usize| if i < len { word(epc, i) } else { 0 };
        Some(Self {
            words: [at(0), at(4), at(8), at(12)],
            // Cannot truncate: checked against SHORT_EPC_BYTES above.
            len: len as u8,
        })
    }

    /// The EPC bytes, in a buffer of 16 with the length.
    pub fn bytes(&self) -> ([u8; SHORT_EPC_BYTES], usize) {
        let mut out = [0u8; SHORT_EPC_BYTES];
        for (chunk, w) in out.chunks_exact_mut(4).zip(self.words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        (out, usize::from(self.len))
    }

    #[inline(always)]
    fn hash_words(&self) -> (u64, u64) {
        let [a, b, c, d] = self.words;
        (
            u64::from(a) | u64::from(b) << 32,
            (u64::from(c) | u64::from(d) << 32) ^ (u64::from(self.len) << 56),
        )
    }
}

/// An owned EPC key of any length, for the engine's side tables (candidates, bleed, dirty tags).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TagKey {
    /// Up to 128 bits, inline.
    Short(ShortEpc),
    /// Longer EPCs.
    Long(Box<[u8]>),
}

impl TagKey {
    /// The key for `epc` (allocates only above 128 bits).
    pub fn new(epc: &[u8]) -> Self {
        match ShortEpc::new(epc) {
            Some(short) => Self::Short(short),
            None => Self::Long(epc.into()),
        }
    }

    /// The EPC.
    pub fn to_epc(&self) -> Option<Epc> {
        match self {
            Self::Short(s) => s.to_epc(),
            Self::Long(b) => b.to_epc(),
        }
    }
}

/// Flag: the tag has an entry in the engine's bleed table.
pub const FLAG_BLEED: u8 = 1;

/// Flag: the tag arrived since the last flush and was not present at it, so its placement at that
/// flush was "absent". Kept here rather than in the engine's side table of changed placements: a
/// cold start arrives every tag of the store in one interval, and a bit costs nothing per tag.
pub const FLAG_ARRIVED: u8 = 2;

/// The state of one present tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resident<K> {
    /// The EPC.
    pub key: K,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// The zone the tag counts in.
    pub zone: u16,
    /// The tag's SKU (interned).
    pub sku: u32,
    /// That zone's recent reads of the tag.
    pub stat: WindowStat,
    /// When any reader last saw the tag, in microseconds (0: not since the daemon started).
    pub last_seen: u64,
}

/// Keys the table can hold.
pub trait ResidentKey: Eq {
    /// The owned side-table key.
    fn tag_key(&self) -> TagKey;

    /// The EPC (`None` only for a key longer than an EPC can be, which reads and restore rule out).
    fn to_epc(&self) -> Option<Epc>;
}

impl ResidentKey for ShortEpc {
    #[inline]
    fn tag_key(&self) -> TagKey {
        TagKey::Short(*self)
    }

    fn to_epc(&self) -> Option<Epc> {
        let (bytes, len) = self.bytes();
        Epc::from_slice(bytes.get(..len)?)
    }
}

impl ResidentKey for Box<[u8]> {
    fn tag_key(&self) -> TagKey {
        TagKey::Long(self.clone())
    }

    fn to_epc(&self) -> Option<Epc> {
        Epc::from_slice(self)
    }
}

/// Tables the short-EPC tags are spread over (see the module doc).
pub const SHARDS: usize = 16;

/// The shard of a short key's hash: bits 32..36, which a table below 2^32 buckets never uses for its
/// bucket index and hashbrown's control byte (the top 7 bits) never sees.
#[inline(always)]
pub fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

/// All present tags.
#[derive(Debug, Default)]
pub struct TagTable {
    hasher: hashbrown::DefaultHashBuilder,
    /// Tags with EPCs of up to 128 bits, by [`shard_of`] their hash.
    short: [HashTable<Resident<ShortEpc>>; SHARDS],
    /// Tags with longer EPCs (rare: one table).
    pub long: HashTable<Resident<Box<[u8]>>>,
}

impl TagTable {
    /// The hash of a short key.
    #[inline]
    pub fn hash_short(&self, key: &ShortEpc) -> u64 {
        self.hasher.hash_one(key.hash_words())
    }

    /// The hash of a long key.
    #[inline]
    pub fn hash_long(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The entry of a short-EPC tag.
    #[inline]
    pub fn short_mut(&mut self, key: &ShortEpc) -> Option<&mut Resident<ShortEpc>> {
        let hash = self.hash_short(key);
        self.short_mut_hashed(hash, key)
    }

    /// The entry of a short-EPC tag whose [`TagTable::hash_short`] is `hash`.
    #[inline]
    pub fn short_mut_hashed(
        &mut self,
        hash: u64,
        key: &ShortEpc,
    ) -> Option<&mut Resident<ShortEpc>> {
        self.short[shard_of(hash)].find_mut(hash, |r| r.key == *key)
    }

    /// Is a short-EPC tag whose [`TagTable::hash_short`] is `hash` present (read-only probe).
    #[inline]
    pub fn contains_short_hashed(&self, hash: u64, key: &ShortEpc) -> bool {
        self.short[shard_of(hash)]
            .find(hash, |r| r.key == *key)
            .is_some()
    }

    /// The entry of a long-EPC tag.
    pub fn long_mut(&mut self, key: &[u8]) -> Option<&mut Resident<Box<[u8]>>> {
        let hash = self.hash_long(key);
        self.long.find_mut(hash, |r| *r.key == *key)
    }

    /// The entry of any tag.
    pub fn get_mut(&mut self, key: &TagKey) -> Option<ResidentMut<'_>> {
        match key {
            TagKey::Short(k) => self.short_mut(k).map(ResidentMut::Short),
            TagKey::Long(k) => self.long_mut(k).map(ResidentMut::Long),
        }
    }

    /// The (zone, SKU) of a present tag.
    pub fn placement(&self, key: &TagKey) -> Option<(u16, u32)> {
        match key {
            TagKey::Short(k) => {
                let hash = self.hash_short(k);
                self.short[shard_of(hash)]
                    .find(hash, |r| r.key == *k)
                    .map(|r| (r.zone, r.sku))
            }
            TagKey::Long(k) => self
                .long
                .find(self.hash_long(k), |r| *r.key == **k)
                .map(|r| (r.zone, r.sku)),
        }
    }

    /// Adds a tag known not to be present, with `FLAG_*` bits `flags`.
    pub fn insert(
        &mut self,
        key: TagKey,
        zone: u16,
        sku: u32,
        stat: WindowStat,
        last_seen: u64,
        flags: u8,
    ) {
        match key {
            TagKey::Short(key) => {
                let hasher = &self.hasher;
                let hash = hasher.hash_one(key.hash_words());
                self.short[shard_of(hash)].insert_unique(
                    hash,
                    Resident {
                        key,
                        flags,
                        zone,
                        sku,
                        stat,
                        last_seen,
                    },
                    |r| hasher.hash_one(r.key.hash_words()),
                );
            }
            TagKey::Long(key) => {
                let hasher = &self.hasher;
                let hash = hasher.hash_one(&*key);
                self.long.insert_unique(
                    hash,
                    Resident {
                        key,
                        flags,
                        zone,
                        sku,
                        stat,
                        last_seen,
                    },
                    |r| hasher.hash_one(&*r.key),
                );
            }
        }
    }

    /// Removes a present tag; its (zone, SKU, `FLAG_*` bits), or `None` when it is not present.
    pub fn remove(&mut self, key: &TagKey) -> Option<(u16, u32, u8)> {
        match key {
            TagKey::Short(k) => {
                let hash = self.hash_short(k);
                let (r, _) = self.short[shard_of(hash)]
                    .find_entry(hash, |r| r.key == *k)
                    .ok()?
                    .remove();
                Some((r.zone, r.sku, r.flags))
            }
            TagKey::Long(k) => {
                let hash = self.hash_long(k);
                let (r, _) = self.long.find_entry(hash, |r| *r.key == **k).ok()?.remove();
                Some((r.zone, r.sku, r.flags))
            }
        }
    }

    /// Reserves room for `additional` more short-EPC tags (restore knows how many are coming): each
    /// shard for its share. A shard that gets more than its share grows alone.
    pub fn reserve_short(&mut self, additional: usize) {
        let hasher = &self.hasher;
        let share = additional.div_ceil(SHARDS);
        for shard in &mut self.short {
            shard.reserve(share, |r| hasher.hash_one(r.key.hash_words()));
        }
    }

    /// Keeps the short-EPC tags `keep` says true for (it may change them), one shard after another.
    pub fn retain_short(&mut self, mut keep: impl FnMut(&mut Resident<ShortEpc>) -> bool) {
        for shard in &mut self.short {
            shard.retain(&mut keep);
        }
    }

    /// Every short-EPC tag, in no particular order.
    pub fn iter_short(&self) -> impl Iterator<Item = &Resident<ShortEpc>> {
        self.short.iter().flat_map(|shard| shard.iter())
    }

    /// Gives memory back after many tags left: each shard, and the long-EPC table, is shrunk to twice
    /// its tags when they fill less than a quarter of it (see [`is_sparse`]; a shard's floor is
    /// [`shard_is_sparse`]).
    pub fn shrink_if_sparse(&mut self) {
        let hasher = &self.hasher;
        for shard in &mut self.short {
            if shard_is_sparse(shard.len(), shard.capacity()) {
                shard.shrink_to(shard.len() * 2, |r| hasher.hash_one(r.key.hash_words()));
            }
        }
        if is_sparse(self.long.len(), self.long.capacity()) {
            self.long
                .shrink_to(self.long.len() * 2, |r| hasher.hash_one(&*r.key));
        }
    }

    /// Number of present tags.
    pub fn len(&self) -> usize {
        self.short.iter().map(HashTable::len).sum::<usize>() + self.long.len()
    }

    /// True when no tag is present.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held by the tables themselves.
    pub fn allocation_bytes(&self) -> usize {
        self.short
            .iter()
            .map(HashTable::allocation_size)
            .sum::<usize>()
            + self.long.allocation_size()
            + self.long.iter().map(|r| r.key.len()).sum::<usize>()
    }
}

/// Tables smaller than this are never shrunk: what they hold is negligible, and shrinking would only churn.
pub const SHRINK_FLOOR: usize = 4096;

/// True when a table holding `len` entries in room for `capacity` should give memory back: it is
/// larger than [`SHRINK_FLOOR`] and less than a quarter full. Shrinking to twice `len` leaves room to
/// double again before the next growth, so a table whose size swings by less than 4x never
/// alternates between growing and shrinking.
pub fn is_sparse(len: usize, capacity: usize) -> bool {
    is_sparse_above(len, capacity, SHRINK_FLOOR)
}

/// [`is_sparse`] for one of [`SHARDS`] tables: the floor is shared out over the shards.
pub fn shard_is_sparse(len: usize, capacity: usize) -> bool {
    is_sparse_above(len, capacity, SHRINK_FLOOR / SHARDS)
}

fn is_sparse_above(len: usize, capacity: usize, floor: usize) -> bool {
    capacity > floor && len < capacity / 4
}

/// A mutable view of a tag of either key length.
#[derive(Debug)]
pub enum ResidentMut<'a> {
    /// Short-EPC tag.
    Short(&'a mut Resident<ShortEpc>),
    /// Long-EPC tag.
    Long(&'a mut Resident<Box<[u8]>>),
}

impl ResidentMut<'_> {
    /// The shared flags field.
    pub fn flags_mut(&mut self) -> &mut u8 {
        match self {
            Self::Short(r) => &mut r.flags,
            Self::Long(r) => &mut r.flags,
        }
    }

    /// The shared zone field.
    pub fn zone_mut(&mut self) -> &mut u16 {
        match self {
            Self::Short(r) => &mut r.zone,
            Self::Long(r) => &mut r.zone,
        }
    }

    /// The shared recent-reads field.
    pub fn stat_mut(&mut self) -> &mut WindowStat {
        match self {
            Self::Short(r) => &mut r.stat,
            Self::Long(r) => &mut r.stat,
        }
    }

    /// When any reader last saw the tag.
    pub fn last_seen(&self) -> u64 {
        match self {
            Self::Short(r) => r.last_seen,
            Self::Long(r) => r.last_seen,
        }
    }

    /// The shared last-seen field.
    pub fn last_seen_mut(&mut self) -> &mut u64 {
        match self {
            Self::Short(r) => &mut r.last_seen,
            Self::Long(r) => &mut r.last_seen,
        }
    }

    /// The shared SKU field.
    pub fn sku_mut(&mut self) -> &mut u32 {
        match self {
            Self::Short(r) => &mut r.sku,
            Self::Long(r) => &mut r.sku,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_entry_fits_in_48_bytes() {
        assert_eq!(std::mem::size_of::<Resident<ShortEpc>>(), 48);
    }

    #[test]
    fn short_keys_round_trip_for_every_length() {
        let src: Vec<u8> = (1..=16).collect();
        for len in 0..=16 {
            let k = ShortEpc::new(&src[..len]).unwrap();
            let (bytes, l) = k.bytes();
            assert_eq!(&bytes[..l], &src[..len]);
        }
        assert!(ShortEpc::new(&[0; 17]).is_none());
    }

    #[test]
    fn keys_of_different_length_differ() {
        let mut t = TagTable::default();
        let stat = WindowStat::first(0, None);
        t.insert(TagKey::new(&[1, 2]), 0, 7, stat, 0, 0);
        t.insert(TagKey::new(&[1, 2, 0]), 1, 8, stat, 0, FLAG_ARRIVED);
        t.insert(TagKey::new(&[9; 20]), 2, 9, stat, 0, 0);
        assert_eq!(t.placement(&TagKey::new(&[1, 2])), Some((0, 7)));
        assert_eq!(t.placement(&TagKey::new(&[1, 2, 0])), Some((1, 8)));
        assert_eq!(t.placement(&TagKey::new(&[9; 20])), Some((2, 9)));
        assert_eq!(t.placement(&TagKey::new(&[1])), None);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn a_table_emptied_gives_its_memory_back_and_keeps_its_tags() {
        let mut t = TagTable::default();
        let stat = WindowStat::first(0, None);
        for i in 0..20_000u32 {
            t.insert(TagKey::new(&i.to_be_bytes()), 0, i, stat, 0, 0);
        }
        let full = t.allocation_bytes();
        t.retain_short(|r| r.sku < 100);
        t.shrink_if_sparse();
        assert!(
            t.allocation_bytes() < full / 16,
            "{full} -> {}",
            t.allocation_bytes()
        );
        assert_eq!(t.len(), 100);
        assert_eq!(
            t.placement(&TagKey::new(&42u32.to_be_bytes())),
            Some((0, 42))
        );
        let kept = t.allocation_bytes();
        t.shrink_if_sparse();
        assert_eq!(t.allocation_bytes(), kept, "a small table is left alone");
    }

    #[test]
    fn sparse_means_big_and_under_a_quarter_full() {
        assert!(!is_sparse(0, SHRINK_FLOOR));
        assert!(is_sparse(0, SHRINK_FLOOR * 2));
        assert!(is_sparse(SHRINK_FLOOR / 2 - 1, SHRINK_FLOOR * 2));
        assert!(!is_sparse(SHRINK_FLOOR / 2, SHRINK_FLOOR * 2));
    }
}
