//! What a serial session tells downstream about its link: up/down transitions said once,
//! cumulative counters sent at most once a period and only when they changed, and that the reader
//! is heard ([`HeardLimiter`], which the LLRP session shares).

use std::time::{Duration, Instant};

use crate::{DriverCounters, DriverEvent, DriverOutput, ReaderId, ReaderInfo};

/// How often changed counters are reported at most.
pub const COUNTERS_PERIOD: Duration = Duration::from_secs(1);

/// How often a live reader is reported heard at most ([`DriverEvent::Heard`]).
///
/// Departures wait for the engine to know a reader was heard after a tag's `depart-after` ran out, so
/// this is the most a departure is delayed by the limit (flushes come every `flush-interval`, 1 s by
/// default, anyway); four events a second per reader cost the daemon nothing.
pub const HEARD_PERIOD: Duration = Duration::from_millis(250);

/// Says "heard" at most once per [`HEARD_PERIOD`]: one comparison per frame, nothing allocated.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeardLimiter {
    /// No `Heard` before this instant; `None` once reset.
    quiet_until: Option<Instant>,
}

impl HeardLimiter {
    /// Whether a frame received at `now` should be reported as `Heard`.
    #[inline]
    pub fn allow(&mut self, now: Instant) -> bool {
        if self.quiet_until.is_some_and(|until| now < until) {
            return false;
        }
        self.quiet_until = Some(now + HEARD_PERIOD);
        true
    }

