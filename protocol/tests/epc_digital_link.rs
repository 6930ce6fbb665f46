//! GS1 Digital Link URIs of every legal golden EPC agree with an independent implementation (the
//! normaliser of epcis-event-hash-generator, `golden/epc/digital_link.tsv`).

use tagtally_protocol::epc::{self, Kind};

fn lines(file: &str) -> Vec<Vec<String>> {
    let path = format!("{}/tests/golden/epc/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn parse_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn digital_links_agree_with_the_reference_normaliser() {
    let legal: Vec<Vec<String>> = lines("epcpy_vectors.tsv")
        .into_iter()
        .filter(|v| v[1] != "invalid")
        .collect();
    let links = lines("digital_link.tsv");
    assert_eq!(legal.len(), links.len());
    let mut compared = 0;
    for (vector, link) in legal.iter().zip(&links) {
        let Kind::Gs1(id) = epc::decode(&parse_hex(&vector[0])).kind else {
            panic!("{} does not decode", vector[0]);
        };
        assert_eq!(id.pure_identity(), link[0]);
        let ours = id.digital_link();
        match link[1].as_str() {
            // The reference normaliser's GRAI pattern misses a 12-digit company prefix (no asset
            // type); the Digital Link standard form is AI 8003 with a zero-digit asset type.
            "none" if id.scheme().identity_type() == "grai" => {
                let expected_start = format!("https://id.gs1.org/8003/0{}", link_cp(&link[0]));
                assert!(ours
                    .as_deref()
                    .is_some_and(|dl| dl.starts_with(&expected_start)));
            }
            "none" => assert_eq!(ours, None, "{}", link[0]),
            expected => {
                assert_eq!(ours.as_deref(), Some(expected), "{}", link[0]);
                compared += 1;
            }
        }
    }
    assert!(compared >= 400, "only {compared} compared");
}

fn link_cp(pure: &str) -> &str {
    pure.rsplit(':')
        .next()
        .and_then(|b| b.split('.').next())
        .unwrap_or("")
}
