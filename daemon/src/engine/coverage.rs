//! Coverage: which zones some running reader can see, and since when; absence is only ever inferred from coverage.
//!
//! A zone is covered while at least one reader with an antenna in it is up. Every reader starts down, so
//! after a restart no zone drains until its readers have reported in; the time coverage (re)starts is kept
//! per zone, and a tag's departure clock runs from the later of its last read and that time. Downtime of the
//! readers or of the daemon therefore never counts towards a departure.

use tagtally_reader_drivers::ReaderId;

/// Reader link states and per-zone coverage.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Per reader index: is it up.
    reader_up: Vec<bool>,
    /// Per reader index: the zones its antennas cover.
    reader_zones: Vec<Vec<u16>>,
    /// Per zone index: since when it has been covered (microseconds), `None` while it is not.
    covered_since: Vec<Option<u64>>,
}

impl Coverage {
    /// Every reader down; `reader_zones[r]` lists the zones reader `r` covers.
    pub fn new(zone_count: usize, reader_zones: Vec<Vec<u16>>) -> Self {
        Self {
            reader_up: vec![false; reader_zones.len()],
            reader_zones,
            covered_since: vec![None; zone_count],
        }
    }

    /// Adds a zone no reader covers (a retired zone found in restored state).
    pub fn add_uncovered_zone(&mut self) {
        self.covered_since.push(None);
    }

    /// Marks a reader up at `now`; zones it newly covers start their coverage clock.
    pub fn reader_up(&mut self, reader: ReaderId, now: u64) {
        let r = usize::from(reader.0);
        let Some(up) = self.reader_up.get_mut(r) else {
            return;
        };
        *up = true;
        for &zone in &self.reader_zones[r] {
            let since = &mut self.covered_since[usize::from(zone)];
            if since.is_none() {
                *since = Some(now);
            }
        }
    }

    /// Marks a reader down; zones no other running reader covers stop being covered.
    pub fn reader_down(&mut self, reader: ReaderId) {
        let r = usize::from(reader.0);
        let Some(up) = self.reader_up.get_mut(r) else {
            return;
        };
        *up = false;
        for &zone in &self.reader_zones[r] {
            let still = self
                .reader_zones
                .iter()
                .zip(&self.reader_up)
                .any(|(zones, &up)| up && zones.contains(&zone));
            if !still {
                self.covered_since[usize::from(zone)] = None;
            }
        }
    }

    /// Since when `zone` has been covered, if it is.
    #[inline]
    pub fn covered_since(&self, zone: u16) -> Option<u64> {
        self.covered_since.get(usize::from(zone)).copied().flatten()
    }

    /// Is the reader up.
    pub fn is_up(&self, reader: ReaderId) -> bool {
        self.reader_up
            .get(usize::from(reader.0))
            .copied()
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_stays_covered_while_any_reader_is_up() {
        let mut c = Coverage::new(2, vec![vec![0], vec![0, 1]]);
        assert_eq!(c.covered_since(0), None);
        c.reader_up(ReaderId(0), 10);
        c.reader_up(ReaderId(1), 20);
        assert_eq!(c.covered_since(0), Some(10));
        assert_eq!(c.covered_since(1), Some(20));
        c.reader_down(ReaderId(0));
        assert_eq!(c.covered_since(0), Some(10), "reader 1 still covers it");
        c.reader_down(ReaderId(1));
        assert_eq!(c.covered_since(0), None);
        c.reader_up(ReaderId(1), 50);
        assert_eq!(c.covered_since(0), Some(50), "the clock restarts");
    }

    #[test]
    fn unknown_readers_are_ignored() {
        let mut c = Coverage::new(1, vec![vec![0]]);
        c.reader_up(ReaderId(7), 1);
        c.reader_down(ReaderId(7));
        assert!(!c.is_up(ReaderId(7)));
        assert_eq!(c.covered_since(0), None);
    }
}
