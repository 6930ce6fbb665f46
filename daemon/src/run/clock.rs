//! The daemon's one clock: UTC at start-up plus monotonic time since, so it never runs backwards.
//!
//! The engine takes `now` from here (it never reads a clock itself). Anchoring UTC once means an NTP step
//! while running cannot make tags depart early or freeze their timers; the cost is drift from wall time
//! over very long uptimes, which only shifts published timestamps by the same small amount.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tagtally_reader_drivers::Micros;

/// UTC microseconds that only move forward.
#[derive(Debug, Clone, Copy)]
pub struct DaemonClock {
    start: Instant,
    start_utc: u64,
}

impl DaemonClock {
    /// Anchors the clock at the current wall time.
    pub fn start() -> Self {
        let start_utc = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        DaemonClock {
            start: Instant::now(),
            start_utc,
        }
    }

    /// Now, in UTC microseconds.
    pub fn now(&self) -> Micros {
        let since = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        Micros(self.start_utc.saturating_add(since))
    }

    /// When the daemon started.
    pub fn started_at(&self) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_micros(self.start_utc)
    }

    /// `t` as a wall-clock time.
    pub fn system_time(t: Micros) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_micros(t.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_runs_backwards() {
        let c = DaemonClock::start();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(DaemonClock::system_time(a) >= c.started_at());
    }
}
