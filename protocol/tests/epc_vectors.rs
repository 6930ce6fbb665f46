//! GS1 EPC decode vectors from `tests/golden/epc/vectors.txt`: every field of every report, and `sku()` agreeing.

use std::collections::BTreeMap;
use tagtally_protocol::epc::{self, Kind, ReportValue, Sku};

struct Vector {
    line: usize,
    hex: String,
    expected: BTreeMap<String, String>,
}

fn parse_hex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd hex {hex}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn vectors() -> Vec<Vector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/epc/vectors.txt");
    let text = std::fs::read_to_string(path).expect("vectors.txt");
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (hex, rest) = line
            .split_once(" -> ")
            .unwrap_or_else(|| panic!("line {}: no ' -> '", n + 1));
        let (fields, error) = match rest.split_once(" error=") {
            Some((fields, error)) => (fields, Some(error)),
            None => (rest, None),
        };
        let mut expected = BTreeMap::new();
        for token in fields.split_whitespace() {
            let (k, v) = token
                .split_once('=')
                .unwrap_or_else(|| panic!("line {}: token {token:?}", n + 1));
            assert!(expected.insert(k.to_owned(), v.to_owned()).is_none());
        }
        if let Some(error) = error {
            expected.insert("error".to_owned(), error.to_owned());
        }
        out.push(Vector {
            line: n + 1,
            hex: hex.to_owned(),
            expected,
        });
    }
    out
}

fn report_map(decoded: &epc::Decoded) -> BTreeMap<String, String> {
    let report = decoded.report();
    let map: BTreeMap<String, String> = report
        .iter()
        .map(|(k, v)| {
            let v = match v {
                ReportValue::Number(n) => n.to_string(),
                ReportValue::Text(t) => t.clone(),
            };
            ((*k).to_owned(), v)
        })
        .collect();
    assert_eq!(map.len(), report.len(), "duplicate keys in {report:?}");
    map
}

#[test]
fn every_vector_decodes_to_exactly_its_fields() {
    let vectors = vectors();
    assert!(vectors.len() >= 40, "only {} vectors", vectors.len());
    let mut failures = Vec::new();
    for v in &vectors {
        let bytes = parse_hex(&v.hex);
        let decoded = epc::decode(&bytes);
        let got = report_map(&decoded);
        if got != v.expected {
            failures.push(format!(
                "line {} {}:\n  expected {:?}\n  got      {:?}",
                v.line, v.hex, v.expected, got
            ));
        }
        assert_eq!(epc::sku(&bytes), decoded.sku(), "line {}", v.line);
        if let Sku::Gtin(gtin) = epc::sku(&bytes) {
            assert!(gtin.check_digit_valid());
        }
        if matches!(decoded.kind, Kind::Invalid { .. }) {
            assert!(!got.contains_key("gtin"), "line {}", v.line);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_worked_examples_are_present() {
    let hexes: Vec<String> = vectors().into_iter().map(|v| v.hex).collect();
    for hex in [
        "3074257BF7194E4000001A85",
        "30204ED9496334000000006E",
        "300833B2DDD9014000000001",
        "3674257BF6B7A659B2C2BF100000000000000000000000000000",
    ] {
        assert!(hexes.iter().any(|h| h == hex), "{hex} missing");
    }
}

#[test]
fn empty_input_is_unknown() {
    let decoded = epc::decode(&[]);
    assert_eq!(decoded.kind, Kind::Unknown);
    assert_eq!(decoded.bits, 0);
    assert_eq!(decoded.raw_uri, "urn:epc:raw:0.x");
    assert_eq!(epc::sku(&[]), Sku::Unresolved);
}

#[test]
fn sgtin_sku_is_the_gtin_and_class_skus_are_patterns() {
    let sgtin = parse_hex("3074257BF7194E4000001A85");
    match epc::sku(&sgtin) {
        Sku::Gtin(gtin) => {
            assert_eq!(gtin.as_u64(), 80_614_141_123_458);
            assert_eq!(gtin.to_string(), "80614141123458");
        }
        other => panic!("{other:?}"),
    }
    let grai = parse_hex("3374257BF40C0E400000162E");
    assert_eq!(
        epc::sku(&grai),
        Sku::Class("urn:epc:idpat:grai:0614141.12345.*".to_owned())
    );
    assert_eq!(
        epc::sku(&parse_hex("E2801160600002054E3C1C0B")),
        Sku::Unresolved
    );
}
