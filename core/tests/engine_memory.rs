//! The engine gives back what a burst of first sightings took: after the flush that follows a cold start, its side tables are small again and the tag table holds the store.

use tagtally_core::engine::{AntennaZone, Engine, EngineConfig, PresenceParams, ZoneConfig};
use tagtally_core::{Epc, Micros, ReaderId, TagRead};

const T0: u64 = 1_776_939_300_000_000;
const TAGS: u32 = 50_000;

fn engine() -> Engine {
    let mut engine = Engine::new(
        &EngineConfig {
            zones: vec![ZoneConfig {
                name: "floor".into(),
                presence: PresenceParams::default(),
            }],
            antennas: vec![AntennaZone {
                reader: ReaderId(0),
                antenna: 1,
                zone: "floor".into(),
            }],
            sku_map: vec![],
            max_candidates: None,
            suspect_after: None,
            sentinels: Vec::new(),
        }
        .check()
        .unwrap(),
    );
    engine.reader_up(ReaderId(0), Micros(T0));
    engine
}

/// An SGTIN-96 header and company prefix, then `serial` in the last four bytes.
fn read(serial: u32) -> TagRead {
    let mut epc = [0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0, 0];
    epc[8..].copy_from_slice(&serial.to_be_bytes());
    TagRead {
        reader: ReaderId(0),
        antenna: 1,
        epc: Epc::from_slice(&epc).unwrap(),
        rssi_cdbm: Some(-6000),
        time: Micros(0),
    }
}

#[test]
fn a_cold_start_leaves_small_side_tables_after_its_flushes() {
    let mut engine = engine();
    let reads: Vec<TagRead> = (0..TAGS).map(read).collect();
    let idle = engine.side_table_bytes();
    engine.observe_batch(&reads, Micros(T0 + 1));
    assert!(
        engine.flush(Micros(T0 + 2)).is_none(),
        "one read arrives nothing"
    );
    let candidates = engine.side_table_bytes();
    assert!(
        candidates >= TAGS as usize * 40,
        "every tag is a candidate: {candidates} bytes"
    );
    engine.observe_batch(&reads, Micros(T0 + 3));
    let delta = engine.flush(Micros(T0 + 4)).expect("every tag arrived");
    assert_eq!(delta.tag_changes.len(), TAGS as usize);
    assert!(delta
        .tag_changes
        .windows(2)
        .all(|w| w[0].epc.as_bytes() < w[1].epc.as_bytes()));
    assert_eq!(engine.tags_present(), TAGS as usize);
    assert_eq!(engine.counters().candidates, 0);
    let after = engine.side_table_bytes();
    assert!(
        after <= idle + 64 * 1024,
        "side tables given back: {after} bytes (idle {idle}, at the peak {candidates})"
    );
    // A tag table that still holds the store is left as it is.
    let table = engine.tag_table_bytes();
    engine.observe_batch(&reads, Micros(T0 + 5));
    assert!(engine.flush(Micros(T0 + 6)).is_none());
    assert_eq!(engine.tag_table_bytes(), table);
}

#[test]
fn the_tag_table_shrinks_once_most_tags_left() {
    let mut engine = engine();
    let reads: Vec<TagRead> = (0..TAGS).map(read).collect();
    for at in [1, 2] {
        engine.observe_batch(&reads, Micros(T0 + at));
    }
    engine.flush(Micros(T0 + 3)).expect("arrivals");
    let full = engine.tag_table_bytes();
    // 100 tags go on being read; the rest are not seen for longer than depart-after (5 min).
    let later = T0 + 400_000_000;
    engine.observe_batch(&reads[..100], Micros(later));
    // The reader is live (heard at that time), so absence elsewhere counts.
    engine.heard(reads[0].reader, Micros(later));
    let delta = engine.flush(Micros(later + 1)).expect("departures");
    assert_eq!(delta.tag_changes.len(), TAGS as usize - 100);
    assert_eq!(engine.tags_present(), 100);
    assert!(
        engine.tag_table_bytes() < full / 32,
        "{full} -> {}",
        engine.tag_table_bytes()
    );
}
