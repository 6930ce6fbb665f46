//! The event history behind EPCIS (SPEC §12): each flush's tag changes classified against the
//! committed tag table in the flush's own transaction (arrival, move, departure by its reason),
//! kept across a restart, bounded like the delta history, and not kept at all without `[epcis]`;
//! a count's result committed with its delta, both or neither.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tagtally::engine::{CountChange, Delta, DepartureReason, Placement, TagChange};
use tagtally::epcis::cbv::StockChange;
use tagtally::epcis::location::Locations;
use tagtally::epcis::stock_events::object_events;
use tagtally::store::{
    CountResult, EventRangeError, HistoryBounds, StockEvent, Store, StoreOptions, DATABASE_FILE,
    EPCS_PER_ROW,
};
use tagtally_reader_drivers::{Epc, Micros};

const T0: u64 = 1_796_328_000_000_000;
const SKU: &str = "80614141123458";

fn epc(n: u32) -> Epc {
    let [a, b, c, d] = n.to_be_bytes();
    Epc::from_slice(&[0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, a, b, c, d]).unwrap()
}

fn options(keep_events: bool) -> StoreOptions {
    StoreOptions {
        keep_events,
        ..StoreOptions::new("paris-01", 1 << 24)
    }
}

/// Builds flushes with the count changes that go with their tag changes (all tags of one SKU),
/// so the database stays the recount of its tags across reopenings.
#[derive(Default)]
struct Flushes {
    zone_of: HashMap<u32, String>,
    counts: BTreeMap<String, u32>,
}

impl Flushes {
    /// A flush at `T0 + secs` that places each tag in its zone (`None`: it left).
    fn flush(&mut self, secs: u64, tags: &[(u32, Option<&str>)]) -> Delta {
        let before = self.counts.clone();
        for &(n, zone) in tags {
            if let Some(old) = self.zone_of.remove(&n) {
                *self.counts.entry(old).or_default() -= 1;
            }
            if let Some(zone) = zone {
                self.zone_of.insert(n, zone.to_owned());
                *self.counts.entry(zone.to_owned()).or_default() += 1;
            }
        }
        let changes = self
            .counts
            .iter()
            .filter(|(zone, count)| before.get(*zone).copied().unwrap_or(0) != **count)
            .map(|(zone, &count)| CountChange {
                zone: Arc::from(zone.as_str()),
                sku: Arc::from(SKU),
                delta: i64::from(count) - i64::from(before.get(zone).copied().unwrap_or(0)),
                count,
            })
            .collect();
        Delta {
            time: Micros(T0 + secs * 1_000_000),
            changes,
            tag_changes: tags
                .iter()
                .map(|&(n, zone)| TagChange {
                    epc: epc(n),
                    placement: zone.map(|zone| Placement {
                        zone: Arc::from(zone),
                        sku: Arc::from(SKU),
                    }),
                    departure: None,
                })
                .collect(),
        }
    }
}

fn summary(events: &[StockEvent]) -> Vec<(u64, StockChange, String, usize)> {
    events
        .iter()
        .map(|e| {
            (
                (e.time.0 - T0) / 1_000_000,
                e.change,
                e.zone.to_string(),
                e.epcs.len(),
            )
        })
        .collect()
}

fn all(store: &Store) -> Vec<StockEvent> {
    store
        .events(Micros(0), Micros(u64::MAX), usize::MAX)
        .unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn arrivals_moves_and_departures_are_classified_against_committed_state_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let mut flushes = Flushes::default();
    {
        let store = Store::open(&path, options(true)).unwrap().store;
        let (_, events) = store
            .commit_with_events(&flushes.flush(
                0,
                &[
                    (1, Some("floor")),
                    (2, Some("floor")),
                    (3, Some("backroom")),
                ],
            ))
            .unwrap();
        assert_eq!(events.len(), 2, "{events:?}");
        // Tag 1 moves, tag 2 leaves, tag 3 is re-placed in its own zone (a SKU change: no event).
        let (_, events) = store
            .commit_with_events(&flushes.flush(
                5,
                &[(1, Some("backroom")), (2, None), (3, Some("backroom"))],
            ))
            .unwrap();
        assert_eq!(
            summary(&events),
            [
                (5, StockChange::Move, "backroom".into(), 1),
                (5, StockChange::Departure, "floor".into(), 1),
            ]
        );
        assert_eq!(events[1].epcs, [epc(2).as_bytes().to_vec()]);
    }
    let store = Store::open(&path, options(true)).unwrap().store;
    assert_eq!(
        summary(&all(&store)),
        [
            (0, StockChange::Arrival, "backroom".into(), 1),
            (0, StockChange::Arrival, "floor".into(), 2),
            (5, StockChange::Move, "backroom".into(), 1),
            (5, StockChange::Departure, "floor".into(), 1),
        ]
    );
    // `since` inclusive, `until` exclusive.
    let later = store
        .events(Micros(T0 + 5_000_000), Micros(T0 + 6_000_000), 10)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(later.len(), 2);
    assert!(store
        .events(Micros(T0), Micros(T0 + 5_000_000), 10)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .iter()
        .all(|e| e.change == StockChange::Arrival));
}

