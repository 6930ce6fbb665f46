//! Fuzz target: any bytes through `epc::decode` and `epc::sku`: no panic, the two agree, GTINs check out.
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
            let pure = identity.identity().pure_identity();
            let mut parts = pure.trim_start_matches("urn:epc:id:sgtin:").split('.');
            let (cp, item) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let text = gtin.to_string();
            assert_eq!(&text[..1], item.get(..1).unwrap_or(""));
            assert_eq!(&text[1..1 + cp.len()], cp);
            assert_eq!(&text[1 + cp.len()..13], item.get(1..).unwrap_or(""));
        }
        (Kind::Gs1(identity), Sku::Class(class)) => {
            assert!(identity.gtin().is_none());
            assert!(class.starts_with("urn:epc:idpat:") && class.ends_with(".*"));
        }
        (Kind::Gs1(_), Sku::Unresolved) => panic!("a GS1 identity without a SKU"),
        (_, Sku::Unresolved) => {}
        (kind, sku) => panic!("{kind:?} yielded {sku:?}"),
    }
    // The report always renders, and an invalid EPC never carries a GTIN.
    let report = decoded.report();
    if matches!(decoded.kind, Kind::Invalid { .. }) {
        assert!(report.iter().all(|(k, _)| *k != "gtin"));
    }
});
