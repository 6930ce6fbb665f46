//! Zone trust: which antennas still see their field, so a silent antenna never drains real stock (SPEC §10).
//!
//! A reader tells us when its link breaks, but not when one of its antennas stops reading (a cut cable, a
//! blocked antenna): its reports simply carry no reads of that port. Without more, every tag in that
//! antenna's field departs after `depart-after`. Each antenna is therefore watched one of two ways:
//!
//! * **Sentinels.** Tags fixed in the antenna's field (`sentinels` on the reader). They are never stock.
//!   An antenna whose reader is up and that has read none of its sentinels for `suspect-after` is suspect;
//!   it is trusted again at its next sentinel read. This is deterministic.
//! * **Read-rate baseline**, where no sentinel is configured. Reads are counted per antenna in buckets of
//!   a quarter of `suspect-after`; a slow moving average of the bucket rates is the antenna's baseline. An
//!   antenna is suspect once it has read nothing for `suspect-after` while another antenna of its reader did
//!   read in that time, *and* its rate just before the silence (the better of its last two buckets with
//!   reads) was still at least half its baseline: the rate collapsed to nothing; and only while its zone
//!   still counts at least [`MIN_TAGS_FOR_COLLAPSE`] tags — a couple of items going at once is as likely
//!   as a cut cable, so a small field is taken at its word (sentinels watch such antennas). A field that
//!   empties gradually (items leaving one by one) winds its rate down first, so its last reads come at a
//!   fraction of the baseline and it drains normally. Any read of the antenna makes it trusted again.
//!
//! A suspect antenna makes its zone stale exactly like a reader that is down ([`super::coverage`]): nothing
//! departs from it or moves out of it for lack of reads, and its departure clocks restart when it is
//! trusted again. The price of the baseline rule: a field emptied all at once (a whole rail carried off)
//! looks like a cut cable, and its zone stays stale until the antenna reads again. Sentinels avoid that.
//!
//! Decisions are taken at each flush ([`ZoneTrust::evaluate`]), before departures, so an antenna silent
//! for `suspect-after` (shorter than every `depart-after`, the config plan's rule) is suspect before any
//! tag of its field could be due.

use std::sync::Arc;

use crate::ReaderId;

/// Buckets per `suspect-after`.
const BUCKETS_PER_WINDOW: u64 = 4;
/// Weight of a new bucket in the baseline (a slow average: about 32 buckets, 8 × `suspect-after`).
const BASELINE_WEIGHT: f64 = 1.0 / 32.0;
/// The rate before a silence, as a share of the baseline, from which the silence is a collapse.
const COLLAPSE_SHARE: f64 = 0.5;
/// Fewest tags counted in a zone for a collapse of an antenna's rate to make it suspect.
pub const MIN_TAGS_FOR_COLLAPSE: u32 = 4;
/// Most whole buckets one evaluation rolls (a longer gap only adds empty buckets).
const MAX_ROLLED_BUCKETS: u64 = 64;
/// Marks a (reader, antenna) no configured antenna occupies.
const NO_SLOT: u16 = u16::MAX;

/// One antenna to watch: where it is, and its sentinel EPCs (none: the baseline rule applies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchedAntenna {
    /// The reader.
    pub reader: ReaderId,
    /// The antenna port.
    pub antenna: u16,
    /// The zone index it covers.
    pub zone: u16,
    /// Its sentinel tags' EPCs.
    pub sentinels: Vec<Vec<u8>>,
}

/// How far an antenna is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AntennaTrustState {
    /// Its reader is down (coverage already makes the zone stale).
    Unwatched,
    /// Reading its sentinels, or (without sentinels) not silent in a way that looks like a fault.
    Trusted,
    /// Silent where it should read: its zone is stale.
    Suspect,
}

impl AntennaTrustState {
    /// As published: `unwatched`, `trusted`, `suspect`.
    pub fn as_str(self) -> &'static str {
        match self {
            AntennaTrustState::Unwatched => "unwatched",
            AntennaTrustState::Trusted => "trusted",
            AntennaTrustState::Suspect => "suspect",
        }
    }
}

