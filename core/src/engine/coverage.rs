//! Coverage: which zones some running reader can see, since when, and until when it was seen watching; absence is only ever inferred from coverage.
//!
//! A zone is covered while at least one reader with an antenna in it is up. Every reader starts down, so
//! after a restart no zone drains until its readers have reported in; the time coverage (re)starts is kept
//! per zone, and a tag's departure clock runs from the later of its last read and that time. Downtime of the
//! readers or of the daemon therefore never counts towards a departure.
//!
//! "Up" is only the driver's last word, and a reader can go silent long before it is declared down (a
//! half-open TCP link is found after three missed keepalives). So coverage is also backed by evidence: per
//! reader, when it was last *heard* while up (its link coming up, a read batch, a `Heard` event), and per zone
//! the latest of those among its up readers ([`Coverage::watched_until`]). A tag departs only once that
//! evidence reaches past its departure time: silence proves nothing about the tags.

use crate::ReaderId;

/// Reader link states and per-zone coverage.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Per reader index: is it up.
    reader_up: Vec<bool>,
    /// Per reader index: when it was last heard while up (meaningless while down).
    heard_at: Vec<u64>,
    /// Per reader index: the zones its antennas cover.
    reader_zones: Vec<Vec<u16>>,
    /// Per zone index: since when it has been covered (microseconds), `None` while it is not.
    covered_since: Vec<Option<u64>>,
    /// Per zone index: the latest `heard_at` of its up readers, `None` while it is not covered.
    watched_until: Vec<Option<u64>>,
    /// Per zone index: an antenna of it is suspect ([`super::zone_trust`]); the zone then counts as not
    /// covered, exactly as if its readers were down.
    suspect: Vec<bool>,
}

impl Coverage {
    /// Every reader down; `reader_zones[r]` lists the zones reader `r` covers.
    pub fn new(zone_count: usize, reader_zones: Vec<Vec<u16>>) -> Self {
        Self {
            reader_up: vec![false; reader_zones.len()],
            heard_at: vec![0; reader_zones.len()],
            reader_zones,
            covered_since: vec![None; zone_count],
            watched_until: vec![None; zone_count],
            suspect: vec![false; zone_count],
        }
    }

    /// Adds a zone no reader covers (a retired zone found in restored state).
    pub fn add_uncovered_zone(&mut self) {
        self.covered_since.push(None);
        self.watched_until.push(None);
        self.suspect.push(false);
    }

    /// An antenna of `zone` became suspect (or trusted again) at `now`. While suspect the zone is not
    /// covered; once trusted, its coverage clock restarts at `now`, as after a reader came back up.
    pub fn set_suspect(&mut self, zone: u16, suspect: bool, now: u64) {
        let z = usize::from(zone);
        let Some(flag) = self.suspect.get_mut(z) else {
            return;
        };
        *flag = suspect;
        if !suspect {
            if let Some(since) = &mut self.covered_since[z] {
                *since = (*since).max(now);
            }
        }
    }

    /// Marks a reader up at `now` (which counts as hearing it); zones it newly covers start their coverage clock.
    pub fn reader_up(&mut self, reader: ReaderId, now: u64) {
        let r = usize::from(reader.0);
        let Some(up) = self.reader_up.get_mut(r) else {
            return;
        };
        *up = true;
        // Whatever it was heard at before it went down proves nothing about this link.
        self.heard_at[r] = now;
        for &zone in &self.reader_zones[r] {
            let since = &mut self.covered_since[usize::from(zone)];
            if since.is_none() {
                *since = Some(now);
            }
            raise(&mut self.watched_until[usize::from(zone)], now);
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
            // Only the readers still up vouch for the zone now.
            let watched = self
                .reader_zones
                .iter()
                .zip(&self.reader_up)
                .zip(&self.heard_at)
                .filter(|((zones, &up), _)| up && zones.contains(&zone))
                .map(|(_, &heard)| heard)
                .max();
            self.watched_until[usize::from(zone)] = watched;
            if watched.is_none() {
                self.covered_since[usize::from(zone)] = None;
            }
        }
    }

