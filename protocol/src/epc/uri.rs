//! The EPC raw URI, for bits that decode as no identity.

use crate::hex::Hex;

/// The EPC raw URI for bits no scheme decodes: `urn:epc:raw:<bits>.x<HEX>`.
pub fn raw_uri(epc: &[u8]) -> String {
    format!(
        "urn:epc:raw:{}.x{:X}",
        epc.len().saturating_mul(8),
        Hex(epc)
    )
}

#[cfg(test)]
mod tests {
    use super::raw_uri;

    #[test]
    fn raw_uris() {
        assert_eq!(raw_uri(&[0xE2, 0x80]), "urn:epc:raw:16.xE280");
        assert_eq!(raw_uri(&[]), "urn:epc:raw:0.x");
    }
}
