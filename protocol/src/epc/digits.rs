//! A fixed-width decimal field (company prefix, item reference, ...): the width comes from the partition.

use std::fmt;

/// 10^0 ..= 10^19, every power of ten a `u64` holds.
const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// 10^`exp`, saturating at `u64::MAX` beyond 10^19 (no field is that wide).
#[inline]
pub(crate) fn pow10(exp: u8) -> u64 {
    POW10.get(usize::from(exp)).copied().unwrap_or(u64::MAX)
}

/// A decimal value written with exactly `width` digits, leading zeros included (width 0 writes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digits {
    value: u64,
    width: u8,
}

impl Digits {
    /// `value` as a `width`-digit field, or `None` if it has more digits than that.
    #[inline]
    pub fn new(value: u64, width: u8) -> Option<Digits> {
        (width < 20 && value < pow10(width)).then_some(Digits { value, width })
    }

    /// The integer value.
    #[inline]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// The number of digits it is written with.
    #[inline]
    pub fn width(&self) -> u8 {
        self.width
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.width == 0 {
            return Ok(());
        }
        write!(f, "{:0width$}", self.value, width = usize::from(self.width))
    }
}

#[cfg(test)]
mod tests {
    use super::{pow10, Digits};

    #[test]
    fn pads_and_bounds() {
        assert_eq!(
            Digits::new(614141, 7).map(|d| d.to_string()),
            Some("0614141".into())
        );
        assert_eq!(
            Digits::new(0, 0).map(|d| d.to_string()),
            Some(String::new())
        );
        assert_eq!(Digits::new(1, 0), None);
        assert_eq!(Digits::new(10_000_000, 7), None);
        assert_eq!(pow10(19), 10_000_000_000_000_000_000);
        assert_eq!(pow10(20), u64::MAX);
    }
}