#[test]
fn a_sale_and_a_count_departure_are_stored_with_their_reason_and_map_to_their_cbv_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let mut flushes = Flushes::default();
    {
        let store = Store::open(&path, options(true)).unwrap().store;
        store
            .commit_with_events(&flushes.flush(
                0,
                &[
                    (1, Some("floor")),
                    (2, Some("floor")),
                    (3, Some("backroom")),
                ],
            ))
            .unwrap();
        // Tag 1 sold at the till, tag 2 unseen for depart-after, tag 3 missing at a backroom count.
        let mut delta = flushes.flush(5, &[(1, None), (2, None), (3, None)]);
        for (change, reason) in delta.tag_changes.iter_mut().zip([
            DepartureReason::Sale,
            DepartureReason::Unseen,
            DepartureReason::Count,
        ]) {
            change.departure = Some(reason);
        }
        store.commit_with_events(&delta).unwrap();
    }
    // Read back after a restart: the reason was committed with the event.
    let store = Store::open(&path, options(true)).unwrap().store;
    let events = store
        .events(Micros(T0 + 5_000_000), Micros(u64::MAX), 10)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        summary(&events),
        [
            (5, StockChange::Departure, "floor".into(), 1),
            (5, StockChange::Sale, "floor".into(), 1),
            (5, StockChange::MissingAtCount, "backroom".into(), 1),
        ]
    );
    let sold = events
        .iter()
        .find(|e| e.change == StockChange::Sale)
        .expect("the sale");
    assert_eq!(sold.epcs, [epc(1).as_bytes().to_vec()]);
    let locations = Locations::Urn {
        store: "paris-01".into(),
    };
    let words: Vec<(String, String)> = object_events(&events, &locations)
        .expect("object events")
        .iter()
        .map(|e| {
            let json = e.to_json();
            (
                json["bizStep"].as_str().unwrap().to_owned(),
                json["disposition"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        words,
        [
            ("departing".to_owned(), "unknown".to_owned()),
            ("retail_selling".to_owned(), "retail_sold".to_owned()),
            ("cycle_counting".to_owned(), "unknown".to_owned()),
        ]
    );
}

#[test]
fn a_counts_result_commits_with_its_delta_both_or_neither() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let mut flushes = Flushes::default();
    let result = |epcs: &[u32]| CountResult {
        zone: Arc::from("backroom"),
        epcs: epcs.iter().map(|&n| epc(n).as_bytes().to_vec()).collect(),
    };
    {
        let store = Store::open(&path, options(true)).unwrap().store;
        store
            .commit_flush(&flushes.flush(0, &[(1, Some("backroom")), (2, Some("floor"))]))
            .unwrap();
        // A count of the backroom finds 1 in place, 2 (moves in) and 3 (arrives).
        let flush = store
            .commit_counted(
                &flushes.flush(5, &[(2, Some("backroom")), (3, Some("backroom"))]),
                &[result(&[1, 2, 3])],
            )
            .unwrap();
        assert_eq!(flush.deltas.as_ref().map(|d| d.seq), Some(2), "the delta");
        assert_eq!(
            summary(&flush.events),
            [
                (5, StockChange::Arrival, "backroom".into(), 1),
                (5, StockChange::Move, "backroom".into(), 1),
                (5, StockChange::CountResult, "backroom".into(), 3),
            ]
        );
        // A delta that does not fit the stored counts is refused whole: no count result either.
        let mut wrong = flushes.flush(9, &[(4, Some("backroom"))]);
        wrong.changes[0].delta += 1;
        assert!(store.commit_counted(&wrong, &[result(&[4])]).is_err());
        assert_eq!(store.last_seq(), 2);
    }
    // After a restart: the count's delta and its result are there, the refused one's neither.
    let store = Store::open(&path, options(true)).unwrap().store;
    assert_eq!(store.last_seq(), 2);
    let events = all(&store);
    let results: Vec<&StockEvent> = events
        .iter()
        .filter(|e| e.change == StockChange::CountResult)
        .collect();
    assert_eq!(results.len(), 1, "{events:?}");
    assert_eq!(results[0].epcs, result(&[1, 2, 3]).epcs);
    assert_eq!(results[0].time, Micros(T0 + 5_000_000));
    // A count that changed nothing still commits its result, and no delta.
    let nothing = Delta {
        time: Micros(T0 + 20_000_000),
        changes: Vec::new(),
        tag_changes: Vec::new(),
    };
    let flush = store.commit_counted(&nothing, &[result(&[1])]).unwrap();
    assert!(flush.deltas.is_none());
    assert_eq!(
        summary(&flush.events),
        [(20, StockChange::CountResult, "backroom".into(), 1)]
    );
    assert_eq!(store.last_seq(), 2);
    let locations = Locations::Urn {
        store: "paris-01".into(),
    };
    let json = object_events(&flush.events, &locations).expect("object event")[0].to_json();
    assert_eq!(
        (&json["bizStep"], &json["disposition"]),
        (&"cycle_counting".into(), &"in_progress".into())
    );
}

#[test]
fn without_epcis_no_event_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut flushes = Flushes::default();
    let store = Store::open(&dir.path().join(DATABASE_FILE), options(false))
        .unwrap()
        .store;
    let (_, events) = store
        .commit_with_events(&flushes.flush(0, &[(1, Some("floor"))]))
        .unwrap();
    assert!(events.is_empty());
    assert!(all(&store).is_empty());
}

