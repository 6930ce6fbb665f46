//! What `tagtally bench hq` measured: latencies as percentiles, rates, and the final check.

use serde::Serialize;
use std::time::Duration;

/// Percentiles of a set of durations, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub samples: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (empty: all zero).
    pub fn of(mut samples: Vec<Duration>) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            let index = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
            round(samples[index].as_secs_f64() * 1000.0)
        };
        Percentiles {
            samples: samples.len(),
            p50_ms: rank(0.50),
            p90_ms: rank(0.90),
            p99_ms: rank(0.99),
            max_ms: rank(1.0),
        }
    }
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The steady window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SteadyReport {
    /// Its length in seconds.
    pub seconds: f64,
    /// Deltas published in it.
    pub deltas_published: u64,
    /// Deltas committed per second in it (counted by commit time).
    pub deltas_committed_per_sec: f64,
    /// Publish → commit of every delta published in it, as PostgreSQL timed the commit.
    pub delta_latency: Percentiles,
    /// Deltas published in it that were never committed as deltas (a wipe superseded them,
    /// or a snapshot covered them).
    pub deltas_not_committed: usize,
    /// Publish → applied (transaction start) of the periodic snapshots published in it.
    pub snapshot_latency: Percentiles,
    /// Faults injected: lost deltas, duplicates, restarts, wipes.
    pub lost: u64,
    /// Duplicated deltas.
    pub duplicated: u64,
    /// Restarts with a late `offline`.
    pub restarts: u64,
    /// Wipes.
    pub wipes: u64,
}

/// The outage and its catch-up.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutageReport {
    /// How long every instance was down, seconds.
    pub seconds: f64,
    /// Deltas the stores published meanwhile.
    pub backlog_deltas: u64,
    /// From starting the instances again until every store's applied seq reached its seq of
    /// that moment, seconds.
    pub catch_up_seconds: f64,
    /// Deltas committed in that time (the backlog and the live load together), per second.
    pub catch_up_deltas_per_sec: f64,
    /// Deltas committed in that time.
    pub catch_up_deltas: u64,
}

/// The whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HqBenchReport {
    /// Stores.
    pub stores: usize,
    /// Deltas per second per store.
    pub rate: f64,
    /// Service instances.
    pub instances: usize,
    /// Snapshot interval per store, seconds.
    pub snapshot_interval_seconds: f64,
    /// Pairs each store starts with.
    pub initial_pairs: u32,
    /// The steady window.
    pub steady: SteadyReport,
    /// The outage, if one was run.
    pub outage: Option<OutageReport>,
    /// Stores whose database epoch, seq and stock equal the truth at the end.
    pub stores_equal: usize,
    /// What differed (empty when every store agrees).
    pub differences: Vec<String>,
    /// Messages the instances refused or the database refused (summed over `/metrics`).
    pub refusals: u64,
    /// Transactions that failed and were retried (summed over `/metrics`).
    pub batch_failures: u64,
    /// Broker connections the instances lost after the last start (a missed keep-alive among
    /// them; summed over `/metrics`).
    pub connections_lost: u64,
    /// Connections the instances closed on purpose after the last start, to be sent again
    /// what they had left with the broker beyond `read-ahead-bytes`.
    pub reconnects_on_purpose: u64,
    /// Messages left with the broker beyond `read-ahead-bytes` after the last start.
    pub messages_left_with_broker: u64,
    /// Where the run's files (configs, logs) are, when kept.
    pub kept_dir: Option<String>,
}

/// SPEC §8's HQ row: p99 broker → committed.
pub const BUDGET_P99_MS: f64 = 500.0;
/// SPEC §8's HQ row: catch-up rate after an outage.
pub const BUDGET_CATCH_UP_PER_SEC: f64 = 2000.0;

impl HqBenchReport {
    /// Each SPEC §8 budget this run missed, said with the measured value and the budget
    /// (empty when every measured one was met; the catch-up counts only when an outage ran).
    pub fn budgets_missed(&self) -> Vec<String> {
        let mut missed = Vec::new();
        let p99 = self.steady.delta_latency.p99_ms;
        if p99 > BUDGET_P99_MS {
            missed.push(format!(
                "p99 publish -> commit {p99} ms is over the {BUDGET_P99_MS} ms budget"
            ));
        }
        if let Some(outage) = &self.outage {
            let rate = outage.catch_up_deltas_per_sec;
            if rate < BUDGET_CATCH_UP_PER_SEC {
                missed.push(format!(
                    "catch-up {rate} deltas/s is under the {BUDGET_CATCH_UP_PER_SEC} deltas/s budget"
                ));
            }
        }
        missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_missed_budget_is_named_with_its_value() {
        let mut report = HqBenchReport::default();
        report.steady.delta_latency.p99_ms = 500.0;
        assert!(report.budgets_missed().is_empty(), "500 ms is within");
        report.steady.delta_latency.p99_ms = 1029.0;
        report.outage = Some(OutageReport {
            catch_up_deltas_per_sec: 1224.0,
            ..OutageReport::default()
        });
        let missed = report.budgets_missed();
        assert_eq!(missed.len(), 2, "{missed:?}");
        assert!(missed[0].contains("1029 ms"), "{missed:?}");
        assert!(missed[1].contains("1224 deltas/s"), "{missed:?}");
        report.outage = Some(OutageReport {
            catch_up_deltas_per_sec: 2000.0,
            ..OutageReport::default()
        });
        assert_eq!(report.budgets_missed().len(), 1);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(samples);
        assert_eq!(p.samples, 100);
        assert_eq!(p.p50_ms, 50.0);
        assert_eq!(p.p99_ms, 99.0);
        assert_eq!(p.max_ms, 100.0);
        assert_eq!(Percentiles::of(Vec::new()), Percentiles::default());
    }
}
