//! SGTIN-96 EPCs for emulated tags: the demo store's items and the black-box tests' ground truth.
//!
//! Only partition 5 (7-digit company prefix, 6-digit item reference with its indicator digit) is
//! built: enough for a believable store, and the decoder in `protocol` checks every bit of it.

/// Largest serial an SGTIN-96 carries (38 bits).
pub const MAX_SERIAL: u64 = (1 << 38) - 1;

/// The 96-bit EPC of `company` (7 digits), `item` (6 digits, indicator first) and `serial`, filter 1
/// (point-of-sale item). Values out of range are reduced into it, so the result always decodes.
pub fn sgtin96(company: u32, item: u32, serial: u64) -> [u8; 12] {
    let company = u128::from(company % 10_000_000);
    let item = u128::from(item % 1_000_000);
    let serial = u128::from(serial & MAX_SERIAL);
    let header = 0x30u128;
    let filter = 1u128;
    let partition = 5u128;
    // header 8 | filter 3 | partition 3 | company 24 | item 20 | serial 38 = 96 bits.
    let x = (header << 88)
        | (filter << 85)
        | (partition << 82)
        | (company << 58)
        | (item << 38)
        | serial;
    let bytes = x.to_be_bytes();
    let mut epc = [0u8; 12];
    epc.copy_from_slice(&bytes[4..]);
    epc
}

/// The SKU (GTIN-14) the daemon counts `sgtin96(company, item, _)` under.
pub fn gtin_of(company: u32, item: u32) -> String {
    let company = company % 10_000_000;
    let item = item % 1_000_000;
    // GTIN-14 body: indicator digit, company prefix, item reference without its indicator.
    let body = format!("{}{company:07}{:05}", item / 100_000, item % 100_000);
    let mut sum = 0u32;
    for (i, d) in body.bytes().rev().enumerate() {
        let d = u32::from(d - b'0');
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    format!("{body}{}", (10 - sum % 10) % 10)
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
