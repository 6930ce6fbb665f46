//! What a serial session tells downstream about its link: up/down transitions said once, and
//! cumulative counters sent at most once a period and only when they changed.

use std::time::{Duration, Instant};

use crate::{DriverCounters, DriverEvent, DriverOutput, ReaderId, ReaderInfo};

/// How often changed counters are reported at most.
pub const COUNTERS_PERIOD: Duration = Duration::from_secs(1);

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
}

impl LinkReport {
    pub fn new(reader: ReaderId) -> Self {
        Self {
            reader,
            announced: Announced::Nothing,
            counters: DriverCounters::default(),
            reported: DriverCounters::default(),
            next_counters: None,
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

    /// The session is established: a `LinkUp` (always, since setup ran again) and fresh counters.
    pub fn up(&mut self, info: ReaderInfo) -> [DriverOutput; 2] {
        self.announced = Announced::Up;
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
            out.push(self.counters_now());
        }
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
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn down_is_said_once_per_outage_and_counts_only_real_disconnects() {
        let mut link = LinkReport::new(ReaderId(0));
        assert_eq!(kinds(&link.down("cannot open")), ["down"]);
        assert!(link.down("cannot open again").is_empty());
        assert_eq!(kinds(&link.up(ReaderInfo::default())), ["up", "counters"]);
        assert_eq!(kinds(&link.down("eof")), ["down", "counters"]);
        assert_eq!(link.counters().connects, 1);
        assert_eq!(link.counters().disconnects, 1);
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
}
