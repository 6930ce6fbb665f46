//! The two clocks a session needs at one instant: monotonic for deadlines, UTC for stamping reads.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::Micros;

/// One moment as seen by both clocks. Sessions never read a clock themselves: the task captures
/// a `Now` and hands it in, so unit tests can drive a session through any timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// For deadlines and silence detection; immune to wall-clock steps.
    pub instant: Instant,
    /// For the time of reads (serial readers have no UTC clock: read time = receive time).
    pub utc: Micros,
}

impl Now {
    /// Reads both clocks.
    pub fn capture() -> Self {
        let utc = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        Self {
            instant: Instant::now(),
            utc: Micros(utc),
        }
    }

    /// The same moment shifted by `elapsed` on both clocks (for tests and simulations).
    pub fn advanced(self, elapsed: std::time::Duration) -> Self {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        Self {
            instant: self.instant + elapsed,
            utc: Micros(self.utc.0.saturating_add(micros)),
        }
    }
}
