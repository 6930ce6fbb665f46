//! When a scenario's `[[fault]]`s fire on the scenario clock: at `at`, then every `every` (or
//! every `repeat-after` when the whole schedule loops).

use std::time::Duration;

use super::scenario::{Fault, Scenario};

/// The scenario's faults with their next firing time.
#[derive(Debug, Clone, Default)]
pub struct FaultSchedule {
    /// (next due, period, fault); a `None` period fires once.
    entries: Vec<(Duration, Option<Duration>, Fault)>,
}

impl FaultSchedule {
    pub fn new(scenario: &Scenario) -> Self {
        let entries = scenario
            .faults
            .iter()
            .map(|spec| {
                let period = spec
                    .every
                    .or(scenario.repeat_after)
                    .filter(|p| !p.is_zero());
                (spec.at, period, spec.fault.clone())
            })
            .collect();
        Self { entries }
    }

    /// When the next fault is due.
    pub fn next_due(&self) -> Option<Duration> {
        self.entries.iter().map(|(due, _, _)| *due).min()
    }

    /// The faults due by `elapsed`, in schedule order; each fires at most once per call (a
    /// starved emulator does not replay a backlog of faults).
    pub fn take_due(&mut self, elapsed: Duration) -> Vec<Fault> {
        let mut due = Vec::new();
        self.entries.retain_mut(|(next, period, fault)| {
            if *next > elapsed {
                return true;
            }
            due.push(fault.clone());
            match period {
                Some(period) => {
                    while *next <= elapsed {
                        *next += *period;
                    }
                    true
                }
                None => false,
            }
        });
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_once_or_every_period() {
        let scenario = Scenario::parse(
            "[[fault]]\nat = \"1s\"\nkind = \"drop-connection\"\n[[fault]]\nat = \"2s\"\nevery = \"3s\"\nkind = \"junk-bytes\"",
        )
        .unwrap();
        let mut schedule = FaultSchedule::new(&scenario);
        assert_eq!(schedule.next_due(), Some(Duration::from_secs(1)));
        assert!(schedule.take_due(Duration::from_millis(999)).is_empty());
        assert_eq!(
            schedule.take_due(Duration::from_secs(1)),
            [Fault::DropConnection]
        );
        assert_eq!(schedule.take_due(Duration::from_secs(2)).len(), 1);
        assert_eq!(schedule.next_due(), Some(Duration::from_secs(5)));
        assert_eq!(
            schedule.take_due(Duration::from_secs(20)).len(),
            1,
            "no backlog replay"
        );
        assert_eq!(schedule.next_due(), Some(Duration::from_secs(23)));
    }
}
