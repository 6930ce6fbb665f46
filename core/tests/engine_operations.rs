//! SPEC §10 store operations against the engine's public API: counts applied to a zone, sales, and
//! the reason every departure carries.

use std::time::Duration;

use tagtally_core::engine::{
    AntennaZone, CountError, CountOutcome, DepartureReason, Engine, EngineConfig, PresenceParams,
    ZoneConfig,
};
use tagtally_core::{Epc, Micros, ReaderId, TagRead};

const T0: u64 = 1_700_000_000_000_000;
const FLOOR: ReaderId = ReaderId(0);
const GTIN: &str = "80614141123458";

fn secs(s: f64) -> Micros {
    Micros(T0 + (s * 1e6) as u64)
}

/// floor: reader 0 antenna 1; backroom: no fixed reader (only counts reach it).
fn engine() -> Engine {
    let presence = PresenceParams {
        arrive_reads: 2,
        arrive_window: Duration::from_secs(10),
        depart_after: Duration::from_secs(60),
        move_hysteresis: Duration::from_secs(30),
        ..PresenceParams::default()
    };
    let mut e = Engine::new(
        &EngineConfig {
            zones: vec![
                ZoneConfig {
                    name: "floor".into(),
                    presence,
                },
                ZoneConfig {
                    name: "backroom".into(),
                    presence,
                },
            ],
            antennas: vec![AntennaZone {
                reader: FLOOR,
                antenna: 1,
                zone: "floor".into(),
            }],
            sku_map: vec![],
            max_candidates: None,
            sentinels: vec![],
            suspect_after: None,
        }
        .check()
        .unwrap(),
    );
    e.reader_up(FLOOR, secs(0.0));
    e
}

/// The TDS example SGTIN-96 (GTIN 80614141123458) with serial `serial`.
fn sgtin(serial: u8) -> Epc {
    Epc::from_slice(&[
        0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, serial,
    ])
    .unwrap()
}

/// An EPC of no GS1 scheme (header 0xE2), which no `[[sku-map]]` maps here.
fn undecodable(n: u8) -> Epc {
    Epc::from_slice(&[0xE2, 0x80, 0x11, 0x60, 0, 0, 0, 0, 0, 0, 0, n]).unwrap()
}

fn floor_read(e: &mut Engine, epc: Epc, at: f64) {
    e.observe(
        &TagRead {
            reader: FLOOR,
            antenna: 1,
            epc,
            rssi_cdbm: Some(-5000),
            time: Micros(0),
        },
        secs(at),
    );
    e.heard(FLOOR, secs(at));
}

fn count(e: &mut Engine, zone: &str, epcs: &[Epc], at: f64) -> Result<CountOutcome, CountError> {
    e.apply_count(zone, epcs.iter().map(Epc::as_bytes), secs(at))
}

/// A flush's count changes as (zone, delta, count), and its departures as (epc serial, reason).
type Flushed = (Vec<(String, i64, u32)>, Vec<(u8, DepartureReason)>);

