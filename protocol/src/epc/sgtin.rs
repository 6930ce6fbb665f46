//! SGTIN-96 and SGTIN-198: serialised trade items, their GTIN-14 and the allocation-free SGTIN-96 fast path.

use super::bits::BitReader;
use super::digits::{pow10, Digits};
use super::error::{expect_scheme, DecodeError};
use super::gtin::Gtin14;
use super::header::Scheme;
use super::identity::Gs1Identity;
use super::partition::{digits_field, split, SGTIN};
use super::uri::{escape, read_string7};

/// Bits of an SGTIN-96.
pub const SGTIN_96_BITS: usize = 96;
/// Bits of an SGTIN-198 (stored as 208 on a tag, zero-padded to whole words).
pub const SGTIN_198_BITS: usize = 198;
/// Characters of an SGTIN-198 serial (140 bits of 7-bit characters).
const SERIAL_198_CHARS: usize = 20;

/// An SGTIN-96: filter, company prefix, item reference (indicator digit first) and a 38-bit serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sgtin96 {
    /// Filter value 0..=7.
    pub filter: u8,
    /// GS1 company prefix, 6 to 12 digits.
    pub company_prefix: Digits,
    /// Indicator digit plus item reference; 13 digits together with the company prefix.
    pub item_ref: Digits,
    /// Serial number 0..=2^38−1.
    pub serial: u64,
}

/// An SGTIN-198: like SGTIN-96 but with an alphanumeric serial of 1 to 20 characters of set 82.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sgtin198 {
    /// Filter value 0..=7.
    pub filter: u8,
    /// GS1 company prefix, 6 to 12 digits.
    pub company_prefix: Digits,
    /// Indicator digit plus item reference; 13 digits together with the company prefix.
    pub item_ref: Digits,
    /// Serial, unescaped.
    pub serial: String,
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
    /// Decodes the first 96 bits of `epc` as an SGTIN-96. Allocates nothing: this is the
    /// first-sighting path.
    #[inline]
    pub fn decode(epc: &[u8]) -> Result<Sgtin96, DecodeError> {
        expect_scheme(epc, Scheme::SGTIN_96, SGTIN_96_BITS)?;
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
            digits_field("company prefix", both >> s.ref_bits, s.cp_digits, partition)?;
        let item_ref = digits_field(
            "item reference",
            both & ((1u64 << s.ref_bits) - 1),
            s.ref_digits,
            partition,
        )?;
        Ok(Sgtin96 {
            filter,
            company_prefix,
            item_ref,
            serial: (x & ((1u128 << 38) - 1)) as u64,
        })
    }

    /// The GTIN-14 of the trade item.
    #[inline]
    pub fn gtin(&self) -> Gtin14 {
        gtin_of(self.company_prefix, self.item_ref)
    }
}

impl Sgtin198 {
    /// Decodes `epc` as an SGTIN-198 (bits after the 198th, the tag's word padding, are ignored).
    pub fn decode(epc: &[u8]) -> Result<Sgtin198, DecodeError> {
        expect_scheme(epc, Scheme::SGTIN_198, SGTIN_198_BITS)?;
        let mut r = BitReader::at(epc, 8);
        let filter = r.read(3).unwrap_or(0) as u8;
        let partition = r.read(3).unwrap_or(0) as u8;
        let s = split(&SGTIN, partition)?;
        let cp = r.read(s.cp_bits).unwrap_or(0);
        let item = r.read(s.ref_bits).unwrap_or(0);
        let company_prefix = digits_field("company prefix", cp, s.cp_digits, partition)?;
        let item_ref = digits_field("item reference", item, s.ref_digits, partition)?;
        let serial = read_string7(&mut r, SERIAL_198_CHARS)?;
        Ok(Sgtin198 {
            filter,
            company_prefix,
            item_ref,
            serial,
        })
    }

    /// The GTIN-14 of the trade item.
    pub fn gtin(&self) -> Gtin14 {
        gtin_of(self.company_prefix, self.item_ref)
    }
}

impl Gs1Identity for Sgtin96 {
    fn scheme(&self) -> Scheme {
        Scheme::SGTIN_96
    }
    fn filter(&self) -> Option<u8> {
        Some(self.filter)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("company_prefix", self.company_prefix.to_string()),
            ("item_ref", self.item_ref.to_string()),
            ("serial", self.serial.to_string()),
        ]
    }
    fn class_len(&self) -> usize {
        2
    }
}

impl Gs1Identity for Sgtin198 {
    fn scheme(&self) -> Scheme {
        Scheme::SGTIN_198
    }
    fn filter(&self) -> Option<u8> {
        Some(self.filter)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("company_prefix", self.company_prefix.to_string()),
            ("item_ref", self.item_ref.to_string()),
            ("serial", self.serial.clone()),
        ]
    }
    fn uri_components(&self) -> Vec<String> {
        vec![
            self.company_prefix.to_string(),
            self.item_ref.to_string(),
            escape(&self.serial),
        ]
    }
    fn class_len(&self) -> usize {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_example() {
        let epc = [
            0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
        ];
        let s = Sgtin96::decode(&epc).expect("valid");
        assert_eq!((s.filter, s.serial), (3, 6789));
        assert_eq!(s.company_prefix.to_string(), "0614141");
        assert_eq!(s.item_ref.to_string(), "812345");
        assert_eq!(s.gtin().to_string(), "80614141123458");
        assert_eq!(
            Sgtin96::decode(&epc[..11]),
            Err(DecodeError::TooFewBits {
                needed: 96,
                got: 88
            })
        );
    }
}
