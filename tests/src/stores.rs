//! Ready-made stores for the scenarios that need stock moving all the time but a known end: fixed
//! shelves (the ground truth) and a door where tags come and go forever. Restarting the daemon
//! without the door reader retires the door zone, and the store settles at the shelves' truth.

use std::time::Duration;

use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{PresenceSpec, Scenario, TagSpec};

use crate::gs1::sgtin96;
use crate::store::{Kind, ReaderPlan, StorePlan};

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(item, serial)).expect("96-bit epc")
}

/// Shelves that never change: floor (antenna 1) and backroom (antenna 2), 350 items of 3 SKUs.
fn shelves() -> Scenario {
    let mut tags = Vec::new();
    for (antenna, item, count) in [
        (1, 500_000, 120),
        (1, 500_004, 80),
        (2, 500_000, 60),
        (2, 500_008, 90),
    ] {
        for s in 0..count {
            tags.push(TagSpec::fixed(
                epc(item, 1000 * u64::from(antenna) + s),
                &[antenna],
                -55.0,
            ));
        }
    }
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 4.0;
    s.reader.antennas = 2;
    s
}

/// How a door churns: tags of `skus` SKUs (items from `first_item` on), each in the field for
/// `dwell` of every `period`, appearing `step` apart, read in `read_rate` rounds per second, forever.
#[derive(Debug, Clone, Copy)]
pub struct Door {
    pub first_item: u32,
    pub tags: u32,
    pub skus: u32,
    pub step: Duration,
    pub dwell: Duration,
    pub period: Duration,
    pub read_rate: f64,
}

impl Door {
    /// The door's scenario (antenna 1).
    pub fn scenario(&self) -> Scenario {
        let tags = (0..self.tags)
            .map(|k| TagSpec {
                epc: epc(self.first_item + k % self.skus, u64::from(k)),
                presence: PresenceSpec {
                    antennas: vec![1],
                    rssi: -50.0,
                    appear: self.step * k,
                    leave: Some(self.step * k + self.dwell),
                    ..PresenceSpec::default()
                },
            })
            .collect();
        let mut s = Scenario::with_tags(tags);
        s.inventory.read_rate = self.read_rate;
        s.repeat_after = Some(self.period);
        s
    }
}

/// The door of [`shelves_and_door`]: 40 tags of 10 SKUs, 2 s in the field of every 4 s.
fn door() -> Scenario {
    Door {
        first_item: 510_000,
        tags: 40,
        skus: 10,
        step: Duration::from_millis(100),
        dwell: Duration::from_secs(2),
        period: Duration::from_secs(4),
        read_rate: 8.0,
    }
    .scenario()
}

/// Readers `shelves` (zones floor, backroom) and `door` (zone door); a commit nearly every flush.
pub fn shelves_and_door(store: &str) -> StorePlan {
    StorePlan {
        store: store.to_owned(),
        readers: vec![
            ReaderPlan::new(
                "shelves",
                Kind::Llrp,
                &[(1, "floor"), (2, "backroom")],
                shelves(),
            ),
            ReaderPlan::new("door", Kind::Llrp, &[(1, "door")], door()),
        ],
        sku_map: Vec::new(),
        presence: "arrive-reads = 2\narrive-window = \"1s\"\ndepart-after = \"1s\"\n\
                   move-hysteresis = \"1s\"\n"
            .to_owned(),
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    }
}
