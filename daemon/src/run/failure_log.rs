//! Failed attempts to reach readers in the journal: each reader's line at most once a period, and all readers' lines within one budget per period, so a config of thousands of unreachable readers cannot flood the journal (every count stays in `tagtally readers` and the metrics).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::warn;

/// A reader's failed attempts are logged at most once per this period.
pub const FAILURE_LOG_PERIOD: Duration = Duration::from_secs(60);

/// Lines about failed attempts, all readers together, per period.
pub const FAILURE_LINES_PER_PERIOD: u32 = 20;

/// The budget every reader's [`FailureLog`] draws from.
#[derive(Debug, Default)]
pub struct FailureBudget {
    state: Mutex<BudgetState>,
}

#[derive(Debug, Default)]
struct BudgetState {
    period_start: Option<Instant>,
    lines: u32,
    /// Readers whose line was held back in the current period.
    held_back: u64,
}

impl FailureBudget {
    /// A budget to share among the readers of one daemon.
    pub fn shared() -> Arc<FailureBudget> {
        Arc::new(FailureBudget::default())
    }

    /// Whether one more reader's line may be written at `now`; and, when `now` opens a new period,
    /// how many readers' lines the last one held back.
    fn admit(&self, now: Instant) -> (bool, u64) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut held_back_before = 0;
        if s.period_start
            .is_none_or(|start| now.saturating_duration_since(start) >= FAILURE_LOG_PERIOD)
        {
            held_back_before = std::mem::take(&mut s.held_back);
            s.period_start = Some(now);
            s.lines = 0;
        }
        if s.lines < FAILURE_LINES_PER_PERIOD {
            s.lines += 1;
            (true, held_back_before)
        } else {
            s.held_back += 1;
            (false, held_back_before)
        }
    }
}

/// What was last said about one reader's failed connection attempts.
#[derive(Debug)]
pub struct FailureLog {
    budget: Arc<FailureBudget>,
    logged: u64,
    at: Option<Instant>,
}

impl FailureLog {
    /// A reader's log, drawing from `budget`.
    pub fn new(budget: Arc<FailureBudget>) -> FailureLog {
        FailureLog {
            budget,
            logged: 0,
            at: None,
        }
    }

    /// Logs failed attempts (counted by the driver) since the last line, at most once a period
    /// and within the shared budget.
    pub fn counters(&mut self, failed: u64) {
        self.counters_at(failed, Instant::now());
    }

    /// [`FailureLog::counters`] at `now`; returns whether a line about this reader was written.
    fn counters_at(&mut self, failed: u64, now: Instant) -> bool {
        // A restarted driver counts from zero again.
        if failed < self.logged {
            self.logged = 0;
        }
        let due = self
            .at
            .is_none_or(|at| now.saturating_duration_since(at) >= FAILURE_LOG_PERIOD);
        if failed <= self.logged || !due {
            return false;
        }
        let (admitted, held_back) = self.budget.admit(now);
        if held_back > 0 {
            warn!(
                readers = held_back,
                "failed attempts of more readers were not logged in the last period; tagtally readers shows every count"
            );
        }
        // Held back or not, this reader waits a whole period before its next line.
        self.at = Some(now);
        if !admitted {
            return false;
        }
        warn!(
            failed = failed - self.logged,
            total = failed,
            "attempts to reach the reader failed"
        );
        self.logged = failed;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_reader_per_period_and_a_bounded_number_for_all() {
        let budget = FailureBudget::shared();
        let t0 = Instant::now();
        let mut readers: Vec<FailureLog> = (0..100)
            .map(|_| FailureLog::new(Arc::clone(&budget)))
            .collect();
        let written = |readers: &mut Vec<FailureLog>, failed: u64, at: Instant| {
            readers
                .iter_mut()
                .map(|r| usize::from(r.counters_at(failed, at)))
                .sum::<usize>()
        };
        assert_eq!(
            written(&mut readers, 1, t0),
            FAILURE_LINES_PER_PERIOD as usize,
            "a hundred readers failing at once: only the budget's lines"
        );
        // Within the period nothing more, however often they fail.
        assert_eq!(written(&mut readers, 5, t0 + Duration::from_secs(30)), 0);
        // The next period: the budget again, and the readers held back get their turn first
        // only through the shared budget (their counts include every failure since).
        let next = t0 + FAILURE_LOG_PERIOD;
        assert_eq!(
            written(&mut readers, 9, next),
            FAILURE_LINES_PER_PERIOD as usize
        );
        let logged: Vec<u64> = readers.iter().map(|r| r.logged).collect();
        assert!(logged.iter().all(|&n| n == 0 || n == 1 || n == 9));
    }

    #[test]
    fn a_single_reader_is_logged_once_a_period_with_what_failed_since() {
        let budget = FailureBudget::shared();
        let t0 = Instant::now();
        let mut log = FailureLog::new(budget);
        assert!(log.counters_at(1, t0));
        assert!(!log.counters_at(7, t0 + Duration::from_secs(59)));
        assert!(log.counters_at(7, t0 + FAILURE_LOG_PERIOD));
        assert_eq!(log.logged, 7);
        // A restarted driver counts from zero: its new failures are logged again.
        assert!(log.counters_at(2, t0 + 2 * FAILURE_LOG_PERIOD));
        assert_eq!(log.logged, 2);
    }
}
