//! What the engine task holds in memory while the state disk is full: the flushed but uncommitted
//! delta (every later flush folded into it), the broker acknowledgements not yet deleted from the
//! outbox, and when to try writing them again — plus the log lines that say so.
//!
//! Bounded by construction: the held delta has at most one entry per (zone, SKU) cell and one per tag
//! (later flushes replace earlier entries, they never append), and each held acknowledgement is a seq
//! still in the bounded outbox. A finished count's result (its EPCs found present) rides with the
//! held delta into the same commit; a count does not finish while the disk is full, so at most the
//! one whose commit found it full is held.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use tracing::{debug, error, info, warn};

use crate::engine::{CountChange, Delta, TagChange};
use crate::store::CountResult;
use tagtally_reader_drivers::Micros;

/// How often a held write is tried again while the disk is full.
pub const RETRY_EVERY: Duration = Duration::from_secs(5);
/// How often the log repeats that the disk is still full (retries in between log at debug).
const REMINDER_EVERY: Duration = Duration::from_secs(300);

/// Writes waiting for room on the state disk (see the module doc).
#[derive(Debug, Default)]
pub struct Held {
    delta: Option<Delta>,
    /// Count results to commit with the held delta.
    counts: Vec<CountResult>,
    acks: Vec<u64>,
    /// The newest EPCIS seq the broker acknowledged that could not be recorded yet.
    epcis_acked: Option<u64>,
    /// A snapshot fell due while a delta was held; it goes out after the next commit.
    snapshot_due: bool,
    outage: Option<Outage>,
}

/// The disk-full episode in progress.
#[derive(Debug, Clone)]
struct Outage {
    since: Instant,
    since_wall: SystemTime,
    error: String,
    retries: u64,
    next_try: Instant,
    reminded: Instant,
}

/// Which log line a failed write gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    /// The episode's one ERROR line.
    First,
    /// A WARN reminder (at most every five minutes).
    Reminder,
    /// Debug only.
    Quiet,
}

/// What status and health show of a disk-full episode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskFull {
    /// When the first write failed.
    pub since: SystemTime,
    /// The file system's answer (`No space left on device (os error 28)`).
    pub error: String,
    /// (zone, SKU) count changes flushed but not committed.
    pub held_changes: u64,
    /// Tag placements flushed but not committed.
    pub held_tags: u64,
    /// Deltas the broker acknowledged that could not be deleted from the outbox yet.
    pub held_acks: u64,
    /// Writes tried again since the first failure.
    pub retries: u64,
    /// The retry cadence.
    pub retry_every: Duration,
}

impl Held {
    /// Adds a flush's delta to what is held (the only delta, when the disk is fine).
    pub fn hold_delta(&mut self, delta: Delta) {
        self.delta = Some(match self.delta.take() {
            Some(earlier) => fold(earlier, delta),
            None => delta,
        });
    }

    /// The held delta, to commit; give it back with [`Held::hold_delta`] if that fails.
    pub fn take_delta(&mut self) -> Option<Delta> {
        self.delta.take()
    }

    /// Adds a count's result, to commit with the held delta; when the count changed nothing there
    /// is none, and an empty one at `time` carries the result.
    pub fn hold_count(&mut self, result: CountResult, time: Micros) {
        self.delta.get_or_insert_with(|| Delta {
            time,
            changes: Vec::new(),
            tag_changes: Vec::new(),
        });
        self.counts.push(result);
    }

    /// The count results to commit with the delta [`Held::take_delta`] gave; give them back with
    /// [`Held::hold_counts`] if that fails.
    pub fn take_counts(&mut self) -> Vec<CountResult> {
        std::mem::take(&mut self.counts)
    }

    /// Gives back count results whose commit failed.
    pub fn hold_counts(&mut self, counts: Vec<CountResult>) {
        self.counts.extend(counts);
    }

