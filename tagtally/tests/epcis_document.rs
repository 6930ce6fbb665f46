//! EPCIS 2.0 documents of tagtally's stock changes: every document validates against GS1's EPCIS 2.0
//! JSON Schema (vendored in `golden/epcis/`), and every `eventID` equals the CBV 2.0 event hash of
//! the reference implementation (epcis-event-hash-generator, `golden/epcis/sample_hashes.txt`), for
//! a document of every kind of event and for the acceptance-like scenario the store itself writes
//! (`tagtally epcis` and the published `epcis` messages, `golden/epcis/scenario_*`).

mod epcis_support;

use std::sync::Arc;

use epcis_support::{assert_valid, schema, GOLDEN};
use serde_json::Value;
use tagtally::engine::{CountChange, Delta, DepartureReason, Placement, TagChange};
use tagtally::epcis::cbv::StockChange;
use tagtally::epcis::document::epcis_document;
use tagtally::epcis::location::{Locations, StoreGln};
use tagtally::epcis::object_event::ObjectEvent;
use tagtally::epcis::stock_events::object_events;
use tagtally::store::{Store, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Epc, Micros};
use tagtally_tests::schemas::assert_payload_valid;

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

/// One legal EPC of each of the 21 decoded TDS schemes, from the independent golden vectors
/// (`protocol/tests/golden/epc/epcpy_vectors.tsv`): text fields with characters the URIs escape.
/// No GRAI with a 12-digit company prefix: the reference implementation gives it no Digital Link
/// (see `golden/epcis/README.md`), so its hashes of such events differ from ours.
const EVERY_SCHEME: [&str; 21] = [
    "304016C3644469D0E16B004A",                                 // sgtin-96
    "3681119A716F95B6D966D12EF4BB1DBF91E1C68D000000000000",     // sgtin-198
    "31A2FA89C3ADEC6C54000000",                                 // sscc-96
    "32019210737010DA8729DCDD",                                 // sgln-96
    "394003A2CF4DA95E0C5555C00000000000000000000000000000",     // sgln-195
    "33044AE665CC808C0EFCCDEC",                                 // grai-96
    "37728FA13B0194E0FA6AA7561B000000000000000000",             // grai-170
    "34820916C73CCA6108A79D77",                                 // giai-96
    "38400263EED39FA33A9137ADEAB9173B5D67F2509C0000000000",     // giai-202
    "2D20956A5005BC2400000000",                                 // gsrn-96
    "2E205E719A9D3851F2000000",                                 // gsrnp-96
    "2C61B1570FA8283821212051",                                 // gdti-96
    "3EA220DE9BFF509C0000000000000000000000000000",             // gdti-174
    "3C20880DE75478BD821F8B6E",                                 // cpi-96
    "3DA019C0DA443B41A32834ED1C082347EF4E4000",                 // cpi-var
    "3FE1E4EF5196D400000007C6",                                 // sgcn-96
    "40218CEC009F1509B210581F13B8",                             // itip-110
    "41E07C70BB660C830795EB4367737830000000000000000000000000", // itip-212
    "35EFC98FB371EE0309AE2A77",                                 // gid-96
    "2FF20423338374BB7CA37084",                                 // usdod-96
    "3B9E05161344150234C7DF2E546994F8203482C6DE30B6DC97E5618A51318000", // adi-var
];

/// Tag `n` of the scenario as the engine hands it to the store.
fn scenario_tag(
    hex_epc: &str,
    zone: Option<&str>,
    departure: Option<DepartureReason>,
) -> TagChange {
    TagChange {
        epc: Epc::from_slice(&hex(hex_epc)).expect("epc"),
        placement: zone.map(|zone| Placement {
            zone: Arc::from(zone),
            sku: Arc::from("80614141123458"),
        }),
        departure,
    }
}