fn flush(e: &mut Engine, at: f64) -> Flushed {
    let changes = e
        .flush(secs(at))
        .map(|d| {
            d.changes
                .into_iter()
                .map(|c| {
                    assert_eq!(&*c.sku, GTIN);
                    (c.zone.to_string(), c.delta, c.count)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut departures: Vec<(u8, DepartureReason)> = e
        .last_flush_departures()
        .iter()
        .map(|d| (*d.epc.as_bytes().last().unwrap(), d.reason))
        .collect();
    departures.sort();
    (changes, departures)
}

#[test]
fn a_count_of_a_zone_no_reader_covers_arrives_what_it_saw_and_departs_what_it_missed() {
    let mut e = engine();
    let seen = [sgtin(1), sgtin(2), sgtin(3), sgtin(2), undecodable(9)];
    let outcome = count(&mut e, "backroom", &seen, 1.0).unwrap();
    assert_eq!(
        outcome,
        CountOutcome {
            seen: 4,
            arrived: 3,
            not_decoded: 1,
            present: [1, 2, 3].map(|n| sgtin(n).as_bytes().to_vec()).to_vec(),
            ..CountOutcome::default()
        }
    );
    assert_eq!(
        flush(&mut e, 1.5),
        (vec![("backroom".into(), 3, 3)], vec![])
    );
    assert_eq!(
        e.count("backroom", "unknown"),
        0,
        "an undecodable epc never makes stock"
    );

    // Nothing covers the backroom: hours pass, nothing departs.
    assert_eq!(flush(&mut e, 7200.0), (vec![], vec![]));

    let outcome = count(&mut e, "backroom", &[sgtin(1), sgtin(3), sgtin(4)], 7300.0).unwrap();
    assert_eq!(
        (outcome.arrived, outcome.departed, outcome.moved_in),
        (1, 1, 0)
    );
    assert_eq!(
        outcome.present,
        [1, 3, 4].map(|n| sgtin(n).as_bytes().to_vec()).to_vec(),
        "present: the two confirmed in place and the arrival, not the one missed"
    );
    assert_eq!(
        flush(&mut e, 7300.5),
        (vec![], vec![(2, DepartureReason::Count)]),
        "one in, one out: the count is unchanged, the departure carries its reason"
    );
    assert_eq!(e.count("backroom", GTIN), 3);
    assert_eq!(e.counters().departures_count, 1);
}

#[test]
fn a_count_moves_a_tag_in_unless_a_fixed_reader_read_it_elsewhere_lately() {
    let mut e = engine();
    floor_read(&mut e, sgtin(7), 0.0);
    floor_read(&mut e, sgtin(7), 1.0);
    assert_eq!(flush(&mut e, 1.5).0, vec![("floor".into(), 1, 1)]);

    // Read on the floor 4 s ago, within move-hysteresis (30 s): the floor reader's evidence wins.
    let outcome = count(&mut e, "backroom", &[sgtin(7)], 5.0).unwrap();
    assert_eq!((outcome.kept_elsewhere, outcome.moved_in), (1, 0));
    assert!(
        outcome.present.is_empty(),
        "a tag kept elsewhere is not in the count's result"
    );
    assert_eq!(flush(&mut e, 5.5), (vec![], vec![]));

    // Not read for 40 s (the floor reader is heard, so the tag is due to depart at 61 s): moves in.
    e.heard(FLOOR, secs(41.0));
    let outcome = count(&mut e, "backroom", &[sgtin(7)], 41.0).unwrap();
    assert_eq!((outcome.kept_elsewhere, outcome.moved_in), (0, 1));
    assert_eq!(outcome.present, vec![sgtin(7).as_bytes().to_vec()]);
    assert_eq!(
        flush(&mut e, 41.5).0,
        vec![("backroom".into(), 1, 1), ("floor".into(), -1, 0)]
    );
    // In the backroom, where nothing covers it, it no longer departs for lack of floor reads.
    e.heard(FLOOR, secs(500.0));
    assert_eq!(flush(&mut e, 500.0), (vec![], vec![]));
    assert_eq!(e.count("backroom", GTIN), 1);
}

#[test]
fn a_count_of_an_unknown_zone_changes_nothing() {
    let mut e = engine();
    assert_eq!(
        count(&mut e, "cellar", &[sgtin(1)], 1.0),
        Err(CountError::UnknownZone {
            zone: "cellar".into()
        })
    );
    assert_eq!(flush(&mut e, 2.0), (vec![], vec![]));
    assert_eq!(e.tags_present(), 0);
}

#[test]
fn a_sold_tag_departs_at_the_next_flush_and_arrives_again_when_read_again() {
    let mut e = engine();
    for at in [0.0, 1.0] {
        floor_read(&mut e, sgtin(1), at);
        floor_read(&mut e, sgtin(2), at);
    }
    assert_eq!(flush(&mut e, 1.5).0, vec![("floor".into(), 2, 2)]);

    assert!(e.sell(sgtin(1).as_bytes(), secs(2.0)));
    assert!(
        !e.sell(sgtin(1).as_bytes(), secs(2.0)),
        "sold twice: not present"
    );
    assert!(!e.sell(sgtin(99).as_bytes(), secs(2.0)), "never present");
    assert_eq!(
        flush(&mut e, 2.5),
        (
            vec![("floor".into(), -1, 1)],
            vec![(1, DepartureReason::Sale)]
        )
    );
    assert_eq!(e.counters().departures_sale, 1);
    assert_eq!(
        e.counters().sales_not_present,
        2,
        "sold twice and never present are counted"
    );

    // A return: read again by the normal rule (arrive-reads = 2), it counts again.
    floor_read(&mut e, sgtin(1), 10.0);
    assert_eq!(flush(&mut e, 10.5).0, vec![], "one read is not an arrival");
    floor_read(&mut e, sgtin(1), 11.0);
    assert_eq!(flush(&mut e, 11.5).0, vec![("floor".into(), 1, 2)]);

    // Unread for depart-after while the floor reader is heard: unseen, the unexplained reason.
    floor_read(&mut e, sgtin(1), 30.0);
    e.heard(FLOOR, secs(80.0));
    assert_eq!(
        flush(&mut e, 80.0),
        (
            vec![("floor".into(), -1, 1)],
            vec![(2, DepartureReason::Unseen)]
        )
    );
    let c = e.counters();
    assert_eq!(
        (c.departures, c.departures_sale, c.departures_count),
        (2, 1, 0)
    );
}

#[test]
fn a_sale_and_a_count_within_one_interval_make_one_delta() {
    let mut e = engine();
    count(&mut e, "backroom", &[sgtin(1), sgtin(2)], 1.0).unwrap();
    assert!(
        e.sell(sgtin(2).as_bytes(), secs(1.2)),
        "arrived by the count, sold at once"
    );
    assert_eq!(
        flush(&mut e, 1.5),
        (
            vec![("backroom".into(), 1, 1)],
            vec![(2, DepartureReason::Sale)]
        )
    );
}

/// The tag changes of a flush as (epc serial, counts somewhere, departure reason).
fn tag_changes(e: &mut Engine, at: f64) -> Vec<(u8, bool, Option<DepartureReason>)> {
    let mut out: Vec<_> = e
        .flush(secs(at))
        .map(|d| d.tag_changes)
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            (
                *c.epc.as_bytes().last().unwrap(),
                c.placement.is_some(),
                c.departure,
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn each_departed_tags_change_carries_its_reason_for_the_event_history() {
    let mut e = engine();
    for at in [0.0, 1.0] {
        for serial in 1..=3 {
            floor_read(&mut e, sgtin(serial), at);
        }
    }
    assert_eq!(
        tag_changes(&mut e, 1.5),
        vec![(1, true, None), (2, true, None), (3, true, None)]
    );

    // Sold, then a count of the floor that finds only tag 3.
    assert!(e.sell(sgtin(1).as_bytes(), secs(2.0)));
    count(&mut e, "floor", &[sgtin(3)], 2.2).unwrap();
    assert_eq!(
        tag_changes(&mut e, 2.5),
        vec![
            (1, false, Some(DepartureReason::Sale)),
            (2, false, Some(DepartureReason::Count))
        ]
    );

    // Unread for depart-after while the floor reader is heard.
    e.heard(FLOOR, secs(70.0));
    assert_eq!(
        tag_changes(&mut e, 70.0),
        vec![(3, false, Some(DepartureReason::Unseen))]
    );
}

#[test]
fn a_tag_sold_read_back_and_sold_again_within_one_interval_leaves_as_sold() {
    let mut e = engine();
    for at in [0.0, 1.0] {
        floor_read(&mut e, sgtin(1), at);
    }
    assert_eq!(tag_changes(&mut e, 1.5), vec![(1, true, None)]);
    // Sold, read back twice (it arrives again), sold again: one departure, for the sale.
    assert!(e.sell(sgtin(1).as_bytes(), secs(2.0)));
    floor_read(&mut e, sgtin(1), 2.1);
    floor_read(&mut e, sgtin(1), 2.2);
    assert!(e.sell(sgtin(1).as_bytes(), secs(2.3)));
    assert_eq!(
        tag_changes(&mut e, 2.5),
        vec![(1, false, Some(DepartureReason::Sale))]
    );
}