    /// True while a flushed delta waits for its commit: counts published now would not be the committed ones.
    pub fn has_delta(&self) -> bool {
        self.delta.is_some()
    }

    /// Adds acknowledged seqs to delete from the outbox.
    pub fn hold_acks(&mut self, seqs: Vec<u64>) {
        if seqs.is_empty() {
            return;
        }
        let sorted = self
            .acks
            .last()
            .is_none_or(|&last| seqs.first() > Some(&last))
            && seqs.is_sorted();
        self.acks.extend(seqs);
        if !sorted {
            self.acks.sort_unstable();
            self.acks.dedup();
        }
    }

    /// Adds the acknowledgement of every `epcis` message up to EPCIS seq `seq`.
    pub fn hold_epcis_ack(&mut self, seq: u64) {
        self.epcis_acked = Some(self.epcis_acked.map_or(seq, |held| held.max(seq)));
    }

    /// The held `epcis` acknowledgement, to record; give it back with
    /// [`Held::hold_epcis_ack`] if that fails.
    pub fn take_epcis_ack(&mut self) -> Option<u64> {
        self.epcis_acked.take()
    }

    /// True while acknowledgements wait to be written.
    pub fn has_acks(&self) -> bool {
        !self.acks.is_empty() || self.epcis_acked.is_some()
    }

    /// The held acknowledgements, to delete; give them back with [`Held::hold_acks`] if that fails.
    pub fn take_acks(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.acks)
    }

    /// Remembers that a snapshot is due once the held delta is committed.
    pub fn snapshot_after_commit(&mut self) {
        self.snapshot_due = true;
    }

    /// Whether a snapshot fell due while a delta was held (and forgets it).
    pub fn take_snapshot_due(&mut self) -> bool {
        std::mem::take(&mut self.snapshot_due)
    }

    /// True while the disk is full.
    pub fn is_full(&self) -> bool {
        self.outage.is_some()
    }

    /// True when writes must wait: the disk is full and the next retry is not due yet.
    pub fn waiting(&self, now: Instant) -> bool {
        self.outage.as_ref().is_some_and(|o| now < o.next_try)
    }

    /// A write failed for lack of space: the first failure logs an error, later ones a reminder now and then.
    pub fn failed(
        &mut self,
        database: &Path,
        error: &std::io::Error,
        last_seq: u64,
        now: Instant,
        wall: SystemTime,
    ) -> Said {
        let retry_secs = RETRY_EVERY.as_secs();
        match &mut self.outage {
            None => {
                error!(
                    database = %database.display(),
                    last_seq,
                    "state disk full: cannot commit to {}: {error}; counts are held in memory and \
                     committed deltas are safe; retrying every {retry_secs}s",
                    database.display()
                );
                self.outage = Some(Outage {
                    since: now,
                    since_wall: wall,
                    error: error.to_string(),
                    retries: 0,
                    next_try: now + RETRY_EVERY,
                    reminded: now,
                });
                Said::First
            }
            Some(o) => {
                o.retries += 1;
                o.next_try = now + RETRY_EVERY;
                o.error = error.to_string();
                let (changes, tags) = held_size(self.delta.as_ref());
                let lasted = lasted(now.saturating_duration_since(o.since));
                if now.saturating_duration_since(o.reminded) >= REMINDER_EVERY {
                    o.reminded = now;
                    warn!(
                        database = %database.display(),
                        last_seq,
                        retries = o.retries,
                        "state disk still full after {lasted}: {error}; {changes} count changes, \
                         {tags} tag placements and {} acknowledgements held in memory; retrying every {retry_secs}s",
                        self.acks.len()
                    );
                    Said::Reminder
                } else {
                    debug!(
                        retries = o.retries,
                        held_changes = changes,
                        held_tags = tags,
                        held_acks = self.acks.len(),
                        "state disk still full: {error}"
                    );
                    Said::Quiet
                }
            }
        }
    }

    /// Everything held was written: the episode (if any) is over.
    pub fn recovered(&mut self, last_seq: u64, now: Instant) {
        if let Some(o) = self.outage.take() {
            info!(
                last_seq,
                retries = o.retries,
                "state disk writable again after {}: the held changes are committed up to seq {last_seq}",
                lasted(now.saturating_duration_since(o.since))
            );
        }
    }

    /// The episode as status shows it, `None` while the disk is fine.
    pub fn status(&self) -> Option<DiskFull> {
        let o = self.outage.as_ref()?;
        let (held_changes, held_tags) = held_size(self.delta.as_ref());
        Some(DiskFull {
            since: o.since_wall,
            error: o.error.clone(),
            held_changes,
            held_tags,
            held_acks: self.acks.len() as u64,
            retries: o.retries,
            retry_every: RETRY_EVERY,
        })
    }
}

