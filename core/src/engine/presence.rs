//! Arrival: tags that are not (yet) counted, and the rule that turns repeated reads in one zone into presence.
//!
//! A tag counts in a zone once that zone read it at least `arrive-reads` times within `arrive-window`
//! (inclusive: reads at `t` and `t + window` are within it), counting only reads since the tag last stopped
//! being present. The rule is exact for any `arrive-reads`: a candidate keeps, per zone, only its last
//! `arrive-reads - 1` read times, because `n` reads fall within the window ending now exactly when the
//! `(n-1)`-th most recent earlier read does. Candidates whose every read has left every window are dropped at
//! the next flush; their reads are the *stray reads* of the diagnostics (ghosts and corrupted EPCs).

/// A tag seen but not counted.
///
/// Kept small (40 bytes; 64 with its key in the engine's candidate table) because a cold start or a
/// delivery of new stock holds one per tag seen: 200 000 of them at once when a whole store is
/// first read. There is no separate last-read time: the newest read is always among `recent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Reads since it became a candidate (saturating: only the stray-read counter and the "read once"
    /// test of the candidate cap use it, and a candidate read 65 535 times without arriving is a ghost).
    pub reads: u16,
    /// The reader that first read it: the cap takes room from whoever floods.
    pub reader: u16,
    /// Recent read times per zone, oldest first within a zone.
    recent: Recent,
}

/// Read times kept inline (no allocation per first sighting) up to [`INLINE_READS`], spilled beyond.
///
/// Zones and times are held apart so the inline form packs into 32 bytes (as `(u16, u64)` pairs it
/// would take 48).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Recent {
    Inline {
        len: u8,
        zones: [u16; INLINE_READS],
        times: [u64; INLINE_READS],
    },
    Spilled(Vec<(u16, u64)>),
}

/// Enough for `arrive-reads` up to 4 in one zone, or 2 in each of three zones, without allocating.
const INLINE_READS: usize = 3;

impl Recent {
    fn len(&self) -> usize {
        match self {
            Self::Inline { len, .. } => usize::from(*len),
            Self::Spilled(v) => v.len(),
        }
    }

    /// The `i`-th (zone, time); `i < len()`.
    fn get(&self, i: usize) -> Option<(u16, u64)> {
        match self {
            Self::Inline { len, zones, times } if i < usize::from(*len) => {
                Some((*zones.get(i)?, *times.get(i)?))
            }
            Self::Inline { .. } => None,
            Self::Spilled(v) => v.get(i).copied(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    fn push(&mut self, item: (u16, u64)) {
        match self {
            Self::Inline { len, zones, times } if usize::from(*len) < INLINE_READS => {
                let i = usize::from(*len);
                zones[i] = item.0;
                times[i] = item.1;
                *len += 1;
            }
            Self::Inline { .. } => {
                let mut v: Vec<(u16, u64)> = self.iter().collect();
                v.push(item);
                *self = Self::Spilled(v);
            }
            Self::Spilled(v) => v.push(item),
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&(u16, u64)) -> bool) {
        match self {
            Self::Inline { len, zones, times } => {
                let mut kept = 0;
                for i in 0..usize::from(*len) {
                    if keep(&(zones[i], times[i])) {
                        zones[kept] = zones[i];
                        times[kept] = times[i];
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
    /// A candidate with no reads yet, first seen by `reader`.
    ///
    /// It has no SKU: a tag is classified when it arrives, so EPCs that never arrive (a flood of
    /// ghosts with ever new GTINs) never grow the SKU table.
    pub fn new(reader: u16) -> Self {
        Self {
            reads: 0,
            reader,
            recent: Recent::Inline {
                len: 0,
                zones: [0; INLINE_READS],
                times: [0; INLINE_READS],
            },
        }
    }

    /// Records a read by `zone` at `now`; true when the tag has now arrived there.
    pub fn record(&mut self, zone: u16, now: u64, arrive_reads: u16, arrive_window: u64) -> bool {
        self.reads = self.reads.saturating_add(1);
        let keep = usize::from(arrive_reads.saturating_sub(1));
        let in_window = self
            .recent
            .iter()
            .filter(|&(z, t)| z == zone && now.saturating_sub(t) <= arrive_window)
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

    /// Time of its last read, in microseconds (0 before any).
    ///
    /// The newest read is always kept: `record` pushes it last, and later reads only drop entries
    /// older than themselves (engine time never runs backwards).
    pub fn last_read(&self) -> u64 {
        self.recent.iter().map(|(_, t)| t).max().unwrap_or(0)
    }

    /// True when none of its reads can fall in any arrival window at or after `now`.
    pub fn is_stale(&self, now: u64, longest_arrive_window: u64) -> bool {
        now.saturating_sub(self.last_read()) > longest_arrive_window
    }
}

/// Keeps at most `keep` entries of `zone`, dropping its oldest.
fn cap_zone_entries(recent: &mut Recent, zone: u16, keep: usize) {
    let count = recent.iter().filter(|(z, _)| *z == zone).count();
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
    fn a_candidate_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Candidate>(), 40);
    }

    #[test]
    fn the_last_read_survives_every_trim() {
        let mut c = Candidate::new(0);
        for (zone, t) in [(0, 10), (1, 11), (0, 30), (2, 31), (0, 32), (1, 90)] {
            c.record(zone, t, 3, 10);
            assert_eq!(c.last_read(), t);
        }
        let mut spilled = Candidate::new(0);
        for t in 0..10 {
            spilled.record((t % 5) as u16, t, 9, 100);
            assert_eq!(spilled.last_read(), t);
        }
    }

    #[test]
    fn staleness_follows_the_longest_window() {
        let mut c = Candidate::new(0);
        c.record(0, 100, 2, 10);
        assert!(!c.is_stale(110, 10));
        assert!(c.is_stale(111, 10));
    }
}
