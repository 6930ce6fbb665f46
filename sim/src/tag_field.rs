//! The emulated RF field: which tags each inventory round reads, on which antenna, how strongly (shared by all emulators).

use std::time::Duration;

use super::ghosts::GhostSource;
use super::rng::SimRng;
use super::scenario::{PresenceSpec, Scenario};
use tagtally_core::Epc;

/// One emulated read, before an emulator puts it into its wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimRead {
    pub epc: Epc,
    pub antenna: u16,
    /// Hundredths of a dBm.
    pub rssi_cdbm: i16,
}

/// The scenario's tags, expanded once, and the dice that decide each read.
#[derive(Debug, Clone)]
pub struct TagField {
    /// Each tag's EPC and the index of its presence in `presences` (populations share one).
    tags: Vec<(Epc, usize)>,
    presences: Vec<PresenceSpec>,
    jitter_db: f64,
    repeat_after: Option<Duration>,
    rng: SimRng,
    ghosts: Option<GhostSource>,
}

impl TagField {
    pub fn new(scenario: &Scenario) -> Self {
        let mut presences = Vec::with_capacity(scenario.tags.len() + scenario.populations.len());
        let mut tags = Vec::new();
        for tag in &scenario.tags {
            tags.push((tag.epc, presences.len()));
            presences.push(tag.presence.clone());
        }
        for population in &scenario.populations {
            let index = presences.len();
            presences.push(population.presence.clone());
            tags.extend(population.epcs().map(|epc| (epc, index)));
        }
        TagField {
            tags,
            presences,
            jitter_db: scenario.inventory.rssi_jitter_db,
            repeat_after: scenario.repeat_after,
            rng: SimRng::new(scenario.seed),
            ghosts: scenario.ghosts.map(GhostSource::new),
        }
    }

    /// How many tags the scenario holds (present or not), ghosts of one round included.
    pub fn len(&self) -> usize {
        self.tags.len() + self.ghosts.as_ref().map_or(0, GhostSource::per_round)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scenario time `elapsed` after start, folded into the repeat period if there is one.
    pub fn scenario_time(&self, elapsed: Duration) -> Duration {
        match self.repeat_after {
            Some(period) if !period.is_zero() => {
                Duration::from_nanos((elapsed.as_nanos() % period.as_nanos()) as u64)
            }
            _ => elapsed,
        }
    }

    /// Runs one inventory round at `elapsed` since start over the antennas `active` admits,
    /// appending what was read to `out` in a seeded random order: Gen2 tags answer in random
    /// slots, so no tag is always first (a fault that damages "the next frame" hits any tag).
    pub fn round(
        &mut self,
        elapsed: Duration,
        active: impl Fn(u16) -> bool,
        out: &mut Vec<SimRead>,
    ) {
        let t = self.scenario_time(elapsed);
        let first = out.len();
        for &(epc, presence) in &self.tags {
            let Some(p) = self.presences.get(presence) else {
                continue;
            };
            let Some((antennas, rssi)) = p.at(t) else {
                continue;
            };
            for &antenna in antennas {
                if !active(antenna) {
                    continue;
                }
                if p.read_probability < 1.0 && self.rng.next_f64() >= p.read_probability {
                    continue;
                }
                let jitter = if self.jitter_db > 0.0 {
                    (self.rng.next_f64() * 2.0 - 1.0) * self.jitter_db
                } else {
                    0.0
                };
                let cdbm = ((rssi + jitter) * 100.0).round().clamp(-12_800.0, 12_700.0) as i16;
                out.push(SimRead {
                    epc,
                    antenna,
                    rssi_cdbm: cdbm,
                });
            }
        }
        if let Some(ghosts) = &mut self.ghosts {
            ghosts.round(&active, out);
        }
        // Fisher–Yates over this round's reads.
        let round = &mut out[first..];
        for i in (1..round.len()).rev() {
            let j = (self.rng.next_u64() % (i as u64 + 1)) as usize;
            round.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(text).expect("valid scenario")
    }

    #[test]
    fn reads_follow_presence_and_active_antennas() {
        let s = scenario(
            r#"
[[tag]]
epc = "3074257BF7194E4000001A85"
antennas = [1, 2]
rssi = -58.25
leave = "10s"
moves = [ { at = "5s", antennas = [3] } ]
[[population]]
count = 2
epc-prefix = "AA"
epc-bytes = 4
antennas = [4]
appear = "1s"
"#,
        );
        let mut field = TagField::new(&s);
        assert_eq!(field.len(), 3);
        let mut out = Vec::new();
        field.round(Duration::ZERO, |a| a != 2, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].antenna, 1);
        assert_eq!(out[0].rssi_cdbm, -5825);
        out.clear();
        field.round(Duration::from_secs(6), |_| true, &mut out);
        let antennas: Vec<u16> = out.iter().map(|r| r.antenna).collect();
        assert_eq!(antennas, vec![3, 4, 4]);
        assert_eq!(out[2].epc.to_string(), "AA000002");
        out.clear();
        field.round(Duration::from_secs(11), |_| true, &mut out);
        assert_eq!(out.len(), 2, "the single tag left");
    }

    #[test]
    fn probability_thins_reads_reproducibly() {
        let text = "seed = 9\n[[tag]]\nepc = \"3074\"\nread-probability = 0.25";
        let mut a = TagField::new(&scenario(text));
        let mut b = TagField::new(&scenario(text));
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        for _ in 0..4000 {
            a.round(Duration::ZERO, |_| true, &mut ra);
            b.round(Duration::ZERO, |_| true, &mut rb);
        }
        assert_eq!(ra, rb);
        assert!((800..1200).contains(&ra.len()), "{} reads", ra.len());
    }

    #[test]
    fn repeat_folds_time() {
        let s = scenario("repeat-after = \"10s\"\n[[tag]]\nepc = \"3074\"\nleave = \"5s\"");
        let mut field = TagField::new(&s);
        let mut out = Vec::new();
        field.round(Duration::from_secs(7), |_| true, &mut out);
        assert!(out.is_empty());
        field.round(Duration::from_secs(12), |_| true, &mut out);
        assert_eq!(out.len(), 1);
    }
}
