//! The daemon's two times: the engine's timeline, which only moves forward, and published times,
//! which follow the wall clock.
//!
//! The engine takes `now` from the timeline ([`DaemonClock`]): UTC at start-up plus monotonic time
//! since, so an NTP step while running can neither make tags depart early nor freeze their timers.
//! What leaves the daemon with a time on it (deltas, snapshots, `tail`) must instead say what the
//! wall clock says: a gateway without a battery-backed clock often starts before NTP has set the
//! time, and an anchor taken then would be wrong for the whole run. [`WallAnchor`] keeps published
//! times as the timeline plus an offset and re-measures that offset whenever the wall clock is seen
//! to have stepped away from it (more than [`STEP_THRESHOLD`]), which the engine task logs.
//! Slewing moves both clocks alike (Linux applies NTP frequency corrections to the monotonic clock
//! too), so between steps the offset holds.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tagtally_reader_drivers::Micros;

/// A gap between the wall clock and the anchored published time beyond which the wall clock is taken
/// to have stepped. Both are read back to back, so scheduling delay cannot come near it; any step
/// smaller than this leaves published times off by less than it.
pub const STEP_THRESHOLD: Duration = Duration::from_millis(100);

/// The engine's timeline: UTC microseconds that only move forward.
#[derive(Debug, Clone, Copy)]
pub struct DaemonClock {
    start: Instant,
    start_utc: u64,
}

impl DaemonClock {
    /// Anchors the timeline at the current wall time.
    pub fn start() -> Self {
        DaemonClock {
            start: Instant::now(),
            start_utc: wall_micros(SystemTime::now()).0,
        }
    }

    /// Now on the timeline, in UTC microseconds as of the start.
    pub fn now(&self) -> Micros {
        let since = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        Micros(self.start_utc.saturating_add(since))
    }

    /// When the daemon started (wall time then).
    pub fn started_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.start_utc)
    }

    /// Time since the start, from the monotonic clock (unaffected by clock steps).
    pub fn uptime(&self) -> Duration {
        self.start.elapsed()
    }

    /// `t` as a wall-clock time.
    pub fn system_time(t: Micros) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(t.0)
    }
}

/// `t` as UTC microseconds (0 before 1970: a clock that far off is reported, not published).
pub fn wall_micros(t: SystemTime) -> Micros {
    Micros(
        t.duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
    )
}

/// A step of the wall clock, as the anchor saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockStep {
    /// Signed microseconds: positive when the wall clock jumped forward.
    pub by_micros: i64,
    /// The wall time after the step.
    pub at: Micros,
}

impl ClockStep {
    /// `+3h 2s` / `-250ms`, for the log.
    pub fn describe(&self) -> String {
        let sign = if self.by_micros < 0 { '-' } else { '+' };
        let by = Duration::from_micros(self.by_micros.unsigned_abs());
        // Whole milliseconds: the microseconds are noise from reading two clocks.
        let by = Duration::from_millis(u64::try_from(by.as_millis()).unwrap_or(u64::MAX));
        format!("{sign}{}", humantime::format_duration(by))
    }
}

/// Published times: the timeline plus an offset that follows the wall clock's steps.
#[derive(Debug, Clone)]
pub struct WallAnchor {
    /// Wall minus timeline, in microseconds.
    offset: i64,
    steps: u64,
    last_step: Option<ClockStep>,
}

impl WallAnchor {
    /// Anchored at one moment read on both clocks.
    pub fn new(timeline: Micros, wall: Micros) -> Self {
        WallAnchor {
            offset: difference(wall, timeline),
            steps: 0,
            last_step: None,
        }
    }

    /// The published time for `timeline`, given `wall` read at the same moment. When the two have
    /// drifted apart by more than [`STEP_THRESHOLD`], the wall clock stepped: the anchor moves to it
    /// and the step is returned (once) for the log.
    pub fn at(&mut self, timeline: Micros, wall: Micros) -> (Micros, Option<ClockStep>) {
        let anchored = shift(timeline, self.offset);
        let gap = difference(wall, anchored);
        if gap.unsigned_abs() <= STEP_THRESHOLD.as_micros() as u64 {
            return (anchored, None);
        }
        self.offset = difference(wall, timeline);
        self.steps += 1;
        let step = ClockStep {
            by_micros: gap,
            at: wall,
        };
        self.last_step = Some(step);
        (wall, Some(step))
    }

