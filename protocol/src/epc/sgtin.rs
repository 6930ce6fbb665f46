//! SGTIN-96 without the heap: the first-sighting decode, its GTIN-14, and the 12-byte encoder that
//! the demo, the emulators and the benches build their tags with.

use super::digits::{pow10, Digits};
use super::error::{DecodeError, FieldError};
use super::gtin::Gtin14;
use super::header::Scheme;
use super::partition::{digits_field, partition_of, split, SGTIN};

/// Bits of an SGTIN-96.
pub const SGTIN_96_BITS: usize = 96;
/// Largest SGTIN-96 serial (38 bits).
pub const SGTIN_96_MAX_SERIAL: u64 = (1 << 38) - 1;

/// An SGTIN-96: filter, company prefix, item reference (indicator digit first) and a 38-bit serial.
/// Only valid combinations exist as values ([`Sgtin96::new`], [`Sgtin96::decode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sgtin96 {
    filter: u8,
    partition: u8,
    company_prefix: Digits,
    item_ref: Digits,
    serial: u64,
}

/// GTIN-14 = indicator digit + company prefix + rest of the item reference + check digit.
#[inline]
pub(crate) fn gtin_of(company_prefix: Digits, item_ref: Digits) -> Gtin14 {
    let rest_scale = pow10(item_ref.width().saturating_sub(1));
    let indicator = item_ref.value() / rest_scale;
    let rest = item_ref.value() % rest_scale;
    let body = indicator
        .wrapping_mul(pow10(12))
        .wrapping_add(company_prefix.value().wrapping_mul(rest_scale))
        .wrapping_add(rest);
    Gtin14::from_body(body)
}

impl Sgtin96 {
    /// An SGTIN-96 from its fields: a 6- to 12-digit company prefix and an item reference of the
    /// 13 digits' remainder, filter below 8, serial at most [`SGTIN_96_MAX_SERIAL`].
    pub fn new(
        filter: u8,
        company_prefix: Digits,
        item_ref: Digits,
        serial: u64,
    ) -> Result<Sgtin96, FieldError> {
        let scheme = Scheme::SGTIN_96.name();
        if filter > 7 {
            return Err(FieldError::Filter {
                scheme,
                value: Some(filter),
                bits: 3,
            });
        }
        let partition = partition_of(&SGTIN, usize::from(company_prefix.width()))
            .ok_or_else(|| FieldError::CompanyPrefix(company_prefix.to_string()))?;
        let row = split(&SGTIN, partition)
            .map_err(|_| FieldError::CompanyPrefix(company_prefix.to_string()))?;
        if item_ref.width() != row.ref_digits {
            let value = item_ref.to_string();
            return Err(FieldError::Length {
                field: "item_ref",
                got: value.len(),
                value,
                min: usize::from(row.ref_digits),
                max: usize::from(row.ref_digits),
            });
        }
        if serial > SGTIN_96_MAX_SERIAL {
            return Err(FieldError::TooLarge {
                field: "serial",
                value: serial.to_string(),
                bits: 38,
            });
        }
        Ok(Sgtin96 {
            filter,
            partition,
            company_prefix,
            item_ref,
            serial,
        })
    }

    /// Decodes the first 96 bits of `epc` as an SGTIN-96. Allocates nothing: this is the
    /// first-sighting path.
    #[inline]
    pub fn decode(epc: &[u8]) -> Result<Sgtin96, DecodeError> {
        let Some(head) = epc.first_chunk::<12>() else {
            return Err(DecodeError::TooFewBits {
                needed: SGTIN_96_BITS,
                got: epc.len().saturating_mul(8),
            });
        };
        let mut word = [0u8; 16];
        for (dst, src) in word.iter_mut().skip(4).zip(head) {
            *dst = *src;
        }
        let x = u128::from_be_bytes(word);
        let filter = ((x >> 85) & 0b111) as u8;
        let partition = ((x >> 82) & 0b111) as u8;
        let s = split(&SGTIN, partition)?;
        let both = ((x >> 38) & ((1u128 << 44) - 1)) as u64;
        let company_prefix =
            digits_field("company_prefix", both >> s.ref_bits, s.cp_digits, partition)?;
        let item_ref = digits_field(
            "item_ref",
            both & ((1u64 << s.ref_bits) - 1),
            s.ref_digits,
            partition,
        )?;
        Ok(Sgtin96 {
            filter,
            partition,
            company_prefix,
            item_ref,
            serial: (x & ((1u128 << 38) - 1)) as u64,
        })
    }

    /// The 96-bit encoding.
    pub fn to_bytes(&self) -> [u8; 12] {
        let row = SGTIN[usize::from(self.partition) % SGTIN.len()];
        let x = (u128::from(Scheme::SGTIN_96.header()) << 88)
            | (u128::from(self.filter) << 85)
            | (u128::from(self.partition) << 82)
            | (u128::from(self.company_prefix.value()) << (38 + row.ref_bits))
            | (u128::from(self.item_ref.value()) << 38)
            | u128::from(self.serial);
        let mut epc = [0u8; 12];
        epc.copy_from_slice(&x.to_be_bytes()[4..]);
        epc
    }

    /// Filter value 0..=7.
    pub fn filter(&self) -> u8 {
        self.filter
    }

    /// GS1 company prefix, 6 to 12 digits.
    pub fn company_prefix(&self) -> Digits {
        self.company_prefix
    }

    /// Indicator digit plus item reference; 13 digits together with the company prefix.
    pub fn item_ref(&self) -> Digits {
        self.item_ref
    }

    /// Serial number 0..=2^38−1.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// The GTIN-14 of the trade item.
    #[inline]
    pub fn gtin(&self) -> Gtin14 {
        gtin_of(self.company_prefix, self.item_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: [u8; 12] = [
        0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
    ];

    #[test]
    fn canonical_example() {
        let s = Sgtin96::decode(&CANONICAL).expect("valid");
        assert_eq!((s.filter(), s.serial()), (3, 6789));
        assert_eq!(s.company_prefix().to_string(), "0614141");
        assert_eq!(s.item_ref().to_string(), "812345");
        assert_eq!(s.gtin().to_string(), "80614141123458");
        assert_eq!(
            Sgtin96::decode(&CANONICAL[..11]),
            Err(DecodeError::TooFewBits {
                needed: 96,
                got: 88
            })
        );
    }

    #[test]
    fn encodes_the_canonical_example() {
        let cp = Digits::new(614_141, 7).expect("cp");
        let item = Digits::new(812_345, 6).expect("item");
        let s = Sgtin96::new(3, cp, item, 6789).expect("valid");
        assert_eq!(s.to_bytes(), CANONICAL);
        assert!(Sgtin96::new(8, cp, item, 1).is_err());
        assert!(Sgtin96::new(3, cp, Digits::new(1, 5).expect("d"), 1).is_err());
        assert!(Sgtin96::new(3, cp, item, SGTIN_96_MAX_SERIAL + 1).is_err());
        assert!(Sgtin96::new(3, Digits::new(1, 5).expect("d"), item, 1).is_err());
    }
}