/// "2m 5s": whole seconds, the two largest units (as `tagtally status` writes durations).
fn lasted(d: Duration) -> String {
    let whole = humantime::format_duration(Duration::from_secs(d.as_secs())).to_string();
    whole.split(' ').take(2).collect::<Vec<_>>().join(" ")
}

fn held_size(delta: Option<&Delta>) -> (u64, u64) {
    delta.map_or((0, 0), |d| {
        (d.changes.len() as u64, d.tag_changes.len() as u64)
    })
}

/// One delta that has the effect of `earlier` then `later`: count changes add up (cells back where
/// they were drop out), each tag keeps its latest placement, the time is the later flush's. Both
/// inputs and the result are sorted as the engine sorts them (cells by zone then SKU, tags by EPC).
pub fn fold(earlier: Delta, later: Delta) -> Delta {
    let changes = merge_sorted(
        earlier.changes,
        later.changes,
        |a, b| (&a.zone, &a.sku).cmp(&(&b.zone, &b.sku)),
        |a, b| {
            let delta = a.delta + b.delta;
            (delta != 0).then_some(CountChange {
                zone: b.zone,
                sku: b.sku,
                delta,
                count: b.count,
            })
        },
    );
    let tag_changes = merge_sorted(
        earlier.tag_changes,
        later.tag_changes,
        |a: &TagChange, b: &TagChange| a.epc.as_bytes().cmp(b.epc.as_bytes()),
        |_, b| Some(b),
    );
    Delta {
        time: later.time,
        changes,
        tag_changes,
    }
}

