//! Arrival: tags that are not (yet) counted, and the rule that turns repeated reads in one zone into presence.
//!
//! A tag counts in a zone once that zone read it at least `arrive-reads` times within `arrive-window`
//! (inclusive: reads at `t` and `t + window` are within it), counting only reads since the tag last stopped
//! being present. The rule is exact for any `arrive-reads`: a candidate keeps, per zone, only its last
//! `arrive-reads - 1` read times, because `n` reads fall within the window ending now exactly when the
//! `(n-1)`-th most recent earlier read does. Candidates whose every read has left every window are dropped at
//! the next flush; their reads are the *stray reads* of the diagnostics (ghosts and corrupted EPCs).

/// A tag seen but not counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Its SKU (classified once, at first sighting).
    pub sku: u32,
    /// Reads since it became a candidate.
    pub reads: u32,
    /// Time of its last read, in microseconds.
    pub last_read: u64,
    /// Recent read times per zone, oldest first within a zone.
    recent: Recent,
}

/// Read times kept inline (no allocation per first sighting) up to [`INLINE_READS`], spilled beyond.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Recent {
    Inline {
        len: u8,
        items: [(u16, u64); INLINE_READS],
    },
    Spilled(Vec<(u16, u64)>),
}

/// Enough for `arrive-reads` up to 4 in one zone, or 2 in each of three zones, without allocating.
const INLINE_READS: usize = 3;

impl Recent {
    fn as_slice(&self) -> &[(u16, u64)] {
        match self {
            Self::Inline { len, items } => &items[..usize::from(*len)],
            Self::Spilled(v) => v,
        }
    }

    fn push(&mut self, item: (u16, u64)) {
        match self {
            Self::Inline { len, items } if usize::from(*len) < INLINE_READS => {
                items[usize::from(*len)] = item;
                *len += 1;
            }
            Self::Inline { .. } => {
                let mut v = self.as_slice().to_vec();
                v.push(item);
                *self = Self::Spilled(v);
            }
            Self::Spilled(v) => v.push(item),
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&(u16, u64)) -> bool) {
        match self {
            Self::Inline { len, items } => {
                let mut kept = 0;
                for i in 0..usize::from(*len) {
                    if keep(&items[i]) {
                        items[kept] = items[i];
                        kept += 1;
                    }
                }
                // Cannot truncate: kept <= len <= INLINE_READS.
                *len = kept as u8;
            }
            Self::Spilled(v) => v.retain(keep),
        }
    }
}

impl Candidate {
    /// A candidate with no reads yet.
    pub fn new(sku: u32) -> Self {
        Self {
            sku,
            reads: 0,
            last_read: 0,
            recent: Recent::Inline {
                len: 0,
                items: [(0, 0); INLINE_READS],
            },
        }
    }

    /// Records a read by `zone` at `now`; true when the tag has now arrived there.
    pub fn record(&mut self, zone: u16, now: u64, arrive_reads: u16, arrive_window: u64) -> bool {
        self.reads = self.reads.saturating_add(1);
        self.last_read = now;
        let keep = usize::from(arrive_reads.saturating_sub(1));
        let in_window = self
            .recent
            .as_slice()
            .iter()
            .filter(|&&(z, t)| z == zone && now.saturating_sub(t) <= arrive_window)
            .count();
        if in_window >= keep {
            return true;
        }
        // Drop what can no longer matter: reads of this zone outside its window.
        self.recent
            .retain(|&(z, t)| z != zone || now.saturating_sub(t) <= arrive_window);
        self.recent.push((zone, now));
        cap_zone_entries(&mut self.recent, zone, keep);
        false
    }

    /// True when none of its reads can fall in any arrival window at or after `now`.
    pub fn is_stale(&self, now: u64, longest_arrive_window: u64) -> bool {
        now.saturating_sub(self.last_read) > longest_arrive_window
    }
}

/// Keeps at most `keep` entries of `zone`, dropping its oldest.
fn cap_zone_entries(recent: &mut Recent, zone: u16, keep: usize) {
    let count = recent.as_slice().iter().filter(|(z, _)| *z == zone).count();
    let mut excess = count.saturating_sub(keep);
    if excess > 0 {
        recent.retain(|(z, _)| {
            if *z == zone && excess > 0 {
                excess -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_read_never_arrives_with_two_needed() {
        let mut c = Candidate::new(0);
        assert!(!c.record(0, 100, 2, 10));
        assert!(c.record(0, 110, 2, 10), "window is inclusive");
    }

    #[test]
    fn reads_outside_the_window_do_not_add_up() {
        let mut c = Candidate::new(0);
        assert!(!c.record(0, 100, 2, 10));
        assert!(!c.record(0, 111, 2, 10));
        assert!(c.record(0, 115, 2, 10));
    }

    #[test]
    fn zones_count_apart() {
        let mut c = Candidate::new(0);
        assert!(!c.record(0, 100, 2, 10));
        assert!(!c.record(1, 101, 2, 10));
        assert!(c.record(1, 102, 2, 10));
    }

    #[test]
    fn sliding_window_is_exact_for_three_reads() {
        let mut c = Candidate::new(0);
        for t in [0, 8, 12] {
            assert!(!c.record(0, t, 3, 10), "at {t}");
        }
        assert!(c.record(0, 15, 3, 10), "8, 12 and 15 lie within 10");
    }

    #[test]
    fn many_reads_needed_spill_and_still_count_exactly() {
        let mut c = Candidate::new(0);
        for t in 0..6 {
            assert!(!c.record(0, t, 8, 100), "at {t}");
            assert!(!c.record(1, t, 8, 100), "zone 1 at {t}");
        }
        assert!(!c.record(0, 6, 8, 100));
        assert!(c.record(0, 7, 8, 100));
    }

    #[test]
    fn one_read_needed_arrives_at_once() {
        assert!(Candidate::new(0).record(3, 5, 1, 0));
    }

    #[test]
    fn staleness_follows_the_longest_window() {
        let mut c = Candidate::new(0);
        c.record(0, 100, 2, 10);
        assert!(!c.is_stale(110, 10));
        assert!(c.is_stale(111, 10));
    }
}
