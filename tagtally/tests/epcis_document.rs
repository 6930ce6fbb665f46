//! EPCIS 2.0 documents of tagtally's stock changes: every document validates against GS1's EPCIS 2.0
//! JSON Schema (vendored in `golden/epcis/`), and every `eventID` equals the CBV 2.0 event hash of
//! the reference implementation (epcis-event-hash-generator, `golden/epcis/sample_hashes.txt`).

mod epcis_support;

use epcis_support::{assert_valid, schema, GOLDEN};
use serde_json::Value;
use tagtally::epcis::cbv::StockChange;
use tagtally::epcis::document::epcis_document;
use tagtally::epcis::location::{Locations, StoreGln};
use tagtally::epcis::object_event::ObjectEvent;
use tagtally_reader_drivers::Micros;

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The acceptance scenario: arrivals of several schemes, a move, a departure and a count result,
/// under a store GLN and under the store's name, and a departure without a readPoint.
fn sample() -> Value {
    let t0 = 1_796_328_000_123_000; // 2026-12-03T20:00:00.123Z
    let gln = Locations::Gln("0614141.00777".parse::<StoreGln>().expect("gln"));
    let urn = Locations::Urn {
        store: "paris-01".into(),
    };
    let event = |locations: &Locations, dt: u64, change, epcs: &[&str], reader, zone| ObjectEvent {
        time: Micros(t0 + dt),
        change,
        epcs: epcs.iter().map(|e| hex(e)).collect(),
        read_point: Some(locations.antenna(reader, 2).expect("antenna")),
        biz_location: locations.zone(zone).expect("zone"),
    };
    let events = vec![
        // SGTIN-96 (the TDS example), SGTIN-198 with a '/' in its serial, GRAI-96.
        event(
            &gln,
            0,
            StockChange::Arrival,
            &["3074257BF7194E4000001A85"],
            "ceiling-1",
            "floor",
        ),
        event(
            &gln,
            1_000,
            StockChange::Arrival,
            &[
                "3674257BF6B7A659B2C2BF100000000000000000000000000000",
                "3374257BF40C0E400000162E",
            ],
            "ceiling-1",
            "floor",
        ),
        // GID-96 (no GS1 key) and a factory-default EPC (no scheme: the raw URI).
        event(
            &urn,
            2_000,
            StockChange::Arrival,
            &["35000000A00000B0000000C0", "E2801160600002054E3C1C0B"],
            "till",
            "backroom",
        ),
        event(
            &gln,
            3_000_000,
            StockChange::Move,
            &["3074257BF7194E4000001A85"],
            "door",
            "backroom",
        ),
        event(
            &urn,
            60_000_000,
            StockChange::Departure,
            &["3074257BF7194E4000001A85"],
            "till",
            "floor",
        ),
        event(
            &gln,
            120_000_000,
            StockChange::CountResult,
            &[
                "3074257BF7194E4000001A85",
                "30204ED9496334000000006E",
                "300833B2DDD9014000000001",
            ],
            "handheld",
            "floor",
        ),
    ];
    // What the daemon writes: no readPoint (no one antenna observed a presence decision).
    let mut events = events;
    events.push(ObjectEvent {
        read_point: None,
        ..event(
            &gln,
            180_000_000,
            StockChange::Departure,
            &["3074257BF7194E4000001A85"],
            "till",
            "backroom",
        )
    });
    epcis_document(Micros(t0 + 200_000_000), &events)
}

#[test]
fn sales_and_count_departures_use_cbv_words_the_epcis_2_schema_knows() {
    let urn = Locations::Urn {
        store: "paris-01".into(),
    };
    let departure = |change| ObjectEvent {
        time: Micros(1_796_328_000_000_000),
        change,
        epcs: vec![hex("3074257BF7194E4000001A85")],
        read_point: None,
        biz_location: urn.zone("floor").expect("zone"),
    };
    let document = epcis_document(
        Micros(1_796_328_001_000_000),
        &[
            departure(StockChange::Sale),
            departure(StockChange::MissingAtCount),
        ],
    );
    // The schema's enums hold every CBV 2.0 word: a misspelt one would not validate.
    assert_valid(&schema(), &document);
    let events = &document["epcisBody"]["eventList"];
    assert_eq!(events[0]["bizStep"], "retail_selling");
    assert_eq!(events[0]["disposition"], "retail_sold");
    assert_eq!(events[1]["bizStep"], "cycle_counting");
    assert_eq!(events[1]["disposition"], "unknown");
    let mut misspelt = document.clone();
    misspelt["epcisBody"]["eventList"][0]["disposition"] = "sold".into();
    assert!(!schema().is_valid(&misspelt), "the schema checks the words");
}

#[test]
fn documents_validate_against_the_epcis_2_schema() {
    let validator = schema();
    let document = sample();
    assert_valid(&validator, &document);
    assert_valid(&validator, &epcis_document(Micros(0), &[]));
    // The validator does reject: an action EPCIS does not have, a missing time zone offset.
    let mut bad = document.clone();
    bad["epcisBody"]["eventList"][0]["action"] = "SEEN".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = document;
    if let Some(event) = bad["epcisBody"]["eventList"][1].as_object_mut() {
        event.remove("eventTimeZoneOffset");
    }
    assert!(!validator.is_valid(&bad));
}

#[test]
fn event_ids_are_the_reference_cbv_2_event_hashes() {
    let document = sample();
    let path = format!("{GOLDEN}/sample_document.jsonld");
    if std::env::var_os("TAGTALLY_WRITE_EPCIS_SAMPLE").is_some() {
        let text = serde_json::to_string_pretty(&document).expect("json");
        std::fs::write(&path, text + "\n").expect("write sample");
    }
    // The reference hashed exactly this document.
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("json");
    assert_eq!(
        committed, document,
        "the sample document changed: regenerate its hashes"
    );
    let expected: Vec<String> = std::fs::read_to_string(format!("{GOLDEN}/sample_hashes.txt"))
        .expect("hashes")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_owned)
        .collect();
    let ours: Vec<&str> = document["epcisBody"]["eventList"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["eventID"].as_str().expect("eventID"))
        .collect();
    assert_eq!(ours, expected);
}
