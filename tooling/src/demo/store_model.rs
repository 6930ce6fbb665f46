//! The demo store as scenario data: a few hundred SKUs, a few thousand tagged items on the sales floor
//! and in the backroom, and a trading cycle of customers trying items on, buying them and staff
//! restocking from the backroom — written as one emulator scenario per reader.
//!
//! Pure and seeded: the same seed gives the same store and the same day. Each item's life is a list of
//! stays (zone, from, until); a stay becomes a `[[tag]]` of the emulator that covers that zone, so a
//! tag walking from the backroom to the floor leaves one emulator's field and enters another's, exactly
//! what the daemon sees in a real store.

use std::collections::BTreeMap;
use std::time::Duration;

use tagtally_reader_drivers::Epc;
use tagtally_sim::rng::SimRng;
use tagtally_sim::scenario::{
    Fault, FaultSpec, InventorySpec, PresenceSpec, ReaderSpec, Scenario, TagSpec,
};

use super::sgtin::{gtin_of, sgtin96};

/// The sales floor (LLRP ceiling reader, antennas 1 and 2).
pub const FLOOR: &str = "floor";
/// The stock room (ThingMagic module behind a serial-over-TCP bridge).
pub const BACKROOM: &str = "backroom";
/// The fitting rooms (R2000 module behind a serial-over-TCP bridge).
pub const FITTING_ROOMS: &str = "fitting-rooms";
/// The zones, in config order.
pub const ZONES: [&str; 3] = [FLOOR, BACKROOM, FITTING_ROOMS];

/// The demo brand's GS1 company prefix.
pub const COMPANY: u32 = 4_012_345;

/// When the first customer walks in: the readers have counted the opening stock by then.
const TRADING_STARTS: Duration = Duration::from_secs(8);
/// Walking between two zones takes this long (the tag is in no reader's field meanwhile).
const WALK: Duration = Duration::from_secs(4);
/// Trading stops this long before the cycle ends, so every visit finishes inside it.
const CLOSING: Duration = Duration::from_secs(90);

/// What to generate.
#[derive(Debug, Clone)]
pub struct StoreSpec {
    /// Pseudo-random seed.
    pub seed: u64,
    /// Distinct products.
    pub skus: u32,
    /// Tagged items, about.
    pub items: u32,
    /// The trading cycle; the emulators replay it forever (each cycle a new day).
    pub cycle: Duration,
}

impl Default for StoreSpec {
    fn default() -> Self {
        StoreSpec {
            seed: 2024,
            skus: 300,
            items: 3000,
            cycle: Duration::from_secs(600),
        }
    }
}

/// One stretch of an item's life in one zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Stay {
    /// The zone.
    pub zone: &'static str,
    /// The reader antenna that sees it there.
    pub antenna: u16,
    /// When it arrives (scenario time).
    pub from: Duration,
    /// When it leaves; `None` until the end of the cycle.
    pub until: Option<Duration>,
}

/// One tagged item.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its EPC (SGTIN-96).
    pub epc: [u8; 12],
    /// Its SKU (GTIN-14), as the daemon counts it.
    pub sku: String,
    /// Where it is when.
    pub stays: Vec<Stay>,
}

/// What happens during a cycle, counted (for the demo's opening line and the tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trading {
    /// Items taken to the fitting rooms.
    pub tried_on: u32,
    /// Items bought (after trying on, or straight from the floor).
    pub sold: u32,
    /// Items brought from the backroom to the floor.
    pub restocked: u32,
}

/// The generated store.
#[derive(Debug, Clone)]
pub struct DemoStore {
    /// Every item.
    pub items: Vec<Item>,
    /// Distinct SKUs.
    pub skus: u32,
    /// The cycle length.
    pub cycle: Duration,
    /// What the cycle holds.
    pub trading: Trading,
    /// The LLRP ceiling reader over the floor.
    pub llrp: Scenario,
    /// The ThingMagic module in the backroom.
    pub thingmagic: Scenario,
    /// The R2000 module in the fitting rooms.
    pub r2000: Scenario,
}

impl DemoStore {
    /// Items present in each zone at scenario time `t` (the ground truth the daemon converges to).
    pub fn present_at(&self, t: Duration) -> BTreeMap<&'static str, u64> {
        let mut zones: BTreeMap<&'static str, u64> = ZONES.iter().map(|z| (*z, 0)).collect();
        for item in &self.items {
            for stay in &item.stays {
                if stay.from <= t && stay.until.is_none_or(|u| t < u) {
                    *zones.entry(stay.zone).or_insert(0) += 1;
                }
            }
        }
        zones
    }
}

fn between(rng: &mut SimRng, lo: u64, hi: u64) -> u64 {
    lo + rng.next_u64() % (hi - lo + 1)
}

