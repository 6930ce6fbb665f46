//! Bytes as hexadecimal text, the one helper for every EPC, digest and id the product prints: `{:X}` or `{:x}`, no allocation.

use std::fmt;

/// Formats its bytes as two hex digits each: `format!("{:X}", Hex(&[0x30, 0xAB]))` is `30AB`,
/// `{:x}` gives `30ab`.
#[derive(Clone, Copy, Debug)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::UpperHex for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

impl fmt::LowerHex for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::Hex;

    #[test]
    fn both_cases_two_digits_per_byte() {
        assert_eq!(format!("{:X}", Hex(&[0x30, 0x0A, 0xFF])), "300AFF");
        assert_eq!(format!("{:x}", Hex(&[0x30, 0x0A, 0xFF])), "300aff");
        assert_eq!(format!("{:X}", Hex(&[])), "");
    }
}
