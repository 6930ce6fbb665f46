//! Golden vectors of the TDS 2.0 '+' schemes (`golden/epc/plus_vectors.tsv`): the TDS 2.3 Annex
//! E.3 examples decode to the GS1 Digital Link URI an independent implementation
//! (dannyhaak/TagDataTranslation) gives them and re-encode to the same bits; broken ones decode as
//! `invalid` with the exact reason, and never yield fields or a SKU.

use tagtally_protocol::epc::{self, Kind, Sku};

/// Hex to bytes, an odd digit count padded with a zero nibble.
fn parse_hex(hex: &str) -> Vec<u8> {
    let padded = if hex.len() % 2 == 1 {
        format!("{hex}0")
    } else {
        hex.to_owned()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).expect("hex"))
        .collect()
}

fn vectors() -> Vec<(usize, String, String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/epc/plus_vectors.tsv"
    );
    let text = std::fs::read_to_string(path).expect("plus_vectors.tsv");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(n, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "line {}", n + 1);
            (n + 1, cols[0].into(), cols[1].into(), cols[2].into())
        })
        .collect()
}

#[test]
fn legal_vectors_decode_to_their_digital_link_and_reencode_to_their_bits() {
    let mut legal = 0;
    for (line, hex, scheme, link) in vectors() {
        if scheme == "invalid" {
            continue;
        }
        legal += 1;
        let bytes = parse_hex(&hex);
        let decoded = epc::decode(&bytes);
        let Kind::Plus(plus) = &decoded.kind else {
            panic!("line {line} {hex}: {:?}", decoded.kind);
        };
        assert_eq!(decoded.scheme_name(), scheme, "line {line}");
        assert_eq!(plus.digital_link(), link, "line {line}");
        assert_eq!(epc::sku(&bytes), decoded.sku(), "line {line}");
        match plus.gtin() {
            Some(gtin) => assert_eq!(decoded.sku(), Sku::Gtin(gtin), "line {line}"),
            None => assert!(
                matches!(decoded.sku(), Sku::Class(ref c) if link.starts_with(c.as_str())),
                "line {line}: {}",
                decoded.sku()
            ),
        }
        // Re-encoding gives the same bits, zero padded to whole 16-bit words.
        let mut expected = bytes.clone();
        expected.resize(plus.buffer_len().max(bytes.len()), 0);
        let emitted = plus.to_bytes();
        assert_eq!(emitted[..], expected[..emitted.len()], "line {line}");
        assert!(
            expected[emitted.len()..].iter().all(|&b| b == 0),
            "line {line}"
        );
    }
    assert_eq!(legal, 14);
}

#[test]
fn illegal_vectors_are_invalid_with_their_reason() {
    let mut illegal = 0;
    let mut wrong = Vec::new();
    for (line, hex, kind, why) in vectors() {
        if kind != "invalid" {
            continue;
        }
        illegal += 1;
        let bytes = parse_hex(&hex);
        let decoded = epc::decode(&bytes);
        let Kind::Invalid { scheme, error } = &decoded.kind else {
            panic!("line {line} {hex}: {:?}", decoded.kind);
        };
        let got = format!("{scheme}: {error}");
        if got != why {
            wrong.push(format!("line {line}: got {got:?}, want {why:?}"));
        }
        assert_eq!(decoded.sku(), Sku::Unresolved, "line {line}");
        assert_eq!(epc::sku(&bytes), Sku::Unresolved, "line {line}");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(illegal, 17);
}
