//! Ready-made stores for the scenarios that need stock moving all the time but a known end: fixed
//! shelves (the ground truth) and a door where tags come and go forever. Restarting the daemon
//! without the door reader retires the door zone, and the store settles at the shelves' truth.

use std::time::Duration;

use tagtally_reader_drivers::sim::scenario::{PresenceSpec, Scenario, TagSpec};
use tagtally_reader_drivers::Epc;

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

/// The door: 40 tags of 10 SKUs, each in the field 2 s of every 4 s, staggered by 100 ms, forever.
fn door() -> Scenario {
    let step = Duration::from_millis(100);
    let tags = (0..40u32)
        .map(|k| TagSpec {
            epc: epc(510_000 + k % 10, u64::from(k)),
            presence: PresenceSpec {
                antennas: vec![1],
                rssi: -50.0,
                appear: step * k,
                leave: Some(step * k + Duration::from_secs(2)),
                ..PresenceSpec::default()
            },
        })
        .collect();
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 8.0;
    s.repeat_after = Some(Duration::from_secs(4));
    s
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