fn secs(rng: &mut SimRng, lo: f64, hi: f64) -> Duration {
    Duration::from_secs_f64(lo + (hi - lo) * rng.next_f64())
}

/// Generates the store of `spec`.
pub fn generate(spec: &StoreSpec) -> DemoStore {
    let mut rng = SimRng::new(spec.seed);
    let skus = spec.skus.max(1);
    let mut items = Vec::with_capacity(spec.items as usize + 64);
    let per_sku = (spec.items / skus).max(1);
    let mut serial = 1u64;
    for s in 0..skus {
        // Indicator digit 1, then a five-digit product number.
        let item_ref = 100_000 + s;
        let sku = gtin_of(COMPANY, item_ref);
        let count = between(
            &mut rng,
            u64::from(per_sku / 2).max(1),
            u64::from(per_sku) * 3 / 2,
        );
        for _ in 0..count {
            let epc = sgtin96(COMPANY, item_ref, serial);
            serial += 1;
            let on_floor = rng.next_f64() < 0.65;
            let stay = if on_floor {
                Stay {
                    zone: FLOOR,
                    antenna: 1 + (rng.next_u64() % 2) as u16,
                    from: Duration::ZERO,
                    until: None,
                }
            } else {
                Stay {
                    zone: BACKROOM,
                    antenna: 1,
                    from: Duration::ZERO,
                    until: None,
                }
            };
            items.push(Item {
                epc,
                sku: sku.clone(),
                stays: vec![stay],
            });
        }
    }
    let trading = trade(&mut rng, &mut items, spec.cycle);
    let (llrp, thingmagic, r2000) = scenarios(&mut rng, &items, spec);
    DemoStore {
        items,
        skus,
        cycle: spec.cycle,
        trading,
        llrp,
        thingmagic,
        r2000,
    }
}

/// Ends the item's current stay at `at`.
fn leave(item: &mut Item, at: Duration) {
    if let Some(last) = item.stays.last_mut() {
        last.until = Some(at);
    }
}

/// Customers and staff move items during the cycle; each item takes part in one event at most.
fn trade(rng: &mut SimRng, items: &mut [Item], cycle: Duration) -> Trading {
    let mut trading = Trading::default();
    let mut busy = vec![false; items.len()];
    let Some(last_start) = cycle.checked_sub(CLOSING) else {
        return trading;
    };
    let mut t = TRADING_STARTS;
    // Picks an idle item in `zone` (a few random probes; a crowded store always has one).
    let pick = |rng: &mut SimRng, items: &[Item], busy: &[bool], zone: &str| -> Option<usize> {
        for _ in 0..64 {
            let i = (rng.next_u64() % items.len() as u64) as usize;
            if !busy[i] && items[i].stays.last().is_some_and(|s| s.zone == zone) {
                return Some(i);
            }
        }
        None
    };
    while t < last_start && !items.is_empty() {
        let dice = rng.next_f64();
        if dice < 0.45 {
            // A customer takes one to three items to the fitting rooms; keeps some, buys the rest.
            let back_at = t + WALK + secs(rng, 20.0, 60.0);
            for _ in 0..between(rng, 1, 3) {
                let Some(i) = pick(rng, items, &busy, FLOOR) else {
                    break;
                };
                busy[i] = true;
                trading.tried_on += 1;
                leave(&mut items[i], t);
                items[i].stays.push(Stay {
                    zone: FITTING_ROOMS,
                    antenna: 1,
                    from: t + WALK,
                    until: Some(back_at),
                });
                if rng.next_f64() < 0.5 {
                    let floor_antenna = 1 + (rng.next_u64() % 2) as u16;
                    items[i].stays.push(Stay {
                        zone: FLOOR,
                        antenna: floor_antenna,
                        from: back_at + WALK,
                        until: None,
                    });
                } else {
                    trading.sold += 1;
                }
            }
        } else if dice < 0.75 {
            // A customer buys straight from the rails.
            for _ in 0..between(rng, 1, 2) {
                let Some(i) = pick(rng, items, &busy, FLOOR) else {
                    break;
                };
                busy[i] = true;
                trading.sold += 1;
                leave(&mut items[i], t);
            }
        } else if let Some(first) = pick(rng, items, &busy, BACKROOM) {
            // Staff bring a few units of one product out of the backroom.
            let sku = items[first].sku.clone();
            let wanted = between(rng, 3, 6);
            let mut moved = 0;
            for i in 0..items.len() {
                if moved == wanted {
                    break;
                }
                let here = items[i].stays.last().is_some_and(|s| s.zone == BACKROOM);
                if busy[i] || !here || items[i].sku != sku {
                    continue;
                }
                busy[i] = true;
                moved += 1;
                trading.restocked += 1;
                leave(&mut items[i], t);
                let antenna = 1 + (rng.next_u64() % 2) as u16;
                items[i].stays.push(Stay {
                    zone: FLOOR,
                    antenna,
                    from: t + WALK * 2,
                    until: None,
                });
            }
        }
        t += secs(rng, 1.5, 4.0);
    }
    trading
}