    /// A new link: its first frame is reported at once.
    pub fn reset(&mut self) {
        self.quiet_until = None;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Announced {
    /// Nothing said yet (start-up).
    Nothing,
    Up,
    Down,
}

/// Link state and counters of one reader, as the daemon has been told them.
#[derive(Debug)]
pub struct LinkReport {
    reader: ReaderId,
    announced: Announced,
    counters: DriverCounters,
    reported: DriverCounters,
    next_counters: Option<Instant>,
    heard: HeardLimiter,
}

impl LinkReport {
    pub fn new(reader: ReaderId) -> Self {
        Self {
            reader,
            announced: Announced::Nothing,
            counters: DriverCounters::default(),
            reported: DriverCounters::default(),
            next_counters: None,
            heard: HeardLimiter::default(),
        }
    }

    pub fn reader(&self) -> ReaderId {
        self.reader
    }

    /// The counters as they are now (not necessarily reported yet).
    pub fn counters(&self) -> DriverCounters {
        self.counters
    }

    /// Adds delivered reads.
    pub fn add_reads(&mut self, reads: usize, now: Instant) {
        self.counters.reads += reads as u64;
        self.schedule(now);
    }

    /// Sets the drop counters from the deframer's cumulative stats plus the session's own
    /// undecodable frames.
    pub fn set_drops(&mut self, frames_dropped: u64, bytes_discarded: u64, now: Instant) {
        if (frames_dropped, bytes_discarded)
            != (self.counters.frames_dropped, self.counters.bytes_discarded)
        {
            self.counters.frames_dropped = frames_dropped;
            self.counters.bytes_discarded = bytes_discarded;
            self.schedule(now);
        }
    }

    /// A valid frame came from the reader at `now`: a `Heard` while the link is up, rate-limited.
    pub fn heard(&mut self, now: Instant) -> Option<DriverOutput> {
        (self.announced == Announced::Up && self.heard.allow(now)).then_some(DriverOutput::Event(
            DriverEvent::Heard {
                reader: self.reader,
            },
        ))
    }

    /// The session is established: a `LinkUp` (always, since setup ran again) and fresh counters.
    pub fn up(&mut self, info: ReaderInfo) -> [DriverOutput; 2] {
        self.announced = Announced::Up;
        self.heard.reset();
        self.counters.connects += 1;
        [
            DriverOutput::Event(DriverEvent::LinkUp {
                reader: self.reader,
                info,
            }),
            self.counters_now(),
        ]
    }

    /// The link is gone or could not be made: a `LinkDown` unless one was already said since
    /// the last `LinkUp` (reconnect attempts do not repeat it), and counters when it was up.
    pub fn down(&mut self, reason: &str) -> Vec<DriverOutput> {
        let mut out = Vec::new();
        let was_up = self.announced == Announced::Up;
        if self.announced != Announced::Down {
            self.announced = Announced::Down;
            out.push(DriverOutput::Event(DriverEvent::LinkDown {
                reader: self.reader,
                reason: reason.to_owned(),
            }));
        }
        if was_up {
            self.counters.disconnects += 1;
        } else {
            self.counters.failed_connects += 1;
        }
        out.push(self.counters_now());
        out
    }

    /// When changed counters are due to be reported.
    pub fn deadline(&self) -> Option<Instant> {
        self.next_counters
    }

    /// The counters event when it is due.
    pub fn on_timer(&mut self, now: Instant) -> Option<DriverOutput> {
        match self.next_counters {
            Some(due) if due <= now => Some(self.counters_now()),
            _ => None,
        }
    }

    fn schedule(&mut self, now: Instant) {
        if self.next_counters.is_none() && self.counters != self.reported {
            self.next_counters = Some(now + COUNTERS_PERIOD);
        }
    }

    fn counters_now(&mut self) -> DriverOutput {
        self.reported = self.counters;
        self.next_counters = None;
        DriverOutput::Event(DriverEvent::Counters {
            reader: self.reader,
            counters: self.counters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(out: &[DriverOutput]) -> Vec<&'static str> {
        out.iter()
            .map(|o| match o {
                DriverOutput::Event(DriverEvent::LinkUp { .. }) => "up",
                DriverOutput::Event(DriverEvent::LinkDown { .. }) => "down",
                DriverOutput::Event(DriverEvent::Counters { .. }) => "counters",
                DriverOutput::Event(DriverEvent::Heard { .. }) => "heard",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn down_is_said_once_per_outage_and_every_failed_attempt_is_counted() {
        let mut link = LinkReport::new(ReaderId(0));
        assert_eq!(kinds(&link.down("cannot open")), ["down", "counters"]);
        assert_eq!(kinds(&link.down("cannot open again")), ["counters"]);
        assert_eq!(link.counters().failed_connects, 2);
        assert_eq!(kinds(&link.up(ReaderInfo::default())), ["up", "counters"]);
        assert_eq!(kinds(&link.down("eof")), ["down", "counters"]);
        assert_eq!(link.counters().connects, 1);
        assert_eq!(link.counters().disconnects, 1);
        assert_eq!(
            link.counters().failed_connects,
            2,
            "a lost link is no failed attempt"
        );
    }

    #[test]
    fn counters_are_reported_a_period_after_they_change() {
        let t0 = Instant::now();
        let mut link = LinkReport::new(ReaderId(0));
        assert_eq!(link.deadline(), None);
        link.add_reads(3, t0);
        link.add_reads(2, t0 + Duration::from_millis(10));
        assert_eq!(link.deadline(), Some(t0 + COUNTERS_PERIOD));
        assert!(link.on_timer(t0).is_none());
        let Some(DriverOutput::Event(DriverEvent::Counters { counters, .. })) =
            link.on_timer(t0 + COUNTERS_PERIOD)
        else {
            panic!("counters due");
        };
        assert_eq!(counters.reads, 5);
        assert_eq!(link.deadline(), None);
        link.set_drops(0, 0, t0);
        assert_eq!(link.deadline(), None, "nothing changed");
    }

    #[test]
    fn heard_only_while_up_and_at_most_once_a_period() {
        let t0 = Instant::now();
        let ms = |m: u64| t0 + Duration::from_millis(m);
        let mut link = LinkReport::new(ReaderId(3));
        assert!(link.heard(t0).is_none(), "not up yet");
        link.up(ReaderInfo::default());
        assert_eq!(
            link.heard(ms(1)),
            Some(DriverOutput::Event(DriverEvent::Heard {
                reader: ReaderId(3)
            }))
        );
        assert!(link.heard(ms(2)).is_none());
        assert!(link.heard(ms(250)).is_none());
        assert!(link.heard(ms(251)).is_some(), "a period after the last one");
        link.down("eof");
        assert!(link.heard(ms(900)).is_none(), "down");
        link.up(ReaderInfo::default());
        assert!(link.heard(ms(901)).is_some(), "a new link says it at once");
    }

    #[test]
    fn heard_limiter_spaces_reports_by_the_period() {
        let t0 = Instant::now();
        let mut limiter = HeardLimiter::default();
        let allowed = (0..1000u64)
            .filter(|i| limiter.allow(t0 + Duration::from_millis(i * 10)))
            .count();
        // Frames every 10 ms for 10 s: the first frame at or after each period, so one every 250 ms.
        assert_eq!(allowed, 40);
        limiter.reset();
        assert!(limiter.allow(t0 + Duration::from_millis(9995)));
    }
}
