//! The JSON Schemas in docs/schemas agree with what the code emits and parses: names match the
//! contract crate's, the uplink's status payload validates, and the reference consumer accepts
//! the documented delta and snapshot examples.

use std::path::PathBuf;
use std::time::SystemTime;

use tagtally::uplink::{status_payload, Refusal, StatusIdentity, STATUS_SCHEMA};
use tagtally_contract::{
    encode_discrepancies_parts, CountMessage, CountSchema, DeltaSchema, DiscrepanciesHeader,
    DiscrepanciesPart, DiscrepanciesSchema, Discrepancy, ExpectedPart, ExpectedSchema,
    ReaderSchema, ReplenishPart, ReplenishSchema, SaleCommand, SnapshotSchema, StatusSchema,
    StoreState,
};
use tagtally_tests::schemas::assert_payload_valid;
use tagtally_tooling::consumer::{ChainTracker, Observation};

fn schema(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/schemas")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn examples(s: &serde_json::Value) -> Vec<serde_json::Value> {
    s["examples"].as_array().expect("examples").clone()
}

#[test]
fn every_schema_names_itself_as_the_contract_does() {
    for (file, id) in [
        ("delta.json", DeltaSchema::NAME),
        ("snapshot.json", SnapshotSchema::NAME),
        ("status.json", StatusSchema::NAME),
        ("readers.json", ReaderSchema::NAME),
        ("count.json", CountSchema::NAME),
        ("discrepancies.json", DiscrepanciesSchema::NAME),
        ("expected.json", ExpectedSchema::NAME),
        ("replenish.json", ReplenishSchema::NAME),
    ] {
        let s = schema(file);
        assert_eq!(s["$id"], id, "{file}");
        assert_eq!(s["properties"]["schema"]["const"], id, "{file}");
    }
}

#[test]
fn status_payloads_validate() {
    assert_eq!(STATUS_SCHEMA, "tagtally.status/2");
    let identity = StatusIdentity {
        epoch: "0193a4f2-8c1e-7b3a-9d2e-4f6a8b0c1d2e".into(),
        boot: 3,
        version: "0.1.0".into(),
    };
    let refusal = Refusal {
        topic: "tagtally/v1/paris-01/delta".into(),
        bytes: 5000,
        limit: 4096,
        seq: Some(9),
    };
    for state in [
        StoreState::Online,
        StoreState::Offline,
        StoreState::DiskFull,
    ] {
        for refused in [None, Some(&refusal)] {
            let p = status_payload(
                "paris-01",
                &identity,
                1,
                SystemTime::now(),
                state,
                12,
                refused,
            );
            assert_payload_valid("tagtally/v1/paris-01/status", &p);
        }
    }
}

#[test]
fn consumer_accepts_documented_examples() {
    let mut t = ChainTracker::new();
    let snapshot = examples(&schema("snapshot.json")).remove(0);
    let obs = t.on_snapshot(snapshot.to_string().as_bytes());
    assert!(
        matches!(obs.last(), Some(Observation::Resynced { seq: 4812, .. })),
        "{obs:?}"
    );
    let delta = examples(&schema("delta.json")).remove(0);
    let obs = t.on_delta(delta.to_string().as_bytes());
    // The example delta is seq 4812, already covered by the example snapshot.
    assert!(
        matches!(obs.last(), Some(Observation::Duplicate { seq: 4812, .. })),
        "{obs:?}"
    );
    assert_eq!(t.totals()["80614141123458"], 51);
    let status = examples(&schema("status.json")).remove(0);
    let obs = t.on_status(status.to_string().as_bytes());
    assert!(
        matches!(obs.last(), Some(Observation::Status { seq: 4812, .. })),
        "{obs:?}"
    );
}

#[test]
fn the_count_and_cmd_sale_examples_are_what_the_contract_reads() {
    for example in examples(&schema("count.json")) {
        let bytes = serde_json::to_vec(&example).unwrap();
        assert_payload_valid("tagtally/v1/paris-01/count", &bytes);
        let parsed = CountMessage::parse(&bytes).expect("the contract reads the example");
        assert_payload_valid("tagtally/v1/paris-01/count", &parsed.encode());
    }
    for example in examples(&schema("cmd_sale.json")) {
        let bytes = serde_json::to_vec(&example).unwrap();
        assert_payload_valid("tagtally/v1/paris-01/cmd/sale", &bytes);
        SaleCommand::parse(&bytes).expect("the contract reads the example");
    }
}

#[test]
fn discrepancies_examples_parse_and_emitted_parts_validate() {
    for example in examples(&schema("discrepancies.json")) {
        let bytes = serde_json::to_vec(&example).unwrap();
        assert_payload_valid("tagtally/v1/paris-01/discrepancies", &bytes);
        let parsed = DiscrepanciesPart::parse(&bytes).expect("the contract reads the example");
        assert_payload_valid("tagtally/v1/paris-01/discrepancies", &parsed.encode());
    }
    let items: Vec<Discrepancy<'static>> = (0..500u32)
        .map(|i| Discrepancy {
            sku: format!("8061414{i:07}").into(),
            book: u64::from(i % 3),
            counted: u64::from(i % 3) + 1,
            difference: 1,
            stale: i % 7 == 0,
        })
        .collect();
    let header = DiscrepanciesHeader {
        store: "paris-01",
        epoch: "0190a6e4-7c1d-7b52-9a3e-1f2d3c4b5a69",
        seq: 12,
        time: "2026-12-04T06:10:00.000Z",
        book_id: "b",
        book_as_of: "2026-12-04",
        discrepancies_id: "0190a6e4-9a00-7b52-9a3e-1f2d3c4b5a69",
        book_skus: 500,
        stale_zones: &["backroom"],
    };
    let parts = encode_discrepancies_parts(&header, &items, 4096);
    assert!(parts.len() > 1);
    let topics = tagtally_contract::Topics::new("tagtally/v1", "paris-01").unwrap();
    for (k, part) in (1..).zip(&parts) {
        assert_payload_valid(&topics.discrepancies_part(k), part);
    }
    let empty = encode_discrepancies_parts(&header, &[], 4096);
    assert_payload_valid(&topics.discrepancies(), &empty[0]);
}

#[test]
fn the_expected_examples_are_what_the_contract_reads() {
    for example in examples(&schema("expected.json")) {
        let bytes = serde_json::to_vec(&example).unwrap();
        assert_payload_valid("tagtally/v1/paris-01/expected", &bytes);
        let parsed = ExpectedPart::parse(&bytes).expect("the contract reads the example");
        assert_payload_valid("tagtally/v1/paris-01/expected", &parsed.encode());
    }
}

#[test]
fn the_replenish_examples_are_what_the_contract_reads() {
    for example in examples(&schema("replenish.json")) {
        let bytes = serde_json::to_vec(&example).unwrap();
        assert_payload_valid("tagtally/v1/paris-01/replenish", &bytes);
        let parsed = ReplenishPart::parse(&bytes).expect("the contract reads the example");
        assert_payload_valid("tagtally/v1/paris-01/replenish", &parsed.encode());
    }
}