#[test]
fn a_cold_start_is_stored_in_bounded_rows_and_a_wide_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut flushes = Flushes::default();
    let store = Store::open(&dir.path().join(DATABASE_FILE), options(true))
        .unwrap()
        .store;
    let tags: Vec<(u32, Option<&str>)> = (0..2_000).map(|n| (n, Some("floor"))).collect();
    let (_, events) = store.commit_with_events(&flushes.flush(0, &tags)).unwrap();
    assert_eq!(events.len(), 2_000usize.div_ceil(EPCS_PER_ROW));
    assert!(events.iter().all(|e| e.epcs.len() <= EPCS_PER_ROW));
    assert_eq!(events.iter().map(|e| e.epcs.len()).sum::<usize>(), 2_000);
    match store.events(Micros(0), Micros(u64::MAX), 1_000) {
        Err(EventRangeError::TooMany { max_epcs: 1_000 }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_history_bounds_drop_the_oldest_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let mut flushes = Flushes::default();
    let mut by_bytes = options(true);
    by_bytes.history = HistoryBounds {
        max_bytes: 200,
        max_age: Duration::from_secs(3600),
    };
    let store = Store::open(&path, by_bytes).unwrap().store;
    for i in 0..20u32 {
        store
            .commit_with_events(&flushes.flush(u64::from(i), &[(i, Some("floor"))]))
            .unwrap();
    }
    let kept = all(&store);
    assert!(!kept.is_empty() && kept.len() < 20, "{}", kept.len());
    // The newest are the ones kept, in order.
    assert_eq!((kept.last().unwrap().time.0 - T0) / 1_000_000, 19);
    drop(store);

    let mut by_age = options(true);
    by_age.history = HistoryBounds {
        max_bytes: 1 << 20,
        max_age: Duration::from_secs(60),
    };
    let store = Store::open(&path, by_age).unwrap().store;
    store
        .commit_with_events(&flushes.flush(3_600, &[(100, Some("floor"))]))
        .unwrap();
    // Everything older than an hour before the newest flush went with it.
    assert_eq!(
        summary(&all(&store)),
        [(3_600, StockChange::Arrival, "floor".into(), 1)]
    );
}
