//! Capped exponential reconnect backoff with full jitter (1 s → 60 s by default), pure and deterministic given a random source.

use std::time::Duration;

/// Reconnect delays for one reader: doubling from `initial` up to `max`, each drawn uniformly from
/// `[delay/2, delay]` so that many readers dropped by one switch reboot don't reconnect in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// The SPEC §7 default: 1 s doubling to 60 s.
    pub fn standard() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }

    /// A backoff from `initial` doubling up to `max` (`max` is raised to `initial` if smaller).
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The delay before the next attempt; `random` is any uniformly distributed `u32` (jitter source).
    pub fn next_delay(&mut self, random: u32) -> Duration {
        let ceiling = self
            .initial
            .checked_mul(1u32.checked_shl(self.attempt).unwrap_or(u32::MAX))
            .map_or(self.max, |d| d.min(self.max));
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        let span = ceiling - half;
        half + span.mul_f64(f64::from(random) / f64::from(u32::MAX))
    }

    /// Call once a link has been up long enough to count as healthy: the next failure starts at `initial`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Attempts made since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// A fresh jitter value from the process's random source (no extra dependency needed).
pub fn jitter() -> u32 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_within_jitter_bounds() {
        let mut b = Backoff::standard();
        let expected_ceilings = [1, 2, 4, 8, 16, 32, 60, 60, 60];
        for ceiling in expected_ceilings {
            let lo = b.clone().next_delay(0);
            let hi = b.clone().next_delay(u32::MAX);
            assert_eq!(lo, Duration::from_secs(ceiling) / 2);
            assert_eq!(hi, Duration::from_secs(ceiling));
            b.next_delay(7);
        }
    }

    #[test]
    fn never_overflows_after_many_attempts() {
        let mut b = Backoff::standard();
        for _ in 0..10_000 {
            assert!(b.next_delay(u32::MAX) <= Duration::from_secs(60));
        }
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::standard();
        for _ in 0..5 {
            b.next_delay(0);
        }
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert_eq!(b.next_delay(u32::MAX), Duration::from_secs(1));
    }
}
