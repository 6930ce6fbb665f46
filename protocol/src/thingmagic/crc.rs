//! The ThingMagic message CRC: CRC-16 polynomial 0x1021, register preset 0xFFFF, data shifted in
//! nibble by nibble *without* the trailing 16 zero bits that catalogue CRCs append.
//!
//! Because of that missing augmentation it matches no `crc` catalogue entry (protocols.md §2.3);
//! the identity `thingmagic_crc(m) == CRC_16_SPI_FUJITSU(m ‖ 00 00)`-style cross-check lives in the
//! tests. Check value for `"123456789"` is `0xA69D`.

/// `x * 0x1021 mod x^16` for every 4-bit `x`: the contribution of the nibble that falls off the
/// top of the register.
const NIBBLE_TABLE: [u16; 16] = {
    let mut table = [0u16; 16];
    let mut nibble = 0;
    while nibble < 16 {
        let mut value = (nibble as u16) << 12;
        let mut bit = 0;
        while bit < 4 {
            value = if value & 0x8000 != 0 {
                (value << 1) ^ 0x1021
            } else {
                value << 1
            };
            bit += 1;
        }
        table[nibble] = value;
        nibble += 1;
    }
    table
};

/// The CRC a ThingMagic module expects over `bytes` (LEN through the last DATA byte), sent big-endian.
pub fn thingmagic_crc(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xFFFF, |crc, &byte| {
        let crc = shift_in_nibble(crc, byte >> 4);
        shift_in_nibble(crc, byte & 0x0F)
    })
}

/// Shifts one data nibble into the low end of the register and folds the nibble leaving the top
/// back in through the table.
#[inline]
fn shift_in_nibble(crc: u16, nibble: u8) -> u16 {
    let leaving = usize::from(crc >> 12);
    ((crc << 4) | u16::from(nibble)) ^ NIBBLE_TABLE[leaving]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_published_first_and_last_entries() {
        assert_eq!(NIBBLE_TABLE[0], 0x0000);
        assert_eq!(NIBBLE_TABLE[1], 0x1021);
        assert_eq!(NIBBLE_TABLE[15], 0xF1EF);
    }

    #[test]
    fn check_value() {
        assert_eq!(thingmagic_crc(b"123456789"), 0xA69D);
    }

    #[test]
    fn version_command() {
        // FF 00 03 1D 0C: CRC over LEN and opcode.
        assert_eq!(thingmagic_crc(&[0x00, 0x03]), 0x1D0C);
    }
}
