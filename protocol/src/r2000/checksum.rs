//! The R2000 "0xA0" frame check byte: two's complement of the 8-bit sum of every byte before it,
//! so that all bytes of a good frame sum to zero (protocols.md §2.5).

/// The check byte for `bytes` (header through the last data byte).
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |sum, &b| sum.wrapping_add(b))
        .wrapping_neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_frames() {
        assert_eq!(checksum(&[0xA0, 0x04, 0x01, 0x89, 0x01]), 0xD1);
        assert_eq!(checksum(&[0xA0, 0x03, 0x01, 0x72]), 0xEA);
        assert_eq!(checksum(&[]), 0x00);
    }
}
