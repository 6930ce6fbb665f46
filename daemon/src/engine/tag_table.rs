//! The resident tag table: EPC → state of every present tag, laid out so a known tag's read is one probe into one cache line.
//!
//! EPCs of up to 128 bits (nearly every retail tag: SGTIN-96 is 96) are keys stored inline in the entry, so
//! neither lookup nor insert allocates. Longer EPCs live in a second table with boxed keys. An entry is 48
//! bytes: the key, the zone, the SKU index, the zone's [`WindowStat`] and the last-seen time. Everything
//! rarer (the other zones that bleed onto a tag) is kept outside the table, behind a flag.
//!
//! The hash is foldhash (hashbrown's default, randomly seeded per process so EPCs written by an attacker cannot
//! aim at one bucket chain) over the key as two 64-bit words: measured faster than hashing the bytes and
//! about as fast as an unseeded multiply (see `benches/engine_ingest.rs`).

use std::hash::BuildHasher;

use hashbrown::HashTable;

use tagtally_reader_drivers::Epc;

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
            Self::Short(s) => {
                let (bytes, len) = s.bytes();
                Epc::from_slice(&bytes[..len])
            }
            Self::Long(b) => Epc::from_slice(b),
        }
    }
}

/// Flag: the tag has an entry in the engine's bleed table.
pub const FLAG_BLEED: u8 = 1;

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
}

impl ResidentKey for ShortEpc {
    #[inline]
    fn tag_key(&self) -> TagKey {
        TagKey::Short(*self)
    }
}

impl ResidentKey for Box<[u8]> {
    fn tag_key(&self) -> TagKey {
        TagKey::Long(self.clone())
    }
}

/// All present tags.
#[derive(Debug, Default)]
pub struct TagTable {
    hasher: hashbrown::DefaultHashBuilder,
    /// Tags with EPCs of up to 128 bits.
    pub short: HashTable<Resident<ShortEpc>>,
    /// Tags with longer EPCs.
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
        self.short.find_mut(hash, |r| r.key == *key)
    }

    /// Is a short-EPC tag present (read-only probe).
    #[inline]
    pub fn contains_short(&self, key: &ShortEpc) -> bool {
        let hash = self.hash_short(key);
        self.short.find(hash, |r| r.key == *key).is_some()
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
            TagKey::Short(k) => self
                .short
                .find(self.hash_short(k), |r| r.key == *k)
                .map(|r| (r.zone, r.sku)),
            TagKey::Long(k) => self
                .long
                .find(self.hash_long(k), |r| *r.key == **k)
                .map(|r| (r.zone, r.sku)),
        }
    }

    /// Adds a tag known not to be present.
    pub fn insert(&mut self, key: TagKey, zone: u16, sku: u32, stat: WindowStat, last_seen: u64) {
        match key {
            TagKey::Short(key) => {
                let hasher = &self.hasher;
                let hash = hasher.hash_one(key.hash_words());
                self.short.insert_unique(
                    hash,
                    Resident {
                        key,
                        flags: 0,
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
                        flags: 0,
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

    /// Reserves room for `additional` more short-EPC tags (restore knows how many are coming).
    pub fn reserve_short(&mut self, additional: usize) {
        let hasher = &self.hasher;
        self.short
            .reserve(additional, |r| hasher.hash_one(r.key.hash_words()));
    }

    /// Number of present tags.
    pub fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// True when no tag is present.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held by the tables themselves.
    pub fn allocation_bytes(&self) -> usize {
        self.short.allocation_size()
            + self.long.allocation_size()
            + self.long.iter().map(|r| r.key.len()).sum::<usize>()
    }
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
        t.insert(TagKey::new(&[1, 2]), 0, 7, stat, 0);
        t.insert(TagKey::new(&[1, 2, 0]), 1, 8, stat, 0);
        t.insert(TagKey::new(&[9; 20]), 2, 9, stat, 0);
        assert_eq!(t.placement(&TagKey::new(&[1, 2])), Some((0, 7)));
        assert_eq!(t.placement(&TagKey::new(&[1, 2, 0])), Some((1, 8)));
        assert_eq!(t.placement(&TagKey::new(&[9; 20])), Some((2, 9)));
        assert_eq!(t.placement(&TagKey::new(&[1])), None);
        assert_eq!(t.len(), 3);
    }
}
