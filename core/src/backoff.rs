//! Capped exponential backoff with full jitter: the one reconnect delay of every reader session and the uplink.
//!
//! Each delay is drawn uniformly from `[0, ceiling]`, the ceiling doubling from `initial` up to `max`
//! ("full jitter", AWS Architecture Blog, "Exponential Backoff And Jitter"): a fleet of stores or
//! readers dropped by the same outage spreads its retries over the whole window instead of
//! returning in lock-step. The randomness is a seeded generator, so a test that fixes the seed
//! gets the same delays every run; production seeds it from the process's random source.

use std::time::Duration;

/// The bounds of a backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The ceiling of the first delay.
    pub initial: Duration,
    /// The ceiling stops growing here.
    pub max: Duration,
}

impl BackoffPolicy {
    /// SPEC §7: 1 s doubling to 60 s.
    pub const STANDARD: BackoffPolicy = BackoffPolicy {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self::STANDARD
    }
}

/// Delays for one link: how many attempts failed in a row, and the jitter source.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    /// A fresh backoff under `policy`, its jitter drawn from a generator seeded with `seed`.
    pub fn new(policy: BackoffPolicy, seed: u64) -> Self {
        Self {
            policy,
            attempt: 0,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// The ceiling of the next delay: `initial × 2^attempts`, at most `max` (and never below `initial`).
    pub fn ceiling(&self) -> Duration {
        let BackoffPolicy { initial, max } = self.policy;
        // 2^20 × initial is far beyond any sensible cap; stopping the exponent there avoids overflow.
        initial
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(max.max(initial))
    }

    /// The delay before the next attempt, uniform in `[0, ceiling]`; counts one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.rng.u64(..=nanos))
    }

    /// The link proved healthy: the next failure starts from `initial` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Failures in a row since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(initial_ms: u64, max_ms: u64) -> BackoffPolicy {
        BackoffPolicy {
            initial: Duration::from_millis(initial_ms),
            max: Duration::from_millis(max_ms),
        }
    }

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut b = Backoff::new(BackoffPolicy::STANDARD, 1);
        let mut ceilings = Vec::new();
        for _ in 0..9 {
            ceilings.push(b.ceiling().as_secs());
            b.next_delay();
        }
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn delays_spread_over_the_whole_window() {
        // Full jitter: draws land in [0, ceiling], and use all of it, not only its upper half.
        let mut low = false;
        let mut high = false;
        for seed in 0..200 {
            let mut b = Backoff::new(policy(1000, 1000), seed);
            let d = b.next_delay();
            assert!(d <= Duration::from_secs(1), "{d:?}");
            low |= d < Duration::from_millis(250);
            high |= d > Duration::from_millis(750);
        }
        assert!(low && high, "full jitter reaches both ends of the window");
    }

    #[test]
    fn never_overflows_after_many_attempts() {
        let mut b = Backoff::new(BackoffPolicy::STANDARD, 7);
        for _ in 0..10_000 {
            assert!(b.next_delay() <= Duration::from_secs(60));
        }
        let mut huge = Backoff::new(policy(u64::MAX / 4, u64::MAX), 7);
        for _ in 0..64 {
            huge.next_delay();
        }
    }

    #[test]
    fn reset_starts_over_and_a_seed_replays() {
        let mut b = Backoff::new(policy(100, 10_000), 3);
        for _ in 0..10 {
            b.next_delay();
        }
        assert_eq!(b.attempts(), 10);
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_millis(100));
        let draws = |seed| {
            let mut b = Backoff::new(BackoffPolicy::STANDARD, seed);
            (0..5).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(draws(9), draws(9));
        assert_ne!(draws(9), draws(10));
    }

    #[test]
    fn a_cap_below_initial_is_raised_to_it() {
        let b = Backoff::new(policy(500, 100), 0);
        assert_eq!(b.ceiling(), Duration::from_millis(500));
    }
}