/// One antenna's trust, for status, `readers` and the health payloads (times on the engine's timeline).
#[derive(Clone, Debug, PartialEq)]
pub struct AntennaTrust {
    /// The reader.
    pub reader: ReaderId,
    /// The antenna port.
    pub antenna: u16,
    /// The zone's name.
    pub zone: Arc<str>,
    /// Sentinel tags configured (0: the baseline rule).
    pub sentinels: usize,
    /// Its state.
    pub state: AntennaTrustState,
    /// When it last read anything (microseconds, engine timeline).
    pub last_read: Option<u64>,
    /// When it last read one of its sentinels.
    pub last_sentinel_read: Option<u64>,
    /// Reads per second in the last whole bucket.
    pub reads_per_sec: f64,
    /// Its baseline rate, once it has read anything.
    pub baseline_per_sec: Option<f64>,
}

/// One zone's trust: its covering antennas and how many of them can be believed.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneTrustReport {
    /// The zone's name.
    pub zone: Arc<str>,
    /// Antennas mapped to it.
    pub antennas: usize,
    /// Of those, how many are trusted (reader up, not suspect).
    pub healthy: usize,
    /// The latest read of any of its antennas.
    pub last_read: Option<u64>,
    /// Its antennas' reads per second, summed.
    pub reads_per_sec: f64,
    /// Its antennas' baselines, summed (those that have one).
    pub baseline_per_sec: Option<f64>,
}

/// The per-antenna watch (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct ZoneTrust {
    suspect_after: u64,
    bucket: u64,
    /// `[reader][antenna]` → index into `antennas`.
    slots: Vec<Vec<u16>>,
    antennas: Vec<Watch>,
    /// Sentinel EPC → the antennas it vouches for.
    sentinels: hashbrown::HashMap<Box<[u8]>, Vec<u16>>,
    /// Per zone: suspect antennas in it.
    suspect_per_zone: Vec<u16>,
}

#[derive(Clone, Debug)]
struct Watch {
    reader: ReaderId,
    antenna: u16,
    zone: u16,
    sentinels: usize,
    /// Reads since the last evaluation (the hot path's only write besides `last_read`).
    reads: u32,
    last_read: Option<u64>,
    last_sentinel_read: Option<u64>,
    /// Since when its reader is up; `None` while down.
    watched_since: Option<u64>,
    bucket_start: u64,
    bucket_reads: u64,
    last_rate: f64,
    last_rate_with_reads: f64,
    baseline: Option<f64>,
    /// The better of the last two bucket rates with reads, and the baseline then.
    rate_before_silence: f64,
    baseline_before_silence: f64,
    /// When it became suspect.
    suspect_since: Option<u64>,
}

impl ZoneTrust {
    /// Watches `antennas` over `zone_count` zones; `suspect_after` in microseconds (at least 4).
    pub fn new(zone_count: usize, antennas: Vec<WatchedAntenna>, suspect_after: u64) -> Self {
        let suspect_after = suspect_after.max(BUCKETS_PER_WINDOW);
        let mut trust = Self {
            suspect_after,
            bucket: suspect_after / BUCKETS_PER_WINDOW,
            suspect_per_zone: vec![0; zone_count],
            ..Self::default()
        };
        for a in antennas {
            let Ok(index) = u16::try_from(trust.antennas.len()) else {
                break;
            };
            if index == NO_SLOT {
                break;
            }
            let r = usize::from(a.reader.0);
            if trust.slots.len() <= r {
                trust.slots.resize(r + 1, Vec::new());
            }
            let ports = &mut trust.slots[r];
            let port = usize::from(a.antenna);
            if ports.len() <= port {
                ports.resize(port + 1, NO_SLOT);
            }
            ports[port] = index;
            for epc in &a.sentinels {
                trust
                    .sentinels
                    .entry(epc.as_slice().into())
                    .or_default()
                    .push(index);
            }
            trust.antennas.push(Watch {
                reader: a.reader,
                antenna: a.antenna,
                zone: a.zone,
                sentinels: a.sentinels.len(),
                reads: 0,
                last_read: None,
                last_sentinel_read: None,
                watched_since: None,
                bucket_start: 0,
                bucket_reads: 0,
                last_rate: 0.0,
                last_rate_with_reads: 0.0,
                baseline: None,
                rate_before_silence: 0.0,
                baseline_before_silence: 0.0,
                suspect_since: None,
            });
        }
        trust
    }