/// Merges two sorted lists; equal entries are combined by `both` (dropped when it gives `None`).
fn merge_sorted<T>(
    a: Vec<T>,
    b: Vec<T>,
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
    both: impl Fn(T, T) -> Option<T>,
) -> Vec<T> {
    use std::cmp::Ordering;
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => order(x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        match next {
            Ordering::Less => out.extend(a.next()),
            Ordering::Greater => out.extend(b.next()),
            Ordering::Equal => {
                if let (Some(x), Some(y)) = (a.next(), b.next()) {
                    out.extend(both(x, y));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tagtally_reader_drivers::{Epc, Micros};

    use super::*;
    use crate::engine::Placement;

    fn change(zone: &str, sku: &str, delta: i64, count: u32) -> CountChange {
        CountChange {
            zone: Arc::from(zone),
            sku: Arc::from(sku),
            delta,
            count,
        }
    }

    fn tag(n: u8, zone: Option<&str>) -> TagChange {
        TagChange {
            epc: Epc::from_slice(&[0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n]).unwrap(),
            placement: zone.map(|z| Placement {
                zone: Arc::from(z),
                sku: Arc::from("s"),
            }),
            departure: None,
        }
    }

    fn delta(time: u64, changes: Vec<CountChange>, tags: Vec<TagChange>) -> Delta {
        Delta {
            time: Micros(time),
            changes,
            tag_changes: tags,
        }
    }

    #[test]
    fn folding_adds_counts_drops_cells_back_where_they_were_and_keeps_each_tags_latest_placement() {
        // Committed: floor/s = 5, backroom/s = 2. First flush: tag 1 arrives on the floor, tag 2 leaves
        // the backroom. Second flush: tag 1 leaves again, tag 3 arrives in the backroom.
        let first = delta(
            10,
            vec![change("backroom", "s", -1, 1), change("floor", "s", 1, 6)],
            vec![tag(1, Some("floor")), tag(2, None)],
        );
        let second = delta(
            20,
            vec![change("backroom", "s", 1, 2), change("floor", "s", -1, 5)],
            vec![tag(1, None), tag(3, Some("backroom"))],
        );
        let folded = fold(first, second);
        assert_eq!(folded.time, Micros(20));
        assert!(folded.changes.is_empty(), "{:?}", folded.changes);
        assert_eq!(
            folded.tag_changes,
            vec![tag(1, None), tag(2, None), tag(3, Some("backroom"))]
        );

        let third = delta(30, vec![change("floor", "s", 2, 7)], vec![]);
        let again = fold(folded, third);
        assert_eq!(again.changes, vec![change("floor", "s", 2, 7)]);
    }

    #[test]
    fn folding_keeps_the_engines_order() {
        let a = delta(
            1,
            vec![change("a", "x", 1, 1), change("c", "x", 1, 1)],
            vec![tag(1, Some("a")), tag(5, Some("c"))],
        );
        let b = delta(
            2,
            vec![change("b", "x", 1, 1), change("c", "y", 1, 1)],
            vec![tag(3, Some("b")), tag(9, Some("c"))],
        );
        let f = fold(a, b);
        let cells: Vec<(&str, &str)> = f.changes.iter().map(|c| (&*c.zone, &*c.sku)).collect();
        assert_eq!(cells, [("a", "x"), ("b", "x"), ("c", "x"), ("c", "y")]);
        let epcs: Vec<u8> = f.tag_changes.iter().map(|t| t.epc.as_bytes()[11]).collect();
        assert_eq!(epcs, [1, 3, 5, 9]);
    }

    /// Tag k placed in zone `a`/`b` with SKU `x`/`y`, or absent (index 0).
    const PLACES: [Option<(&str, &str)>; 5] = [
        None,
        Some(("a", "x")),
        Some(("a", "y")),
        Some(("b", "x")),
        Some(("b", "y")),
    ];

    /// The delta the engine would flush between two states of six tags (index into `PLACES`).
    fn diff(time: u64, before: &[usize], after: &[usize]) -> Delta {
        let count = |state: &[usize], cell: (&str, &str)| {
            state.iter().filter(|&&p| PLACES[p] == Some(cell)).count() as u32
        };
        let changes = PLACES
            .iter()
            .flatten()
            .filter_map(|&cell| {
                let (was, is) = (count(before, cell), count(after, cell));
                (was != is).then(|| change(cell.0, cell.1, i64::from(is) - i64::from(was), is))
            })
            .collect();
        let tag_changes = (0..before.len())
            .filter(|&k| before[k] != after[k])
            .map(|k| TagChange {
                placement: PLACES[after[k]].map(|(zone, sku)| Placement {
                    zone: Arc::from(zone),
                    sku: Arc::from(sku),
                }),
                ..tag(k as u8, None)
            })
            .collect();
        delta(time, changes, tag_changes)
    }

    proptest::proptest! {
        /// Folding the flushes between states S0..Sn gives the flush from S0 to Sn: the same count
        /// changes exactly, and tag changes that take S0 to Sn (possibly restating unchanged tags).
        #[test]
        fn folding_flushes_equals_one_flush_over_the_whole_span(
            states in proptest::collection::vec(proptest::collection::vec(0usize..5, 6), 2..12)
        ) {
            let mut held = Held::default();
            for (i, pair) in states.windows(2).enumerate() {
                let d = diff(i as u64, &pair[0], &pair[1]);
                if !(d.changes.is_empty() && d.tag_changes.is_empty()) {
                    held.hold_delta(d);
                }
            }
            let (first, last) = (&states[0], &states[states.len() - 1]);
            let whole = diff(0, first, last);
            match held.take_delta() {
                None => proptest::prop_assert!(whole.changes.is_empty() && whole.tag_changes.is_empty()),
                Some(folded) => {
                    proptest::prop_assert_eq!(&folded.changes, &whole.changes);
                    let mut state = first.clone();
                    for t in &folded.tag_changes {
                        let k = usize::from(t.epc.as_bytes()[11]);
                        let place = t.placement.as_ref().map(|p| (&*p.zone, &*p.sku));
                        state[k] = PLACES.iter().position(|&q| q == place).unwrap();
                    }
                    proptest::prop_assert_eq!(&state, last);
                }
            }
        }
    }

    #[test]
    fn acks_stay_sorted_and_unique_when_given_back() {
        let mut held = Held::default();
        held.hold_acks(vec![4, 5]);
        held.hold_acks(vec![6]);
        assert_eq!(held.take_acks(), vec![4, 5, 6]);
        held.hold_acks(vec![7, 8]);
        // A failed write gives back what it took, after newer acks arrived.
        held.hold_acks(vec![4, 5, 6]);
        held.hold_acks(vec![8]);
        assert_eq!(held.take_acks(), vec![4, 5, 6, 7, 8]);
    }

    #[test]
    fn retries_wait_for_the_cadence_and_status_shows_what_is_held() {
        let t0 = Instant::now();
        let mut held = Held::default();
        assert!(!held.waiting(t0));
        assert_eq!(held.status(), None);
        held.hold_delta(delta(
            1,
            vec![change("a", "x", 1, 1)],
            vec![tag(1, Some("a"))],
        ));
        held.hold_acks(vec![3]);
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let db = Path::new("/state/tagtally.redb");
        let wall = SystemTime::UNIX_EPOCH;
        assert_eq!(held.failed(db, &full, 2, t0, wall), Said::First);
        assert!(held.is_full());
        assert!(held.waiting(t0 + RETRY_EVERY / 2));
        assert!(!held.waiting(t0 + RETRY_EVERY));
        assert_eq!(
            held.failed(db, &full, 2, t0 + RETRY_EVERY, wall),
            Said::Quiet
        );
        assert!(held.waiting(t0 + RETRY_EVERY + RETRY_EVERY / 2));
        let status = held.status().unwrap();
        assert_eq!(status.since, SystemTime::UNIX_EPOCH);
        assert_eq!(
            (status.held_changes, status.held_tags, status.held_acks),
            (1, 1, 1)
        );
        assert_eq!(status.retries, 1);
        held.recovered(3, t0 + RETRY_EVERY * 3);
        assert!(!held.is_full());
        assert_eq!(held.status(), None);
    }

    #[test]
    fn the_log_says_it_once_then_reminds_every_five_minutes() {
        let t0 = Instant::now();
        let mut held = Held::default();
        let full = std::io::Error::from_raw_os_error(28);
        let db = Path::new("/state/tagtally.redb");
        let wall = SystemTime::UNIX_EPOCH;
        let said: Vec<Said> = (0..=120)
            .map(|k| held.failed(db, &full, 7, t0 + RETRY_EVERY * k, wall))
            .collect();
        assert_eq!(said[0], Said::First);
        let reminders: Vec<usize> = (0..said.len())
            .filter(|&k| said[k] == Said::Reminder)
            .collect();
        // 10 minutes of retries every 5 s: a reminder at 5 and at 10 minutes, debug in between.
        assert_eq!(reminders, vec![60, 120]);
        assert_eq!(said.iter().filter(|s| **s == Said::First).count(), 1);
        held.recovered(7, t0 + RETRY_EVERY * 121);
        assert_eq!(
            held.failed(db, &full, 7, t0 + RETRY_EVERY * 122, wall),
            Said::First
        );
    }
}