fn reader(model: &str, firmware: &str, antennas: u16) -> ReaderSpec {
    ReaderSpec {
        antennas,
        model: Some(model.to_owned()),
        firmware: firmware.to_owned(),
    }
}

/// One scenario per reader: each stay becomes a `[[tag]]` of the emulator covering its zone.
fn scenarios(rng: &mut SimRng, items: &[Item], spec: &StoreSpec) -> (Scenario, Scenario, Scenario) {
    let base = |seed: u64, reader_spec: ReaderSpec, read_rate: f64| Scenario {
        seed,
        repeat_after: Some(spec.cycle),
        reader: reader_spec,
        inventory: InventorySpec {
            read_rate,
            rssi_jitter_db: 2.0,
        },
        ..Scenario::default()
    };
    let mut llrp = base(spec.seed ^ 1, reader("Impinj R700", "8.1.0", 4), 2.0);
    let mut thingmagic = base(spec.seed ^ 2, reader("ThingMagic M6e", "1.9.2.0", 2), 1.0);
    let mut r2000 = base(spec.seed ^ 3, reader("R2000 module", "8.1", 4), 2.0);
    // The backroom module drops off the bridge once a cycle: the zone goes stale, nothing departs.
    thingmagic.faults.push(FaultSpec {
        at: Duration::from_secs(150).min(spec.cycle / 2),
        every: None,
        fault: Fault::DropConnection,
    });
    for item in items {
        let Some(epc) = Epc::from_slice(&item.epc) else {
            continue;
        };
        for stay in &item.stays {
            let (scenario, rssi) = match stay.zone {
                FLOOR => (&mut llrp, -58.0),
                BACKROOM => (&mut thingmagic, -62.0),
                _ => (&mut r2000, -52.0),
            };
            scenario.tags.push(TagSpec {
                epc,
                presence: PresenceSpec {
                    antennas: vec![stay.antenna],
                    rssi: rssi + 8.0 * (rng.next_f64() - 0.5),
                    read_probability: 0.8,
                    appear: stay.from,
                    leave: stay.until,
                    moves: Vec::new(),
                },
            });
            // A few floor rails stand by the fitting rooms: their tags bleed weakly onto that antenna,
            // and must still count on the floor.
            if stay.zone == FLOOR && rng.next_f64() < 0.03 {
                r2000.tags.push(TagSpec {
                    epc,
                    presence: PresenceSpec {
                        antennas: vec![1],
                        rssi: -78.0,
                        read_probability: 0.25,
                        appear: stay.from + Duration::from_secs(3),
                        leave: stay.until,
                        moves: Vec::new(),
                    },
                });
            }
        }
    }
    (llrp, thingmagic, r2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_believable_store_with_a_day_of_trading() {
        let store = generate(&StoreSpec::default());
        assert!(
            (2000..=4500).contains(&store.items.len()),
            "{}",
            store.items.len()
        );
        assert_eq!(store.skus, 300);
        let opening = store.present_at(Duration::ZERO);
        assert_eq!(opening[FITTING_ROOMS], 0);
        assert!(opening[FLOOR] > opening[BACKROOM], "{opening:?}");
        let t = store.trading;
        assert!(t.tried_on > 50 && t.sold > 50 && t.restocked > 20, "{t:?}");
        // Mid-day, someone is in the fitting rooms; by closing, sold items are gone.
        let busy = (30..300).any(|s| store.present_at(Duration::from_secs(s))[FITTING_ROOMS] > 0);
        assert!(busy);
        let closing: u64 = store
            .present_at(store.cycle - Duration::from_secs(1))
            .values()
            .sum();
        assert_eq!(closing, store.items.len() as u64 - u64::from(t.sold));
        for scenario in [&store.llrp, &store.thingmagic, &store.r2000] {
            scenario.validate().expect("valid scenario");
        }
    }

    #[test]
    fn items_decode_to_their_sku_and_the_store_replays() {
        let a = generate(&StoreSpec::default());
        let b = generate(&StoreSpec::default());
        assert_eq!(a.items.len(), b.items.len());
        assert_eq!(a.llrp.tags.len(), b.llrp.tags.len());
        for item in a.items.iter().step_by(97) {
            assert_eq!(tagtally_protocol::epc::sku(&item.epc).to_string(), item.sku);
        }
    }

    #[test]
    fn a_tiny_store_still_works() {
        let s = generate(&StoreSpec {
            seed: 1,
            skus: 1,
            items: 1,
            cycle: Duration::from_secs(10),
        });
        assert!(!s.items.is_empty());
        assert_eq!(s.trading, Trading::default());
    }
}
