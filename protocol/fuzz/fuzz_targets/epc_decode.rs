//! Fuzz target: any bytes through `epc::decode` and `epc::sku`: no panic, the two agree, GTINs check
//! out, and every decoded identity (the '+' schemes included) re-encodes (`emit`) to the bits it came
//! from and decodes again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtally_protocol::epc::{self, Kind, Sku};

fuzz_target!(|data: &[u8]| {
    let decoded = epc::decode(data);
    let sku = epc::sku(data);
    assert_eq!(sku, decoded.sku(), "sku() disagrees with decode()");
    assert_eq!(decoded.bits, data.len() * 8);
    match (&decoded.kind, &sku) {
        (Kind::Gs1(identity), Sku::Gtin(gtin)) => {
            assert!(gtin.check_digit_valid(), "bad check digit in {gtin}");
            assert_eq!(identity.gtin(), Some(*gtin));
            assert_eq!(gtin.to_string().len(), 14);
            // The GTIN's digits are the indicator, prefix and item reference the URI shows.
            let cp = identity.field("company_prefix").unwrap_or("");
            let item = identity.field("item_ref").unwrap_or("");
            let text = gtin.to_string();
            assert_eq!(&text[..1], item.get(..1).unwrap_or(""));
            assert_eq!(&text[1..1 + cp.len()], cp);
            assert_eq!(&text[1 + cp.len()..13], item.get(1..).unwrap_or(""));
        }
        (Kind::Gs1(identity), Sku::Class(class)) => {
            assert!(identity.gtin().is_none());
            assert!(class.starts_with("urn:epc:idpat:") && class.ends_with(".*"));
        }
        (Kind::Plus(identity), Sku::Gtin(gtin)) => {
            assert!(gtin.check_digit_valid(), "bad check digit in {gtin}");
            assert_eq!(identity.gtin(), Some(*gtin));
        }
        (Kind::Plus(identity), Sku::Class(class)) => {
            assert!(identity.gtin().is_none());
            assert!(identity.digital_link().starts_with(class.as_str()));
        }
        (Kind::Gs1(_) | Kind::Plus(_), Sku::Unresolved) => panic!("a GS1 identity without a SKU"),
        (_, Sku::Unresolved) => {}
        (kind, sku) => panic!("{kind:?} yielded {sku:?}"),
    }
    if let Kind::Gs1(identity) = &decoded.kind {
        // Strict decoding: the identity's own encoding is the input, up to the scheme's last bit.
        let again = identity.to_bytes();
        let bits = identity.bit_len();
        assert!(bits <= data.len() * 8);
        for i in 0..bits {
            let bit = |b: &[u8]| (b[i / 8] >> (7 - i % 8)) & 1;
            assert_eq!(bit(&again), bit(data), "bit {i} differs after re-encoding");
        }
        match epc::decode(&again).kind {
            Kind::Gs1(back) => assert_eq!(&back, identity),
            other => panic!("re-encoding decodes as {other:?}"),
        }
    }
    if let Kind::Plus(identity) = &decoded.kind {
        // The '+' encoding is the input up to the identity's last bit (and, with the +AIDC
        // toggle set, the undecoded data after it); what follows is zero padding.
        let again = identity.to_bytes();
        let bits = identity.bit_len();
        assert!(bits <= data.len() * 8);
        let bit = |b: &[u8], i: usize| b.get(i / 8).map_or(0, |byte| (byte >> (7 - i % 8)) & 1);
        for i in 0..data.len() * 8 {
            assert_eq!(bit(&again, i), bit(data, i), "bit {i} differs after re-encoding");
        }
        match epc::decode(&again).kind {
            Kind::Plus(back) => assert_eq!(&back, identity),
            other => panic!("re-encoding decodes as {other:?}"),
        }
    }
    // The report always renders, and an invalid EPC never carries a GTIN.
    let report = decoded.report();
    if matches!(decoded.kind, Kind::Invalid { .. }) {
        assert!(report.iter().all(|(k, _)| *k != "gtin"));
    }
});
