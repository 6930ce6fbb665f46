//! The emulated store of `tagtally bench store`: one LLRP reader scenario per reader (its slice of the tag population, read sparsely, plus the probe tags it carries) and the probe schedule.
//!
//! * **Population.** The `tags` SGTIN-96 tags of [`Population`] (the same EPCs as `bench ingest`,
//!   over 5 000 GTINs), split evenly over the readers, on antenna [`POPULATION_ANTENNA`]. They are in
//!   the field from the start and never leave. Each inventory round reads each tag with
//!   probability `rate / (tags of the reader × rounds per second)`, so a reader produces `rate`
//!   reads per second on average and each tag is read about every `tags / rate` seconds (≈ 10.4 s
//!   at full size) — at random, so gaps between two reads of a tag are exponentially distributed.
//!   The default round rate (9.7/s, `--rounds`) is deliberately not a whole number of rounds per 1 s flush
//!   interval: reads then fall at every phase of the daemon's flush cycle over a run, which the latency
//!   percentiles need (at 10/s each reader's reads would keep the same ten offsets).
//! * **Probes.** Tags that each carry a GTIN of their own (item references from
//!   [`PROBE_ITEM_REF_BASE`]), so the delta change `(door, that GTIN, +1)` is their arrival and
//!   nothing else. One appears every `probe_every`, starting [`FIRST_PROBE`] after the emulators
//!   start, on antenna [`PROBE_ANTENNA`] of the readers in turn, is read in every round for
//!   [`PROBE_DWELL`], then leaves: the store's churn, and the latency samples.

use std::time::Duration;

use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{InventorySpec, PresenceSpec};
use tagtally_sim::{Scenario, TagSpec};
use thiserror::Error;

use crate::bench::population::{Population, PopulationError, COMPANY_PREFIX};
use crate::demo::sgtin::sgtin96;

/// The antenna port that reads the reader's share of the population.
pub const POPULATION_ANTENNA: u16 = 1;
/// The antenna port that reads probe tags (mapped to the door zone).
pub const PROBE_ANTENNA: u16 = 2;
/// The first probe appears this long after the emulators start.
pub const FIRST_PROBE: Duration = Duration::from_secs(2);
/// How long each probe stays in the field.
pub const PROBE_DWELL: Duration = Duration::from_secs(3);
/// Item references of probe GTINs start here: far above the population's (below 5 000).
pub const PROBE_ITEM_REF_BASE: u32 = 900_000;
/// Most probes one run may carry (each needs its own item reference).
pub const MAX_PROBES: u32 = 99_999;
/// Population RSSI, dBm.
const POPULATION_RSSI: f64 = -62.0;
/// Probe RSSI, dBm: a tag carried close past the antenna.
const PROBE_RSSI: f64 = -50.0;

/// What to emulate.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSetup {
    /// Emulated readers.
    pub readers: u16,
    /// Tags of the population, over all readers.
    pub tags: u32,
    /// Population reads per second each reader should produce.
    pub rate_per_reader: f64,
    /// Inventory rounds per second of each emulated reader.
    pub rounds_per_sec: f64,
    /// Time between two probes.
    pub probe_every: Duration,
    /// Probes to schedule (enough for the longest run).
    pub probes: u32,
}

/// One probe tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Its EPC.
    pub epc: Epc,
    /// Its SKU as the daemon names it (a GTIN-14 of its own).
    pub sku: String,
    /// The reader (index) whose probe antenna reads it.
    pub reader: u16,
    /// When it appears, after the emulators start.
    pub appear: Duration,
}

/// The emulated store.
#[derive(Clone, Debug)]
pub struct Plan {
    /// One scenario per reader.
    pub scenarios: Vec<Scenario>,
    /// Every probe, in order of appearance.
    pub probes: Vec<Probe>,
    /// Population tags per reader.
    pub tags_per_reader: Vec<u32>,
    /// The per-round read probability of a population tag on the reader with the most tags.
    pub read_probability: f64,
}

/// Why a store cannot be emulated as asked.
#[derive(Debug, Error, PartialEq)]
pub enum PlanError {
    /// No readers, or more tags per round than exist.
    #[error("{readers} readers for {tags} tags: every reader needs at least one tag")]
    Readers { readers: u16, tags: u32 },
    /// The rate cannot be reached: even reading every tag in every round falls short.
    #[error(
        "{rate} reads/s per reader need a read probability of {probability:.3} per round with {tags} tags at {rounds} rounds/s; \
         use more rounds per second or more tags"
    )]
    RateTooHigh {
        rate: f64,
        probability: f64,
        tags: u32,
        rounds: f64,
    },
    /// A rate or round count that is not a positive number.
    #[error("reads and rounds per second must be positive")]
    NotPositive,
    /// Too many probes.
    #[error("{probes} probes requested, at most {MAX_PROBES}")]
    TooManyProbes { probes: u32 },
    /// The population itself.
    #[error(transparent)]
    Population(#[from] PopulationError),
}

/// The population tags of reader `r` of `readers`: an even split, the first readers taking the remainder.
fn share(tags: u32, readers: u16, r: u16) -> std::ops::Range<u32> {
    let readers = u32::from(readers);
    let r = u32::from(r);
    let base = tags / readers;
    let extra = tags % readers;
    let start = r * base + r.min(extra);
    let len = base + u32::from(r < extra);
    start..start + len
}