    /// Adds a zone no antenna covers (a retired zone found in restored state).
    pub fn add_uncovered_zone(&mut self) {
        self.suspect_per_zone.push(0);
    }

    /// Counts one read of `(reader, antenna)` at `now`: the hot path's part.
    #[inline]
    pub fn read(&mut self, reader: ReaderId, antenna: u16, now: u64) {
        let slot = self
            .slots
            .get(usize::from(reader.0))
            .and_then(|ports| ports.get(usize::from(antenna)))
            .copied()
            .unwrap_or(NO_SLOT);
        if let Some(w) = self.antennas.get_mut(usize::from(slot)) {
            w.reads = w.reads.saturating_add(1);
            w.last_read = Some(now);
        }
    }

    /// Is `epc` a sentinel (of any antenna)? A read by an antenna it watches counts as that antenna's
    /// sentinel read. Sentinels are never stock, whoever reads them.
    pub fn sentinel_read(&mut self, epc: &[u8], reader: ReaderId, antenna: u16, now: u64) -> bool {
        if self.sentinels.is_empty() {
            return false;
        }
        let Some(slots) = self.sentinels.get(epc) else {
            return false;
        };
        for &slot in slots {
            let w = &mut self.antennas[usize::from(slot)];
            if w.reader == reader && w.antenna == antenna {
                w.last_sentinel_read = Some(now);
            }
        }
        true
    }

    /// Is `epc` a sentinel.
    pub fn is_sentinel(&self, epc: &[u8]) -> bool {
        self.sentinels.contains_key(epc)
    }

    /// The reader's link came up at `now`: its antennas are watched from now on, each trusted until
    /// proven silent again.
    pub fn reader_up(&mut self, reader: ReaderId, now: u64) {
        for w in self.antennas.iter_mut().filter(|w| w.reader == reader) {
            w.watched_since = Some(now);
            w.bucket_start = now;
            w.bucket_reads = 0;
            w.reads = 0;
        }
    }

    /// The reader's link went down: its antennas are not watched (coverage makes their zones stale).
    pub fn reader_down(&mut self, reader: ReaderId) {
        for w in self.antennas.iter_mut().filter(|w| w.reader == reader) {
            w.watched_since = None;
        }
    }

    /// Decides every antenna's trust at `now` (`present(zone)`: tags counted there); calls
    /// `zone_changed(zone, suspect)` for each zone whose having a suspect antenna changed.
    pub fn evaluate(
        &mut self,
        now: u64,
        present: impl Fn(u16) -> u32,
        mut zone_changed: impl FnMut(u16, bool),
    ) {
        let window_start = now.saturating_sub(self.suspect_after);
        for i in 0..self.antennas.len() {
            let reader = self.antennas[i].reader;
            // Another antenna of its reader read within the window: the reader is reading.
            let others_read = self.antennas.iter().enumerate().any(|(j, o)| {
                j != i && o.reader == reader && o.last_read.is_some_and(|t| t > window_start)
            });
            let (bucket, suspect_after) = (self.bucket, self.suspect_after);
            let w = &mut self.antennas[i];
            let was_suspect = w.suspect_since.is_some();
            w.roll(now, bucket);
            let many_tags = present(w.zone) >= MIN_TAGS_FOR_COLLAPSE;
            let suspect = w.decide(now, suspect_after, others_read && many_tags);
            if suspect != was_suspect {
                w.suspect_since = suspect.then_some(now);
                let zone = usize::from(w.zone);
                let count = &mut self.suspect_per_zone[zone];
                let before = *count > 0;
                if suspect {
                    *count += 1;
                } else {
                    *count = count.saturating_sub(1);
                }
                if before != (*count > 0) {
                    zone_changed(w.zone, *count > 0);
                }
            }
        }
    }

