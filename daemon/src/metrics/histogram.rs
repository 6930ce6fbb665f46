//! A fixed-bucket latency histogram, Prometheus style: cumulative counts per upper bound, a sum and a
//! count. Observing allocates nothing, so the engine task can time every commit.

use std::time::Duration;

/// Upper bounds in seconds: a commit ends in an fsync, ≈ 1–20 ms on a healthy disk; the top buckets
/// catch a disk in trouble (the flush interval is 1 s by default).
pub const COMMIT_BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Observations of a duration, counted per bucket of [`COMMIT_BUCKETS`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyHistogram {
    /// Observations at or below each bound (not cumulative; the exposition adds them up).
    per_bucket: [u64; COMMIT_BUCKETS.len()],
    count: u64,
    sum_secs: f64,
}

impl LatencyHistogram {
    /// Counts one observation.
    pub fn observe(&mut self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = COMMIT_BUCKETS.iter().position(|&bound| secs <= bound) {
            self.per_bucket[i] += 1;
        }
        self.count += 1;
        self.sum_secs += secs;
    }

    /// `(upper bound, observations at or below it)` for every bound, ascending; `+Inf` is [`Self::count`].
    pub fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let mut running = 0;
        COMMIT_BUCKETS
            .iter()
            .zip(self.per_bucket)
            .map(move |(&bound, n)| {
                running += n;
                (bound, running)
            })
    }

    /// Observations in all.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their sum in seconds.
    pub fn sum_secs(&self) -> f64 {
        self.sum_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_slow_ones_only_reach_inf() {
        let mut h = LatencyHistogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_millis(7));
        h.observe(Duration::from_secs(3));
        let buckets: Vec<(f64, u64)> = h.cumulative().collect();
        assert_eq!(buckets[0], (0.001, 2));
        assert_eq!(buckets[3], (0.01, 3));
        assert_eq!(buckets.last(), Some(&(2.5, 3)));
        assert_eq!(h.count(), 4);
        assert!((h.sum_secs() - 3.0085).abs() < 1e-9);
    }
}
