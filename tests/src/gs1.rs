//! SGTIN-96 EPCs and the GTIN-14 they count under, written from the GS1 Tag Data Standard and not
//! from the daemon's code, so the ground truth does not inherit a decoder bug.

/// Company prefix of every test item (7 digits: partition 5).
pub const COMPANY: u32 = 614_141;

/// The SGTIN-96 of `item` (6 digits, indicator digit first) and `serial` (< 2^38) under
/// [`COMPANY`], filter 1, as 12 bytes.
pub fn sgtin96(item: u32, serial: u64) -> [u8; 12] {
    assert!(item < 1_000_000 && serial < (1 << 38), "out of range");
    // header 0x30 | filter 3 bits | partition 3 bits | company 24 | item 20 | serial 38.
    let bits = (0x30u128 << 88)
        | (1u128 << 85)
        | (5u128 << 82)
        | (u128::from(COMPANY) << 58)
        | (u128::from(item) << 38)
        | u128::from(serial);
    let mut epc = [0u8; 12];
    epc.copy_from_slice(&bits.to_be_bytes()[4..]);
    epc
}

/// The GTIN-14 of `item`: indicator digit, company prefix, item reference, check digit.
pub fn gtin(item: u32) -> String {
    let digits = format!("{}{COMPANY:07}{:05}", item / 100_000, item % 100_000);
    let weighted: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{digits}{}", (10 - weighted % 10) % 10)
}

/// The SKU the daemon must count `epc` under (SPEC §3): the GTIN-14 of our SGTIN-96 items, else the
/// longest matching `[[sku-map]]` prefix (hex), else `unknown`. Only the EPC kinds the scenarios use
/// are understood; anything else is a mistake in the test plan.
pub fn expected_sku(epc: &[u8], sku_map: &[(String, String)]) -> String {
    if epc.len() == 12 && epc[0] == 0x30 {
        let bits = epc.iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
        let partition = (bits >> 82) & 0b111;
        let company = (bits >> 58) & 0xFF_FFFF;
        assert!(
            partition == 5 && company == u128::from(COMPANY),
            "test plan uses an SGTIN-96 outside company {COMPANY}, partition 5"
        );
        return gtin(((bits >> 38) & 0xF_FFFF) as u32);
    }
    assert!(
        epc.first().is_some_and(|h| h >> 4 == 0xE),
        "test plan uses an EPC that is neither our SGTIN-96 nor a non-GS1 E-class tag"
    );
    let hex: String = epc.iter().map(|b| format!("{b:02X}")).collect();
    sku_map
        .iter()
        .filter(|(prefix, _)| hex.starts_with(&prefix.to_ascii_uppercase()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or_else(|| "unknown".to_owned(), |(_, sku)| sku.clone())
}

/// The first `bytes` bytes of `item`'s SGTIN-96 with serial 0: a scenario `[[population]]` prefix
/// whose serials (below 2^38) land in the serial field when `item` is a multiple of 4.
pub fn population_prefix(item: u32, bytes: usize) -> String {
    assert_eq!(
        item % 4,
        0,
        "a 7-byte prefix leaves the item's two low bits to the serial"
    );
    sgtin96(item, 0)[..bytes]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tds_worked_example() {
        // TDS: urn:epc:id:sgtin:0614141.812345.6789 = 3074257BF7194E4000001A85 (filter 3);
        // with filter 1 the second byte changes from 0x74 to 0x34.
        let epc = sgtin96(812_345, 6789);
        assert_eq!(
            epc,
            [0x30, 0x34, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0x1A, 0x85]
        );
        assert_eq!(gtin(812_345), "80614141123458");
    }
}
