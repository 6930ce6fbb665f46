//! SGTIN-96 EPCs for emulated tags: the demo store's items and the black-box tests' ground truth.
//!
//! Only partition 5 (7-digit company prefix, 6-digit item reference with its indicator digit) is
//! built, by the one SGTIN encoder, `tagtally_protocol::epc::Sgtin96`.

use tagtally_protocol::epc::{Digits, Sgtin96, SGTIN_96_MAX_SERIAL};

/// Largest serial an SGTIN-96 carries (38 bits).
pub const MAX_SERIAL: u64 = SGTIN_96_MAX_SERIAL;

/// Point-of-sale item, the filter of every demo tag.
const FILTER_POS_ITEM: u8 = 1;

fn item(company: u32, item: u32, serial: u64) -> Sgtin96 {
    let company = Digits::new(u64::from(company % 10_000_000), 7);
    let item = Digits::new(u64::from(item % 1_000_000), 6);
    let (Some(company), Some(item)) = (company, item) else {
        unreachable!("values reduced into 7 and 6 digits")
    };
    match Sgtin96::new(FILTER_POS_ITEM, company, item, serial & MAX_SERIAL) {
        Ok(sgtin) => sgtin,
        Err(e) => unreachable!("partition 5 fields reduced into range: {e}"),
    }
}

/// The 96-bit EPC of `company` (7 digits), `item` (6 digits, indicator first) and `serial`, filter 1
/// (point-of-sale item). Values out of range are reduced into it, so the result always decodes.
pub fn sgtin96(company: u32, item_ref: u32, serial: u64) -> [u8; 12] {
    item(company, item_ref, serial).to_bytes()
}

/// The SKU (GTIN-14) the daemon counts `sgtin96(company, item, _)` under.
pub fn gtin_of(company: u32, item_ref: u32) -> String {
    item(company, item_ref, 0).gtin().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_the_decoder_reads() {
        let epc = sgtin96(614_141, 812_345, 6789);
        let sku = tagtally_protocol::epc::sku(&epc).to_string();
        assert_eq!(sku, "80614141123458");
        assert_eq!(gtin_of(614_141, 812_345), sku);
        for (c, i, s) in [
            (1, 1, 1),
            (9_999_999, 999_999, MAX_SERIAL),
            (4_012_345, 100_042, 7),
        ] {
            let epc = sgtin96(c, i, s);
            assert_eq!(tagtally_protocol::epc::sku(&epc).to_string(), gtin_of(c, i));
        }
    }
}
