//! GS1's EPCIS 2.0 JSON Schema (vendored in `golden/epcis/`) as a validator, for every suite that
//! checks a document tagtally emits.

#![allow(dead_code)] // each suite uses a different part

use serde_json::Value;

/// The golden EPCIS data directory.
pub const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/epcis");

/// The EPCIS 2.0 JSON Schema, compiled.
pub fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!("{GOLDEN}/EPCIS-JSON-Schema.json")).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema json");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// Fails with every schema error and the document.
pub fn assert_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}
