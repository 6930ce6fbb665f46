//! MSB-first bit reader over an EPC's bytes: every read is bounds-checked and returns `None` past the end.

/// Reads big-endian bit fields of up to 64 bits from a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader positioned at bit `pos` (0 = most significant bit of the first byte).
    pub(crate) fn at(data: &'a [u8], pos: usize) -> Self {
        Self { data, pos }
    }

    /// Reads the next `n` bits (`n` ≤ 64) as an unsigned integer, or `None` if fewer remain.
    pub(crate) fn read(&mut self, n: u32) -> Option<u64> {
        if n > 64 {
            return None;
        }
        let end = self.pos.checked_add(n as usize)?;
        if end > self.data.len().checked_mul(8)? {
            return None;
        }
        let mut value = 0u64;
        for i in self.pos..end {
            let byte = *self.data.get(i / 8)?;
            let bit = (byte >> (7 - (i % 8))) & 1;
            value = (value << 1) | u64::from(bit);
        }
        self.pos = end;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::BitReader;

    #[test]
    fn reads_across_byte_boundaries_and_stops_at_the_end() {
        let data = [0b1010_1100, 0b0101_0011];
        let mut r = BitReader::at(&data, 2);
        assert_eq!(r.read(4), Some(0b1011));
        assert_eq!(r.read(6), Some(0b00_0101));
        assert_eq!(r.read(4), Some(0b0011));
        assert_eq!(r.read(1), None);
        assert_eq!(BitReader::at(&data, 0).read(65), None);
        assert_eq!(BitReader::at(&data, usize::MAX).read(1), None);
    }
}