    /// Does `zone` have a suspect antenna.
    #[cfg(test)]
    pub fn zone_suspect(&self, zone: u16) -> bool {
        self.suspect_per_zone
            .get(usize::from(zone))
            .is_some_and(|&n| n > 0)
    }

    /// Every antenna's trust, in config order; `zone_name` names a zone index.
    pub fn antennas<'a>(
        &'a self,
        zone_name: impl Fn(u16) -> Arc<str> + 'a,
    ) -> impl Iterator<Item = AntennaTrust> + 'a {
        self.antennas.iter().map(move |w| AntennaTrust {
            reader: w.reader,
            antenna: w.antenna,
            zone: zone_name(w.zone),
            sentinels: w.sentinels,
            state: w.state(),
            last_read: w.last_read,
            last_sentinel_read: w.last_sentinel_read,
            reads_per_sec: w.last_rate,
            baseline_per_sec: w.baseline,
        })
    }

    /// Per zone with at least one antenna, in zone order: antennas, healthy ones, last read, rates.
    pub fn zones(&self, zone_name: impl Fn(u16) -> Arc<str>) -> Vec<ZoneTrustReport> {
        let mut zones: Vec<u16> = self.antennas.iter().map(|w| w.zone).collect();
        zones.sort_unstable();
        zones.dedup();
        zones
            .into_iter()
            .map(|zone| {
                let mut report = ZoneTrustReport {
                    zone: zone_name(zone),
                    antennas: 0,
                    healthy: 0,
                    last_read: None,
                    reads_per_sec: 0.0,
                    baseline_per_sec: None,
                };
                for w in self.antennas.iter().filter(|w| w.zone == zone) {
                    report.antennas += 1;
                    report.healthy += usize::from(w.state() == AntennaTrustState::Trusted);
                    report.last_read = report.last_read.max(w.last_read);
                    report.reads_per_sec += w.last_rate;
                    if let Some(b) = w.baseline {
                        *report.baseline_per_sec.get_or_insert(0.0) += b;
                    }
                }
                report
            })
            .collect()
    }
}

impl Watch {
    fn state(&self) -> AntennaTrustState {
        if self.watched_since.is_none() {
            AntennaTrustState::Unwatched
        } else if self.suspect_since.is_some() {
            AntennaTrustState::Suspect
        } else {
            AntennaTrustState::Trusted
        }
    }

    /// Moves the reads since the last evaluation into the buckets, closing every whole bucket up to `now`.
    fn roll(&mut self, now: u64, bucket: u64) {
        self.bucket_reads += u64::from(std::mem::take(&mut self.reads));
        if self.watched_since.is_none() || now < self.bucket_start.saturating_add(bucket) {
            return;
        }
        let whole = (now - self.bucket_start) / bucket;
        let secs = bucket as f64 / 1e6;
        let first = std::mem::take(&mut self.bucket_reads) as f64 / secs;
        self.close_bucket(first);
        for _ in 1..whole.min(MAX_ROLLED_BUCKETS) {
            self.close_bucket(0.0);
        }
        self.bucket_start += whole * bucket;
    }

    fn close_bucket(&mut self, rate: f64) {
        self.last_rate = rate;
        if self.suspect_since.is_some() {
            // A suspect antenna's silence says nothing about its field: the baseline keeps what it knew.
            return;
        }
        self.baseline = match self.baseline {
            None if rate > 0.0 => Some(rate),
            None => None,
            Some(b) => Some(b + (rate - b) * BASELINE_WEIGHT),
        };
        if rate > 0.0 {
            // A cut in mid-bucket leaves a partial last bucket: the one before it shows the rate.
            self.rate_before_silence = rate.max(self.last_rate_with_reads);
            self.baseline_before_silence = self.baseline.unwrap_or(0.0);
            self.last_rate_with_reads = rate;
        }
    }

