//! The departures ledger: which SKUs left for which reason lately, for `tagtally stock --departures`
//! (the shrink signal: departures no sale or count explains).
//!
//! Kept in memory from the daemon's start, at most [`MAX_DEPARTURES_KEPT`] departures (the oldest go
//! first); a window reaching further back than what is kept says from when it knows.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use tagtally_reader_drivers::Micros;

use crate::engine::{Departure, DepartureReason};

/// Most departures remembered (≈ 3 MB): a busy store's week of sales and departures.
pub const MAX_DEPARTURES_KEPT: usize = 100_000;

/// Departures per SKU and reason (see the module doc).
#[derive(Debug)]
pub struct DepartureLedger {
    kept: VecDeque<(Micros, Arc<str>, DepartureReason)>,
    /// Everything since this time is kept.
    complete_since: Micros,
}

/// One SKU's departures in a window: (unseen, sale, count).
pub type ReasonCounts = (u64, u64, u64);

impl DepartureLedger {
    /// An empty ledger, complete from `start` (the daemon's start).
    pub fn new(start: Micros) -> Self {
        DepartureLedger {
            kept: VecDeque::new(),
            complete_since: start,
        }
    }

    /// Records a flush's departures, decided at `now`.
    pub fn record(&mut self, now: Micros, departures: &[Departure]) {
        for d in departures {
            if self.kept.len() == MAX_DEPARTURES_KEPT {
                if let Some((at, _, _)) = self.kept.pop_front() {
                    self.complete_since = Micros(at.0.saturating_add(1));
                }
            }
            self.kept.push_back((now, Arc::clone(&d.sku), d.reason));
        }
    }

    /// Departures per SKU in the `window` before `now`, and from when the answer is complete.
    pub fn window(&self, now: Micros, window: u64) -> (Micros, BTreeMap<Arc<str>, ReasonCounts>) {
        let start = Micros(now.0.saturating_sub(window));
        let since = Micros(start.0.max(self.complete_since.0));
        let mut per_sku: BTreeMap<Arc<str>, ReasonCounts> = BTreeMap::new();
        for (at, sku, reason) in self.kept.iter().rev() {
            if *at < since {
                break;
            }
            let counts = per_sku.entry(Arc::clone(sku)).or_default();
            match reason {
                DepartureReason::Unseen => counts.0 += 1,
                DepartureReason::Sale => counts.1 += 1,
                DepartureReason::Count => counts.2 += 1,
            }
        }
        (since, per_sku)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagtally_reader_drivers::Epc;

    fn departure(sku: &str, reason: DepartureReason) -> Departure {
        Departure {
            epc: Epc::from_slice(&[0x30]).unwrap(),
            zone: "floor".into(),
            sku: sku.into(),
            reason,
        }
    }

    #[test]
    fn a_window_counts_per_sku_and_reason() {
        let mut l = DepartureLedger::new(Micros(100));
        l.record(Micros(200), &[departure("a", DepartureReason::Unseen)]);
        l.record(
            Micros(300),
            &[
                departure("a", DepartureReason::Sale),
                departure("b", DepartureReason::Count),
                departure("a", DepartureReason::Unseen),
            ],
        );
        let (since, skus) = l.window(Micros(350), 100);
        assert_eq!(since, Micros(250));
        assert_eq!(skus[&Arc::<str>::from("a")], (1, 1, 0));
        assert_eq!(skus[&Arc::<str>::from("b")], (0, 0, 1));
        let (since, skus) = l.window(Micros(350), 10_000);
        assert_eq!(since, Micros(100), "nothing is known from before the start");
        assert_eq!(skus[&Arc::<str>::from("a")], (2, 1, 0));
    }
}
