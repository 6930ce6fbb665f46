//! The published JSON Schemas (`docs/schemas/`) as a validator: every payload a suite sees the daemon emit is checked against them with a real JSON Schema implementation.
//!
//! Which schema applies is decided by the topic alone (SPEC §6), never by the daemon's code.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

struct Schemas {
    delta: jsonschema::Validator,
    snapshot: jsonschema::Validator,
    status: jsonschema::Validator,
    reader: jsonschema::Validator,
    cmd_snapshot: jsonschema::Validator,
    cmd_replay: jsonschema::Validator,
    count: jsonschema::Validator,
    cmd_sale: jsonschema::Validator,
    epcis: jsonschema::Validator,
    discrepancies: jsonschema::Validator,
    expected: jsonschema::Validator,
    replenish: jsonschema::Validator,
}

fn load(file: &str) -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/schemas")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{} is not a valid schema: {e}", path.display()))
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas {
        delta: load("delta.json"),
        snapshot: load("snapshot.json"),
        status: load("status.json"),
        reader: load("readers.json"),
        cmd_snapshot: load("cmd_snapshot.json"),
        cmd_replay: load("cmd_replay.json"),
        count: load("count.json"),
        cmd_sale: load("cmd_sale.json"),
        epcis: load("epcis.json"),
        discrepancies: load("discrepancies.json"),
        expected: load("expected.json"),
        replenish: load("replenish.json"),
    })
}

/// Checks one payload published on `topic` against its published schema. An empty payload on a
/// retained topic is a clear (a stale snapshot part, a retained message removed) and has no schema.
pub fn check_payload(topic: &str, payload: &[u8]) -> Result<(), String> {
    let levels: Vec<&str> = topic.split('/').collect();
    let n = levels.len();
    let s = schemas();
    let validator = match levels.as_slice() {
        [.., "cmd", "snapshot"] => &s.cmd_snapshot,
        [.., "cmd", "replay"] => &s.cmd_replay,
        [.., "cmd", "sale"] => &s.cmd_sale,
        [.., "count"] => &s.count,
        [.., "epcis"] => &s.epcis,
        [.., "delta"] => &s.delta,
        [.., "snapshot"] => &s.snapshot,
        [.., "snapshot", k] if k.parse::<u32>().is_ok() => &s.snapshot,
        [.., "status"] => &s.status,
        [.., "readers", _] => &s.reader,
        [.., "discrepancies"] => &s.discrepancies,
        [.., "expected"] => &s.expected,
        [.., "replenish"] => &s.replenish,
        [.., "replenish", k] if k.parse::<u32>().is_ok() => &s.replenish,
        [.., "expected", k] if k.parse::<u32>().is_ok() => &s.expected,
        [.., "discrepancies", k] if k.parse::<u32>().is_ok() => &s.discrepancies,
        _ => return Err(format!("{topic}: not a topic of the contract ({n} levels)")),
    };
    if payload.is_empty() {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("{topic}: payload is not json: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{topic}: payload breaks its schema: {}; payload: {}",
            errors.join("; "),
            String::from_utf8_lossy(payload)
        ))
    }
}

/// [`check_payload`], as an assertion.
pub fn assert_payload_valid(topic: &str, payload: &[u8]) {
    if let Err(e) = check_payload(topic, payload) {
        panic!("{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_accepts_its_examples_and_rejects_a_broken_one() {
        for (file, topic) in [
            ("delta.json", "p/s/delta"),
            ("snapshot.json", "p/s/snapshot"),
            ("status.json", "p/s/status"),
            ("readers.json", "p/s/readers/r1"),
            ("cmd_snapshot.json", "p/s/cmd/snapshot"),
            ("cmd_replay.json", "p/s/cmd/replay"),
            ("epcis.json", "p/s/epcis"),
            ("discrepancies.json", "p/s/discrepancies"),
            ("expected.json", "p/s/expected"),
            ("replenish.json", "p/s/replenish"),
        ] {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../docs/schemas")
                .join(file);
            let schema: Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            for example in schema["examples"].as_array().unwrap() {
                let bytes = serde_json::to_vec(example).unwrap();
                check_payload(topic, &bytes).unwrap();
            }
        }
        assert!(check_payload("p/s/delta", br#"{"schema":"tagtally.delta/1"}"#).is_err());
        assert!(check_payload(
            "p/s/status",
            br#"{"schema":"tagtally.status/1","store":"s","state":"online"}"#
        )
        .is_err());
        assert!(check_payload("p/s/snapshot/3", b"").is_ok());
        assert!(check_payload(
            "p/s/epcis",
            br#"{"type":"EPCISDocument","schemaVersion":"2.0","tagtally:schema":"tagtally.epcis/1"}"#
        )
        .is_err());
        assert!(check_payload("p/s/other", b"{}").is_err());
    }
}
