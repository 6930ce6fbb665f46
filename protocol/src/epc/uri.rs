//! 7-bit serial strings: the GS1 AI character set 82, TDS string decoding, and URI percent-escaping.

use super::bits::BitReader;
use super::error::DecodeError;

/// Whether a 7-bit value is in GS1 AI encodable character set 82 (TDS Table A-1).
pub fn is_gs1_char(c: u8) -> bool {
    matches!(c,
        b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// Reads a string of up to `max_chars` 7-bit characters: it ends at the first zero character, and every
/// character slot after that must be zero too (TDS string decoding).
pub(crate) fn read_string7(r: &mut BitReader<'_>, max_chars: usize) -> Result<String, DecodeError> {
    let mut text = String::new();
    let mut ended = false;
    for position in 0..max_chars {
        // The caller checked the EPC length, so running out means a shorter field: treat as zeros.
        let byte = r.read(7).unwrap_or(0) as u8;
        if ended {
            if byte != 0 {
                return Err(DecodeError::SerialAfterEnd { position, byte });
            }
        } else if byte == 0 {
            ended = true;
        } else if is_gs1_char(byte) {
            text.push(char::from(byte));
        } else {
            return Err(DecodeError::BadSerialChar { position, byte });
        }
    }
    if text.is_empty() {
        return Err(DecodeError::EmptySerial);
    }
    Ok(text)
}

/// Percent-escapes the characters of set 82 that URIs reserve (TDS Table A-1: `" % & / < > ?`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("%22"),
            '%' => out.push_str("%25"),
            '&' => out.push_str("%26"),
            '/' => out.push_str("%2F"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '?' => out.push_str("%3F"),
            other => out.push(other),
        }
    }
    out
}

/// The EPC raw URI for bits no scheme decodes: `urn:epc:raw:<bits>.x<HEX>`.
pub fn raw_uri(epc: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = format!("urn:epc:raw:{}.x", epc.len().saturating_mul(8));
    for b in epc {
        let _ = write!(out, "{b:02X}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn character_set_82_has_82_characters() {
        assert_eq!((0u8..128).filter(|&c| is_gs1_char(c)).count(), 82);
        for c in [
            b' ', b'#', b'$', b'@', b'[', b'\\', b']', b'^', b'`', b'{', b'|', b'}', b'~', 0x7F,
        ] {
            assert!(!is_gs1_char(c), "{c:#x}");
        }
    }

    #[test]
    fn escapes_reserved_characters() {
        assert_eq!(escape("32a/b"), "32a%2Fb");
        assert_eq!(escape("\"%&/<>?x"), "%22%25%26%2F%3C%3E%3Fx");
        assert_eq!(raw_uri(&[0xE2, 0x80]), "urn:epc:raw:16.xE280");
        assert_eq!(raw_uri(&[]), "urn:epc:raw:0.x");
    }
}