    /// Is the antenna suspect at `now`; `collapse_possible`: its reader reads on other antennas and
    /// its zone counts enough tags for the rate rule.
    fn decide(&self, now: u64, suspect_after: u64, collapse_possible: bool) -> bool {
        let Some(watched_since) = self.watched_since else {
            return false;
        };
        let evidence = if self.sentinels > 0 {
            self.last_sentinel_read
        } else {
            self.last_read
        };
        if let Some(since) = self.suspect_since {
            // Trusted again at its first read (sentinel read) after it became suspect.
            return evidence.is_none_or(|t| t <= since);
        }
        let silent_since = evidence.unwrap_or(0).max(watched_since);
        if now.saturating_sub(silent_since) < suspect_after {
            return false;
        }
        if self.sentinels > 0 {
            return true;
        }
        collapse_possible
            && self.baseline_before_silence > 0.0
            && self.rate_before_silence >= COLLAPSE_SHARE * self.baseline_before_silence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000;
    const WINDOW: u64 = 4 * SEC;

    fn two_antennas(sentinels: Vec<Vec<u8>>) -> ZoneTrust {
        let mut t = ZoneTrust::new(
            2,
            vec![
                WatchedAntenna {
                    reader: ReaderId(0),
                    antenna: 1,
                    zone: 0,
                    sentinels: Vec::new(),
                },
                WatchedAntenna {
                    reader: ReaderId(0),
                    antenna: 2,
                    zone: 1,
                    sentinels,
                },
            ],
            WINDOW,
        );
        t.reader_up(ReaderId(0), 0);
        t
    }

    /// Runs from `from` to `to` in 100 ms steps: antenna 1 reads 10 per step, antenna 2 `per_step(t)`.
    /// Returns the zone changes seen.
    fn run(
        t: &mut ZoneTrust,
        from: u64,
        to: u64,
        per_step: impl Fn(u64) -> u32,
    ) -> Vec<(u64, u16, bool)> {
        let mut changes = Vec::new();
        let mut now = from;
        while now < to {
            for _ in 0..10 {
                t.read(ReaderId(0), 1, now);
            }
            for _ in 0..per_step(now) {
                t.read(ReaderId(0), 2, now);
            }
            t.evaluate(
                now,
                |_| 20,
                |zone, suspect| changes.push((now, zone, suspect)),
            );
            now += SEC / 10;
        }
        changes
    }

    #[test]
    fn a_rate_that_collapses_makes_the_zone_suspect_and_reads_clear_it() {
        let mut t = two_antennas(Vec::new());
        assert!(run(&mut t, 0, 60 * SEC, |_| 20).is_empty());
        let changes = run(&mut t, 60 * SEC, 70 * SEC, |_| 0);
        assert_eq!(changes.len(), 1, "{changes:?}");
        let (at, zone, suspect) = changes[0];
        assert_eq!((zone, suspect), (1, true));
        assert!(
            at == 60 * SEC - SEC / 10 + WINDOW,
            "suspect one window after the last read, at {at}"
        );
        assert!(t.zone_suspect(1) && !t.zone_suspect(0));
        let changes = run(&mut t, 70 * SEC, 71 * SEC, |_| 20);
        assert_eq!(changes, vec![(70 * SEC, 1, false)]);
    }

    #[test]
    fn a_field_that_empties_gradually_is_not_suspect() {
        let mut t = two_antennas(Vec::new());
        run(&mut t, 0, 60 * SEC, |_| 20);
        // Twenty tags leave one every 2 s: the rate winds down to nothing over 40 s.
        let changes = run(&mut t, 60 * SEC, 140 * SEC, |now| {
            let left = ((now - 60 * SEC) / (2 * SEC)) as u32;
            20u32.saturating_sub(left)
        });
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn silence_of_the_whole_reader_is_not_a_cut_cable() {
        let mut t = two_antennas(Vec::new());
        run(&mut t, 0, 60 * SEC, |_| 20);
        let mut changes = Vec::new();
        let mut now = 60 * SEC;
        while now < 80 * SEC {
            t.evaluate(now, |_| 20, |zone, suspect| changes.push((zone, suspect)));
            now += SEC / 10;
        }
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn sentinels_decide_without_a_baseline() {
        let sentinel = vec![0xAA; 12];
        let mut t = two_antennas(vec![sentinel.clone()]);
        let mut changes = Vec::new();
        // The sentinel is read every 100 ms for 10 s: trusted.
        for step in 0..100u64 {
            let now = step * SEC / 10;
            assert!(t.sentinel_read(&sentinel, ReaderId(0), 2, now));
            t.evaluate(now, |_| 20, |z, s| changes.push((now, z, s)));
        }
        assert!(changes.is_empty());
        // Read by antenna 1 only (bleed): still not stock, but no evidence for antenna 2.
        for step in 100..200u64 {
            let now = step * SEC / 10;
            assert!(t.sentinel_read(&sentinel, ReaderId(0), 1, now));
            t.evaluate(now, |_| 20, |z, s| changes.push((now, z, s)));
        }
        assert_eq!(changes.len(), 1);
        assert_eq!((changes[0].1, changes[0].2), (1, true));
        assert!(changes[0].0 >= 99 * SEC / 10 + WINDOW);
        assert!(t.sentinel_read(&sentinel, ReaderId(0), 2, 20 * SEC));
        t.evaluate(20 * SEC, |_| 20, |z, s| changes.push((20 * SEC, z, s)));
        assert_eq!(changes.last(), Some(&(20 * SEC, 1, false)));
        assert!(!t.sentinel_read(&[0xAB; 12], ReaderId(0), 2, 21 * SEC));
    }

    #[test]
    fn a_reader_down_and_up_restarts_the_watch() {
        let sentinel = vec![0xAA; 12];
        let mut t = two_antennas(vec![sentinel]);
        let mut changes = Vec::new();
        t.evaluate(5 * SEC, |_| 20, |z, s| changes.push((z, s)));
        assert_eq!(changes, vec![(1, true)]);
        t.reader_down(ReaderId(0));
        t.evaluate(6 * SEC, |_| 20, |z, s| changes.push((z, s)));
        assert_eq!(changes, vec![(1, true), (1, false)], "down is not suspect");
        let states: Vec<_> = t.antennas(|_| "z".into()).map(|a| a.state).collect();
        assert_eq!(states, vec![AntennaTrustState::Unwatched; 2]);
        t.reader_up(ReaderId(0), 10 * SEC);
        t.evaluate(13 * SEC, |_| 20, |z, s| changes.push((z, s)));
        assert_eq!(changes.len(), 2, "a whole window from coming up");
        t.evaluate(14 * SEC, |_| 20, |z, s| changes.push((z, s)));
        assert_eq!(changes.len(), 3);
    }

    #[test]
    fn a_small_field_going_quiet_is_taken_as_items_leaving() {
        let mut t = two_antennas(Vec::new());
        run(&mut t, 0, 60 * SEC, |_| 20);
        let mut changes = Vec::new();
        let mut now = 60 * SEC;
        while now < 70 * SEC {
            t.read(ReaderId(0), 1, now);
            t.evaluate(
                now,
                |_| MIN_TAGS_FOR_COLLAPSE - 1,
                |z, s| changes.push((z, s)),
            );
            now += SEC / 10;
        }
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn zone_report_counts_healthy_antennas() {
        let mut t = two_antennas(Vec::new());
        run(&mut t, 0, 60 * SEC, |_| 20);
        run(&mut t, 60 * SEC, 70 * SEC, |_| 0);
        let zones = t.zones(|z| format!("z{z}").into());
        assert_eq!(zones.len(), 2);
        assert_eq!((zones[1].antennas, zones[1].healthy), (1, 0));
        assert_eq!((zones[0].antennas, zones[0].healthy), (1, 1));
        let b = zones[1].baseline_per_sec.expect("a baseline");
        assert!((150.0..=250.0).contains(&b), "about 200 reads/s, {b}");
        assert_eq!(zones[1].reads_per_sec, 0.0);
    }
}