    /// Steps seen since the start.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The most recent step.
    pub fn last_step(&self) -> Option<ClockStep> {
        self.last_step
    }
}

/// `a - b` in microseconds, saturating.
fn difference(a: Micros, b: Micros) -> i64 {
    let a = i128::from(a.0);
    let b = i128::from(b.0);
    i64::try_from(a - b).unwrap_or(if a > b { i64::MAX } else { i64::MIN })
}

/// `t + by`, clamped to the representable range.
fn shift(t: Micros, by: i64) -> Micros {
    Micros(if by >= 0 {
        t.0.saturating_add(by.unsigned_abs())
    } else {
        t.0.saturating_sub(by.unsigned_abs())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000;

    #[test]
    fn the_timeline_never_runs_backwards() {
        let c = DaemonClock::start();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(DaemonClock::system_time(a) >= c.started_at());
    }

    /// A gateway that boots in 1970 (no battery-backed clock) and gets the time from NTP a minute later.
    #[test]
    fn a_step_re_anchors_published_times_and_timers_stay_monotonic() {
        let boot = Micros(5 * SEC);
        let mut anchor = WallAnchor::new(boot, boot);
        // Wall and timeline advance together: nothing to report.
        let (t, step) = anchor.at(Micros(65 * SEC), Micros(65 * SEC + 40_000));
        assert_eq!((t, step), (Micros(65 * SEC), None));

        // NTP steps the wall clock to 2026.
        let real = 1_796_000_000 * SEC;
        let (t, step) = anchor.at(Micros(66 * SEC), Micros(real));
        assert_eq!(
            t,
            Micros(real),
            "published time follows the wall clock at once"
        );
        let step = step.expect("the step is reported");
        assert_eq!(step.by_micros, (real - 66 * SEC) as i64);
        assert_eq!(step.at, Micros(real));
        assert_eq!(anchor.steps(), 1);

        // Later: the timeline (what timers run on) moved 10 s; so do published times, from the new
        // anchor, even if the wall clock is read with a little jitter. No second report.
        let (t, step) = anchor.at(Micros(76 * SEC), Micros(real + 10 * SEC + 30_000));
        assert_eq!((t, step), (Micros(real + 10 * SEC), None));
        assert_eq!(anchor.last_step().map(|s| s.at), Some(Micros(real)));
    }

    #[test]
    fn a_backward_step_is_followed_too() {
        let start = Micros(1_796_000_000 * SEC);
        let mut anchor = WallAnchor::new(start, start);
        let (t, step) = anchor.at(
            Micros(start.0 + 10 * SEC),
            Micros(start.0 + 10 * SEC - 3600 * SEC),
        );
        assert_eq!(t, Micros(start.0 + 10 * SEC - 3600 * SEC));
        let step = step.unwrap();
        assert_eq!(step.by_micros, -3600 * SEC as i64);
        assert_eq!(step.describe(), "-1h");
    }

    #[test]
    fn steps_within_the_threshold_are_not_steps() {
        let start = Micros(1_796_000_000 * SEC);
        let mut anchor = WallAnchor::new(start, start);
        let limit = STEP_THRESHOLD.as_micros() as u64;
        let (t, step) = anchor.at(Micros(start.0 + SEC), Micros(start.0 + SEC + limit));
        assert_eq!((t, step), (Micros(start.0 + SEC), None));
        let (_, step) = anchor.at(Micros(start.0 + SEC), Micros(start.0 + SEC + limit + 1));
        assert!(step.is_some());
    }

    #[test]
    fn a_step_reads_as_a_signed_duration() {
        let step = ClockStep {
            by_micros: (3 * 3600 + 2) * SEC as i64 + 123,
            at: Micros(0),
        };
        assert_eq!(step.describe(), "+3h 2s");
    }
}
