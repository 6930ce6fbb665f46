//! The JSON Schemas in docs/schemas agree with what the code emits and parses: names match the
//! `schema` field of their examples, the uplink's status payload is the documented one, and the
//! reference consumer accepts the documented delta and snapshot examples.

use std::path::PathBuf;

use tagtally::uplink::consumer::{ChainTracker, Observation};
use tagtally::uplink::{status_payload, STATUS_SCHEMA};

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
fn every_schema_names_itself_and_its_examples() {
    for (file, id) in [
        ("delta.json", "tagtally.delta/1"),
        ("snapshot.json", "tagtally.snapshot/1"),
        ("status.json", "tagtally.status/1"),
        ("readers.json", "tagtally.reader/1"),
    ] {
        let s = schema(file);
        assert_eq!(s["$id"], id, "{file}");
        assert_eq!(s["properties"]["schema"]["const"], id, "{file}");
        for e in examples(&s) {
            assert_eq!(e["schema"], id, "{file}");
            for required in s["required"].as_array().expect("required") {
                let key = required.as_str().expect("key");
                assert!(e.get(key).is_some(), "{file}: example lacks {key}");
            }
        }
    }
}

#[test]
fn status_payload_is_the_documented_one() {
    assert_eq!(STATUS_SCHEMA, "tagtally.status/1");
    let docs = examples(&schema("status.json"));
    for (online, doc) in [(true, &docs[0]), (false, &docs[1])] {
        let ours: serde_json::Value =
            serde_json::from_slice(&status_payload("paris-01", online)).expect("json");
        assert_eq!(&ours, doc);
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
}