/// The acceptance-like scenario through the daemon's own path: flushes of engine tag changes
/// committed to a store that keeps and publishes events under a GLN (arrivals of a non-GS1 EPC and
/// of every decoded scheme in three zones; then a move, and a departure for each reason: unseen,
/// sale, count), at flush times with microseconds. Returns `tagtally epcis`'s document of the whole
/// history and the published `epcis` messages, in seq order.
fn scenario() -> (Value, Vec<Value>) {
    let t0 = 1_796_328_000_123_456; // 2026-12-03T20:00:00.123456Z
    let dir = tempfile::tempdir().expect("tempdir");
    let gln = "0614141.00777".parse::<StoreGln>().expect("gln");
    let locations = Locations::of("paris-01", Some(&gln));
    let options = StoreOptions {
        keep_events: true,
        publish_events: Some(locations.clone()),
        ..StoreOptions::new("paris-01", 1 << 24)
    };
    let store = Store::open(&dir.path().join(DATABASE_FILE), options)
        .expect("open")
        .store;
    let count = |zone: &str, delta: i64, count: u32| CountChange {
        zone: Arc::from(zone),
        sku: Arc::from("80614141123458"),
        delta,
        count,
    };
    let flushes = [
        Delta {
            time: Micros(t0),
            changes: vec![
                count("floor", 6, 6),
                count("backroom", 1, 1),
                count("window", 21, 21),
            ],
            tag_changes: vec![
                scenario_tag("3074257BF7194E4000001A85", Some("floor"), None),
                scenario_tag("3074257BF7194E4000001A86", Some("floor"), None),
                scenario_tag(
                    "3674257BF6B7A659B2C2BF100000000000000000000000000000",
                    Some("floor"),
                    None,
                ),
                scenario_tag("3374257BF40C0E400000162E", Some("floor"), None),
                scenario_tag("35000000A00000B0000000C0", Some("floor"), None),
                scenario_tag("E2801160600002054E3C1C0B", Some("floor"), None),
                scenario_tag("3074257BF7194E4000001A87", Some("backroom"), None),
            ]
            .into_iter()
            .chain(
                EVERY_SCHEME
                    .iter()
                    .map(|epc| scenario_tag(epc, Some("window"), None)),
            )
            .collect(),
        },
        Delta {
            time: Micros(t0 + 60_000_789),
            changes: vec![count("floor", -4, 2), count("backroom", 0, 1)],
            tag_changes: vec![
                scenario_tag("3074257BF7194E4000001A85", Some("backroom"), None),
                scenario_tag(
                    "35000000A00000B0000000C0",
                    None,
                    Some(DepartureReason::Unseen),
                ),
                scenario_tag(
                    "3074257BF7194E4000001A86",
                    None,
                    Some(DepartureReason::Sale),
                ),
                scenario_tag(
                    "3074257BF7194E4000001A87",
                    None,
                    Some(DepartureReason::Count),
                ),
            ],
        },
    ];
    for delta in &flushes {
        store.commit_flush(delta).expect("commit");
    }
    let events = store
        .events(Micros(0), Micros(u64::MAX), 1_000)
        .expect("events");
    let history = epcis_document(
        Micros(t0 + 120_000_000),
        &object_events(&events, &locations).expect("locations"),
    );
    let messages = store
        .read_epcis(0, usize::MAX)
        .expect("epcis outbox")
        .iter()
        .map(|(_, payload)| {
            assert_payload_valid("tagtally/v1/paris-01/epcis", payload);
            serde_json::from_slice(payload).expect("json")
        })
        .collect();
    (history, messages)
}

/// The event IDs of a document, in order.
fn event_ids(document: &Value) -> Vec<String> {
    document["epcisBody"]["eventList"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["eventID"].as_str().expect("eventID").to_owned())
        .collect()
}

#[test]
fn the_scenario_documents_validate_and_their_event_ids_are_the_reference_hashes() {
    let (history, mut messages) = scenario();
    let validator = schema();
    assert_valid(&validator, &history);
    for message in &messages {
        assert_valid(&validator, message);
    }
    // The database's epoch is new each run; it is no part of any event.
    let mut files = vec![("scenario_history.jsonld".to_owned(), history)];
    for message in &mut messages {
        message["tagtally:epoch"] = "0190a6e4-0000-7000-8000-000000000000".into();
        let seq = message["tagtally:seq"].as_u64().expect("seq");
        files.push((format!("scenario_epcis_{seq}.jsonld"), message.clone()));
    }
    if std::env::var_os("TAGTALLY_WRITE_EPCIS_SAMPLE").is_some() {
        for (name, document) in &files {
            let text = serde_json::to_string_pretty(document).expect("json");
            std::fs::write(format!("{GOLDEN}/{name}"), text + "\n").expect("write scenario");
        }
    }
    let hashes = std::fs::read_to_string(format!("{GOLDEN}/scenario_hashes.txt")).expect("hashes");
    let mut expected: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for line in hashes
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (file, hash) = line.split_once(' ').expect("`FILE HASH` lines");
        expected.entry(file).or_default().push(hash.to_owned());
    }
    assert_eq!(
        expected
            .keys()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        files.iter().map(|(name, _)| name.as_str()).collect(),
        "one hashed file per document"
    );
    for (name, document) in &files {
        let committed: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{GOLDEN}/{name}")).expect("scenario file"),
        )
        .expect("json");
        assert_eq!(
            &committed, document,
            "{name} changed: regenerate its hashes"
        );
        assert_eq!(event_ids(document), expected[name.as_str()], "{name}");
    }
    // What the scenario is: every stock change and departure reason, and the same events
    // published as printed.
    let steps: Vec<(String, String)> = files[0].1["epcisBody"]["eventList"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["bizStep"].as_str().expect("bizStep").to_owned(),
                e["disposition"].as_str().expect("disposition").to_owned(),
            )
        })
        .collect();
    for step in [
        ("arriving", "in_progress"),
        ("storing", "in_progress"),
        ("departing", "unknown"),
        ("retail_selling", "retail_sold"),
        ("cycle_counting", "unknown"),
    ] {
        assert!(
            steps.contains(&(step.0.to_owned(), step.1.to_owned())),
            "{step:?} missing from {steps:?}"
        );
    }
    let published: Vec<String> = files[1..].iter().flat_map(|(_, d)| event_ids(d)).collect();
    assert_eq!(published, event_ids(&files[0].1));
}
