//! Reconnect delays: capped exponential backoff with jitter, pure so tests pass the randomness in.
//!
//! A fleet of stores that lost the same broker must not reconnect in lock-step when it returns,
//! so every delay is drawn from [d/2, d] ("equal jitter"): spread out, yet never near zero, which
//! keeps a broker that rejects us (bad password, wrong CA) from being hammered.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Bounds of the reconnect delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffSettings {
    /// Delay scale of the first retry.
    pub min: Duration,
    /// Cap of the delay.
    pub max: Duration,
}

impl Default for BackoffSettings {
    fn default() -> Self {
        BackoffSettings {
            min: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

/// Backoff state: how many attempts failed in a row.
#[derive(Debug, Clone)]
pub struct Backoff {
    settings: BackoffSettings,
    failures: u32,
}

impl Backoff {
    /// A fresh backoff (the next delay is about `min`).
    pub fn new(settings: BackoffSettings) -> Backoff {
        Backoff {
            settings,
            failures: 0,
        }
    }

    /// Forgets earlier failures; called once a connection proved stable.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The delay before the next attempt, given a random number; counts one more failure.
    pub fn next_delay(&mut self, random: u64) -> Duration {
        let BackoffSettings { min, max } = self.settings;
        // 2^20 × min is far beyond any sensible cap; stopping the exponent there avoids overflow.
        let factor = 1u32 << self.failures.min(20);
        let ceiling = min.saturating_mul(factor).min(max);
        self.failures = self.failures.saturating_add(1);
        let half = ceiling / 2;
        let span = (ceiling - half).as_nanos() as u64;
        half + Duration::from_nanos(random % span.saturating_add(1))
    }
}

/// A random number for jitter without a dependency: std's `RandomState` is seeded from the OS
/// and perturbed per instance, which is plenty for spreading reconnects.
pub fn jitter_random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x7461_6774_616c_6c79);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(min_ms: u64, max_ms: u64) -> BackoffSettings {
        BackoffSettings {
            min: Duration::from_millis(min_ms),
            max: Duration::from_millis(max_ms),
        }
    }

    #[test]
    fn grows_doubling_then_caps() {
        let mut b = Backoff::new(settings(100, 1000));
        // random = u64::MAX % (span + 1) is not the top; use the ceiling directly via a big span hit.
        let ceilings: Vec<Duration> = (0..8)
            .map(|_| {
                let mut probe = b.clone();
                let top = probe.next_delay(u64::MAX - 1);
                let bottom = b.next_delay(0);
                assert!(bottom <= top);
                bottom * 2
            })
            .collect();
        let ms: Vec<u128> = ceilings.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    }

    #[test]
    fn delay_stays_within_half_and_full_ceiling() {
        for random in [0, 1, 12_345, u64::MAX / 3, u64::MAX] {
            let mut b = Backoff::new(settings(1000, 60_000));
            for failures in 0..40 {
                let ceiling = Duration::from_millis(1000)
                    .saturating_mul(1 << failures.min(20))
                    .min(Duration::from_secs(60));
                let d = b.next_delay(random);
                assert!(d >= ceiling / 2 && d <= ceiling, "{d:?} vs {ceiling:?}");
            }
        }
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(settings(100, 10_000));
        for _ in 0..10 {
            b.next_delay(7);
        }
        assert_eq!(b.failures(), 10);
        b.reset();
        assert!(b.next_delay(u64::MAX) <= Duration::from_millis(100));
    }

    #[test]
    fn jitter_varies() {
        let draws: std::collections::HashSet<u64> = (0..16).map(|_| jitter_random()).collect();
        assert!(draws.len() > 1);
    }
}