    /// The reader was heard at `now`; ignored while it is down. Once per read batch: a few stores.
    #[inline]
    pub fn heard(&mut self, reader: ReaderId, now: u64) {
        let r = usize::from(reader.0);
        if !self.reader_up.get(r).copied().unwrap_or(false) {
            return;
        }
        self.heard_at[r] = now;
        for &zone in &self.reader_zones[r] {
            raise(&mut self.watched_until[usize::from(zone)], now);
        }
    }

    /// The latest time an up reader covering `zone` was heard: the zone is known to have been watched
    /// until then. `None` while it is not covered.
    #[inline]
    pub fn watched_until(&self, zone: u16) -> Option<u64> {
        if self.is_suspect(zone) {
            return None;
        }
        self.watched_until.get(usize::from(zone)).copied().flatten()
    }

    /// Does an antenna of `zone` look silent where it should read.
    #[inline]
    fn is_suspect(&self, zone: u16) -> bool {
        self.suspect
            .get(usize::from(zone))
            .copied()
            .unwrap_or(false)
    }

    /// Since when `zone` has been covered, if it is.
    #[inline]
    pub fn covered_since(&self, zone: u16) -> Option<u64> {
        if self.is_suspect(zone) {
            return None;
        }
        self.covered_since.get(usize::from(zone)).copied().flatten()
    }
}

/// Moves `watched` up to `now` (engine time never runs backwards, but a stale call must not lower it).
#[inline]
fn raise(watched: &mut Option<u64>, now: u64) {
    *watched = Some(watched.map_or(now, |w| w.max(now)));
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
        assert_eq!(
            c.reader_up,
            [false],
            "reader 7 is not configured: nothing changed"
        );
        assert_eq!(c.covered_since(0), None);
    }

    #[test]
    fn a_zone_is_watched_until_its_latest_heard_up_reader() {
        let mut c = Coverage::new(2, vec![vec![0], vec![0, 1]]);
        assert_eq!(c.watched_until(0), None, "nothing up");
        c.heard(ReaderId(0), 5);
        assert_eq!(
            c.watched_until(0),
            None,
            "heard while down counts for nothing"
        );
        c.reader_up(ReaderId(0), 10);
        c.reader_up(ReaderId(1), 20);
        assert_eq!(c.watched_until(0), Some(20), "coming up is being heard");
        c.heard(ReaderId(0), 30);
        assert_eq!(c.watched_until(0), Some(30));
        assert_eq!(
            c.watched_until(1),
            Some(20),
            "reader 0 does not look into zone 1"
        );
        c.reader_down(ReaderId(0));
        assert_eq!(
            c.watched_until(0),
            Some(20),
            "only up readers vouch for a zone"
        );
        c.reader_down(ReaderId(1));
        assert_eq!(c.watched_until(0), None);
        c.reader_up(ReaderId(0), 40);
        assert_eq!(c.watched_until(0), Some(40), "the old heard time is gone");
    }

    #[test]
    fn a_suspect_zone_is_stale_like_an_uncovered_one_and_restarts_its_clock() {
        let mut c = Coverage::new(2, vec![vec![0, 1]]);
        c.reader_up(ReaderId(0), 10);
        c.heard(ReaderId(0), 20);
        c.set_suspect(1, true, 25);
        assert_eq!((c.covered_since(1), c.watched_until(1)), (None, None));
        assert_eq!(
            (c.covered_since(0), c.watched_until(0)),
            (Some(10), Some(20))
        );
        c.heard(ReaderId(0), 30);
        c.set_suspect(1, false, 40);
        assert_eq!(c.covered_since(1), Some(40), "the clock restarts");
        assert_eq!(c.watched_until(1), Some(30));
    }

    #[test]
    fn retired_zones_are_never_watched() {
        let mut c = Coverage::new(1, vec![vec![0]]);
        c.add_uncovered_zone();
        c.reader_up(ReaderId(0), 1);
        c.heard(ReaderId(7), 2);
        assert_eq!(c.watched_until(1), None);
        assert_eq!(c.watched_until(0), Some(1));
    }
}