/// Builds the store of `setup`.
pub fn plan(setup: &PlanSetup) -> Result<Plan, PlanError> {
    if setup.readers == 0 || setup.tags < u32::from(setup.readers) {
        return Err(PlanError::Readers {
            readers: setup.readers,
            tags: setup.tags,
        });
    }
    if !(setup.rate_per_reader > 0.0 && setup.rounds_per_sec > 0.0) {
        return Err(PlanError::NotPositive);
    }
    if setup.probes > MAX_PROBES {
        return Err(PlanError::TooManyProbes {
            probes: setup.probes,
        });
    }
    let population = Population::new(setup.tags)?;
    let probes: Vec<Probe> = (0..setup.probes)
        .map(|i| {
            let bytes = sgtin96(
                COMPANY_PREFIX as u32,
                PROBE_ITEM_REF_BASE + i,
                u64::from(i) + 1,
            );
            Probe {
                // Cannot fail: 12 bytes.
                epc: Epc::from_slice(&bytes).unwrap_or_else(|| unreachable!()),
                sku: tagtally_protocol::epc::sku(&bytes).to_string(),
                // Cannot truncate: i % readers < readers.
                reader: (i % u32::from(setup.readers)) as u16,
                appear: FIRST_PROBE + setup.probe_every * i,
            }
        })
        .collect();
    let mut scenarios = Vec::with_capacity(usize::from(setup.readers));
    let mut tags_per_reader = Vec::with_capacity(usize::from(setup.readers));
    let mut read_probability: f64 = 0.0;
    for r in 0..setup.readers {
        let slice = share(setup.tags, setup.readers, r);
        let count = slice.len() as u32;
        let probability = setup.rate_per_reader / (f64::from(count) * setup.rounds_per_sec);
        if probability > 1.0 {
            return Err(PlanError::RateTooHigh {
                rate: setup.rate_per_reader,
                probability,
                tags: count,
                rounds: setup.rounds_per_sec,
            });
        }
        read_probability = read_probability.max(probability);
        let presence = PresenceSpec {
            antennas: vec![POPULATION_ANTENNA],
            rssi: POPULATION_RSSI,
            read_probability: probability,
            appear: Duration::ZERO,
            leave: None,
            moves: Vec::new(),
        };
        let mut tags: Vec<TagSpec> = slice
            .map(|tag| TagSpec {
                // Cannot fail: 12 bytes.
                epc: Epc::from_slice(&population.epc(tag)).unwrap_or_else(|| unreachable!()),
                presence: presence.clone(),
            })
            .collect();
        tags.extend(probes.iter().filter(|p| p.reader == r).map(|p| TagSpec {
            epc: p.epc,
            presence: PresenceSpec {
                antennas: vec![PROBE_ANTENNA],
                rssi: PROBE_RSSI,
                read_probability: 1.0,
                appear: p.appear,
                leave: Some(p.appear + PROBE_DWELL),
                moves: Vec::new(),
            },
        }));
        scenarios.push(Scenario {
            seed: 1_000 + u64::from(r),
            inventory: InventorySpec {
                read_rate: setup.rounds_per_sec,
                rssi_jitter_db: 0.0,
            },
            tags,
            ..Scenario::default()
        });
        tags_per_reader.push(count);
    }
    Ok(Plan {
        scenarios,
        probes,
        tags_per_reader,
        read_probability,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> PlanSetup {
        PlanSetup {
            readers: 3,
            tags: 1_000,
            rate_per_reader: 100.0,
            rounds_per_sec: 10.0,
            probe_every: Duration::from_millis(500),
            probes: 7,
        }
    }

    #[test]
    fn the_population_is_split_evenly_and_completely() {
        let plan = plan(&setup()).unwrap();
        assert_eq!(plan.tags_per_reader, vec![334, 333, 333]);
        let mut epcs: Vec<Epc> = plan
            .scenarios
            .iter()
            .flat_map(|s| s.tags.iter())
            .filter(|t| t.presence.antennas == [POPULATION_ANTENNA])
            .map(|t| t.epc)
            .collect();
        assert_eq!(epcs.len(), 1_000);
        epcs.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        epcs.dedup();
        assert_eq!(epcs.len(), 1_000, "distinct");
        assert!((plan.read_probability - 100.0 / 3_330.0).abs() < 1e-12);
    }

    #[test]
    fn probes_take_turns_and_each_has_a_gtin_of_its_own() {
        let plan = plan(&setup()).unwrap();
        assert_eq!(plan.probes.len(), 7);
        let readers: Vec<u16> = plan.probes.iter().map(|p| p.reader).collect();
        assert_eq!(readers, vec![0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(plan.probes[2].appear, FIRST_PROBE + Duration::from_secs(1));
        let mut skus: Vec<&str> = plan.probes.iter().map(|p| p.sku.as_str()).collect();
        skus.dedup();
        assert_eq!(skus.len(), 7);
        assert!(skus.iter().all(|s| s.len() == 14), "GTIN-14: {skus:?}");
        let on_reader_0 = plan.scenarios[0]
            .tags
            .iter()
            .filter(|t| t.presence.antennas == [PROBE_ANTENNA])
            .count();
        assert_eq!(on_reader_0, 3);
    }

    #[test]
    fn impossible_rates_are_refused() {
        let too_fast = PlanSetup {
            rate_per_reader: 5_000.0,
            ..setup()
        };
        assert!(matches!(
            plan(&too_fast),
            Err(PlanError::RateTooHigh { .. })
        ));
        let no_readers = PlanSetup {
            readers: 0,
            ..setup()
        };
        assert!(matches!(plan(&no_readers), Err(PlanError::Readers { .. })));
    }
}
