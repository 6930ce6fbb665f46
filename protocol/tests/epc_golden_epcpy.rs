//! Golden vectors from an independent implementation (epcpy, see `golden/epc/README.md`): every legal
//! vector decodes to epcpy's tag URI and pure identity and re-encodes to the same bits; every illegal
//! one decodes as `invalid` with a reason.

use tagtally_protocol::epc::{self, Kind};

struct Vector {
    line: usize,
    hex: String,
    expected: Expected,
}

enum Expected {
    Legal {
        tag_uri: String,
        pure_identity: String,
    },
    Invalid {
        what: String,
    },
}

fn parse_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn vectors() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/epc/epcpy_vectors.tsv"
    );
    let text = std::fs::read_to_string(path).expect("epcpy_vectors.tsv");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(n, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "line {}", n + 1);
            let expected = if cols[1] == "invalid" {
                Expected::Invalid {
                    what: cols[2].to_owned(),
                }
            } else {
                Expected::Legal {
                    tag_uri: cols[1].to_owned(),
                    pure_identity: cols[2].to_owned(),
                }
            };
            Vector {
                line: n + 1,
                hex: cols[0].to_owned(),
                expected,
            }
        })
        .collect()
}

#[test]
fn every_epcpy_vector_agrees() {
    let vectors = vectors();
    let mut failures = Vec::new();
    let mut schemes = std::collections::BTreeSet::new();
    for v in &vectors {
        let bytes = parse_hex(&v.hex);
        let decoded = epc::decode(&bytes);
        match (&v.expected, &decoded.kind) {
            (
                Expected::Legal {
                    tag_uri,
                    pure_identity,
                },
                Kind::Gs1(id),
            ) => {
                schemes.insert(id.scheme().name());
                if (&id.tag_uri(), &id.pure_identity()) != (tag_uri, pure_identity) {
                    failures.push(format!(
                        "line {} {}: expected {tag_uri} {pure_identity}, got {} {}",
                        v.line,
                        v.hex,
                        id.tag_uri(),
                        id.pure_identity()
                    ));
                }
                if id.to_bytes() != bytes {
                    failures.push(format!(
                        "line {} {}: re-encodes as {:02X?}",
                        v.line,
                        v.hex,
                        id.to_bytes()
                    ));
                }
            }
            (Expected::Invalid { .. }, Kind::Invalid { error, .. }) => {
                assert!(!error.to_string().is_empty());
            }
            (expected, got) => failures.push(format!(
                "line {} {}: expected {}, got {got:?}",
                v.line,
                v.hex,
                match expected {
                    Expected::Legal { tag_uri, .. } => tag_uri.clone(),
                    Expected::Invalid { what } => format!("invalid ({what})"),
                }
            )),
        }
        assert_eq!(epc::sku(&bytes), decoded.sku(), "line {}", v.line);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(schemes.len(), 21, "legal vectors cover only {schemes:?}");
}
