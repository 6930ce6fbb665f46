//! MSB-first bit reader and writer over an EPC's bytes: every access is bounds-checked, nothing panics.

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

    /// The position of the next bit to read.
    pub(crate) fn position(&self) -> usize {
        self.pos
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

/// Writes big-endian bit fields into a zeroed byte slice; a write past the end is refused, not truncated.
#[derive(Debug)]
pub(crate) struct BitWriter<'a> {
    data: &'a mut [u8],
    pos: usize,
}

impl<'a> BitWriter<'a> {
    /// A writer at bit 0 of `data`, which it zeroes first.
    pub(crate) fn new(data: &'a mut [u8]) -> Self {
        data.fill(0);
        Self { data, pos: 0 }
    }

    /// Writes the low `n` bits (`n` ≤ 64) of `value`; `false` (and nothing written) if they do not fit.
    pub(crate) fn write(&mut self, value: u64, n: u32) -> bool {
        let Some(end) = self.pos.checked_add(n as usize) else {
            return false;
        };
        if n > 64 || end > self.data.len().saturating_mul(8) {
            return false;
        }
        for (k, i) in (self.pos..end).enumerate() {
            let shift = n as usize - 1 - k;
            if (value >> shift) & 1 == 1 {
                if let Some(byte) = self.data.get_mut(i / 8) {
                    *byte |= 0x80 >> (i % 8);
                }
            }
        }
        self.pos = end;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::{BitReader, BitWriter};

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

    #[test]
    fn writes_what_the_reader_reads() {
        let mut buf = [0xFFu8; 3];
        let mut w = BitWriter::new(&mut buf);
        assert!(w.write(0b101, 3));
        assert!(w.write(0x1FFF, 13));
        assert!(w.write(0, 0));
        assert!(!w.write(0x1FF, 9));
        assert!(w.write(0xA5, 8));
        assert_eq!(buf, [0b1011_1111, 0xFF, 0xA5]);
        let mut r = BitReader::at(&buf, 0);
        assert_eq!(
            (r.read(3), r.read(13), r.read(8)),
            (Some(5), Some(0x1FFF), Some(0xA5))
        );
    }
}
