//! Character sets of EPC text fields (TDS Tables A-1 and G-1), the 6-bit code, and URI percent-escaping.

/// Whether a 7-bit value is in GS1 AI encodable character set 82 (TDS Table A-1).
pub fn is_gs1_char(c: u8) -> bool {
    matches!(c,
        b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// Which characters a text field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CharSet {
    /// GS1 set 82, 7 bits per character (SGTIN-198 serials, GIAI-202 references, ...).
    Gs1,
    /// CPI component/part references: digits, upper case, `#`, `-`, `/` (TDS set 39), 6 bits each.
    Cpi,
    /// ADI part numbers: digits, upper case, `-`, `/`, 6 bits each.
    Adi,
    /// ADI serials: as [`CharSet::Adi`], and `#` as the first character only.
    AdiSerial,
    /// CAGE codes and DoDAACs: digits and upper case.
    Cage,
}

impl CharSet {
    /// Whether `c` may stand at `position` of a field of this set.
    pub(crate) fn allows(self, c: u8, position: usize) -> bool {
        let alnum = c.is_ascii_digit() || c.is_ascii_uppercase();
        match self {
            CharSet::Gs1 => is_gs1_char(c),
            CharSet::Cpi => alnum || matches!(c, b'#' | b'-' | b'/'),
            CharSet::Adi => alnum || matches!(c, b'-' | b'/'),
            CharSet::AdiSerial => alnum || matches!(c, b'-' | b'/') || (c == b'#' && position == 0),
            CharSet::Cage => alnum,
        }
    }
}

/// The TDS 6-bit code of a character (Table G-1): its ASCII value's low six bits.
#[inline]
pub(crate) fn to_six_bits(c: u8) -> u64 {
    u64::from(c & 0x3F)
}

/// The character of a non-zero 6-bit code: 1..=31 are `A`..`_` (0x41..0x5F), 32..=63 are ` `..`?`.
#[inline]
pub(crate) fn from_six_bits(code: u64) -> u8 {
    let code = (code & 0x3F) as u8;
    if code < 0x20 {
        0x40 | code
    } else {
        code
    }
}

/// Percent-escapes the characters EPC URIs reserve (TDS Table A-1 `" % & / < > ?`, and `#` of the
/// 6-bit CPI and ADI fields).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("%22"),
            '#' => out.push_str("%23"),
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
    fn six_bit_code_round_trips_every_allowed_character() {
        for set in [
            CharSet::Cpi,
            CharSet::Adi,
            CharSet::AdiSerial,
            CharSet::Cage,
        ] {
            for c in (0u8..128).filter(|&c| set.allows(c, 0)) {
                assert_eq!(from_six_bits(to_six_bits(c)), c, "{c:#x}");
                assert_ne!(to_six_bits(c), 0);
            }
        }
        assert_eq!(
            (0u8..128).filter(|&c| CharSet::Cpi.allows(c, 0)).count(),
            39
        );
        assert!(CharSet::AdiSerial.allows(b'#', 0) && !CharSet::AdiSerial.allows(b'#', 1));
    }

    #[test]
    fn escapes_reserved_characters() {
        assert_eq!(escape("32a/b"), "32a%2Fb");
        assert_eq!(escape("\"%&/<>?x#"), "%22%25%26%2F%3C%3E%3Fx%23");
    }
}
