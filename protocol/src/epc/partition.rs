//! Partition tables: how a scheme splits its company-prefix-plus-reference bits (TDS §14, one table per family).

use super::digits::Digits;
use super::error::DecodeError;

/// One row of a partition table: bits and digits of the company prefix and of the field after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    pub(crate) cp_bits: u32,
    pub(crate) cp_digits: u8,
    pub(crate) ref_bits: u32,
    pub(crate) ref_digits: u8,
}

/// Rows for partitions 0..=6; partition 7 is reserved everywhere.
pub(crate) type Table = [Split; 7];

const fn row(cp_bits: u32, cp_digits: u8, ref_bits: u32, ref_digits: u8) -> Split {
    Split {
        cp_bits,
        cp_digits,
        ref_bits,
        ref_digits,
    }
}

/// SGTIN-96 and SGTIN-198: item reference including the indicator digit, 13 digits in all.
pub(crate) const SGTIN: Table = [
    row(40, 12, 4, 1),
    row(37, 11, 7, 2),
    row(34, 10, 10, 3),
    row(30, 9, 14, 4),
    row(27, 8, 17, 5),
    row(24, 7, 20, 6),
    row(20, 6, 24, 7),
];

/// SSCC-96 (serial reference incl. extension digit) and GSRN-96 (service reference): 17 digits in all.
pub(crate) const SSCC_GSRN: Table = [
    row(40, 12, 18, 5),
    row(37, 11, 21, 6),
    row(34, 10, 24, 7),
    row(30, 9, 28, 8),
    row(27, 8, 31, 9),
    row(24, 7, 34, 10),
    row(20, 6, 38, 11),
];

/// SGLN-96 (location reference) and GDTI-96 (document type): 12 digits in all, 41 bits.
pub(crate) const SGLN_GDTI: Table = [
    row(40, 12, 1, 0),
    row(37, 11, 4, 1),
    row(34, 10, 7, 2),
    row(30, 9, 11, 3),
    row(27, 8, 14, 4),
    row(24, 7, 17, 5),
    row(20, 6, 21, 6),
];

/// GRAI-96 (asset type): 12 digits in all, 44 bits.
pub(crate) const GRAI: Table = [
    row(40, 12, 4, 0),
    row(37, 11, 7, 1),
    row(34, 10, 10, 2),
    row(30, 9, 14, 3),
    row(27, 8, 17, 4),
    row(24, 7, 20, 5),
    row(20, 6, 24, 6),
];

/// GIAI-96 (individual asset reference, a number without padding; digits are a maximum): 82 bits.
pub(crate) const GIAI: Table = [
    row(40, 12, 42, 13),
    row(37, 11, 45, 14),
    row(34, 10, 48, 15),
    row(30, 9, 52, 16),
    row(27, 8, 55, 17),
    row(24, 7, 58, 18),
    row(20, 6, 62, 19),
];

/// GIAI-202 (individual asset reference in 7-bit characters; digits are the most characters): 188 bits.
pub(crate) const GIAI_202: Table = [
    row(40, 12, 148, 18),
    row(37, 11, 151, 19),
    row(34, 10, 154, 20),
    row(30, 9, 158, 21),
    row(27, 8, 161, 22),
    row(24, 7, 164, 23),
    row(20, 6, 168, 24),
];

/// CPI-96 (component/part reference, a number without padding; digits are a maximum): 51 bits.
pub(crate) const CPI_96: Table = [
    row(40, 12, 11, 3),
    row(37, 11, 14, 4),
    row(34, 10, 17, 5),
    row(30, 9, 21, 6),
    row(27, 8, 24, 7),
    row(24, 7, 27, 8),
    row(20, 6, 31, 9),
];

/// CPI-var (component/part reference in 6-bit characters plus a zero terminator; bits and
/// characters are maxima): 30 characters together with the company prefix.
pub(crate) const CPI_VAR: Table = [
    row(40, 12, 114, 18),
    row(37, 11, 120, 19),
    row(34, 10, 126, 20),
    row(30, 9, 132, 21),
    row(27, 8, 138, 22),
    row(24, 7, 144, 23),
    row(20, 6, 150, 24),
];

/// The row for `partition`, or `BadPartition` for 7 (and anything wider, which a 3-bit field cannot hold).
#[inline]
pub(crate) fn split(table: &Table, partition: u8) -> Result<Split, DecodeError> {
    table
        .get(usize::from(partition))
        .copied()
        .ok_or(DecodeError::BadPartition(partition))
}

/// `value` as a `digits`-wide field, or `TooManyDigits` naming the field when it does not fit.
#[inline]
pub(crate) fn digits_field(
    field: &'static str,
    value: u64,
    digits: u8,
    partition: u8,
) -> Result<Digits, DecodeError> {
    Digits::new(value, digits).ok_or(DecodeError::TooManyDigits {
        field,
        value,
        digits,
        partition,
    })
}

/// The partition whose company prefix has `cp_digits` digits.
pub(crate) fn partition_of(table: &Table, cp_digits: usize) -> Option<u8> {
    table
        .iter()
        .position(|s| usize::from(s.cp_digits) == cp_digits)
        .and_then(|p| u8::try_from(p).ok())
}

#[cfg(test)]
mod tests {
    use super::super::digits::pow10;
    use super::*;

    #[test]
    fn every_row_fills_its_family_and_can_hold_its_digits() {
        for (table, bits, digits) in [
            (&SGTIN, 44, Some(13)),
            (&SSCC_GSRN, 58, Some(17)),
            (&SGLN_GDTI, 41, Some(12)),
            (&GRAI, 44, Some(12)),
            (&GIAI, 82, None),
            (&GIAI_202, 188, Some(30)),
            (&CPI_96, 51, None),
        ] {
            for (p, s) in table.iter().enumerate() {
                assert_eq!(s.cp_bits + s.ref_bits, bits, "partition {p}");
                assert_eq!(usize::from(s.cp_digits), 12 - p);
                assert!(pow10(s.cp_digits) <= 1 << s.cp_bits);
                // GIAI's digit counts are maxima its bits cannot always reach; the others are exact.
                match digits {
                    // Character fields: a total length, not a bit capacity.
                    Some(30) => assert_eq!(s.cp_digits + s.ref_digits, 30),
                    Some(total) => {
                        assert_eq!(s.cp_digits + s.ref_digits, total);
                        assert!(pow10(s.ref_digits) <= 1 << s.ref_bits);
                    }
                    None => {}
                }
            }
        }
        for (p, s) in CPI_VAR.iter().enumerate() {
            assert_eq!(s.cp_digits + s.ref_digits, 30, "partition {p}");
            assert_eq!(
                s.ref_bits,
                (u32::from(s.ref_digits) + 1) * 6,
                "partition {p}"
            );
        }
        assert_eq!(split(&SGTIN, 7), Err(DecodeError::BadPartition(7)));
        assert_eq!(partition_of(&SGTIN, 7), Some(5));
        assert_eq!(partition_of(&SGTIN, 13), None);
    }
}
