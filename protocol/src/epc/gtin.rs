//! GTIN-14: the SKU of an SGTIN tag, with its GS1 mod-10 check digit.

use super::digits::pow10;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A GTIN-14, kept as an integer so SKU maps hash and compare it cheaply. Displays as 14 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gtin14(u64);

/// Text that is not a GTIN-14.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GtinParseError {
    /// Not exactly 14 ASCII digits.
    #[error("gtin {0:?} is not 14 digits")]
    NotFourteenDigits(String),
    /// The last digit is not the GS1 check digit of the first 13.
    #[error("gtin {text} has check digit {actual}, expected {expected}")]
    BadCheckDigit {
        /// The text given.
        text: String,
        /// Its last digit.
        actual: u8,
        /// The check digit of its first 13 digits.
        expected: u8,
    },
}

impl Gtin14 {
    /// A GTIN-14 from its integer value, if it is below 10^14 and its check digit is right.
    pub fn new(value: u64) -> Option<Gtin14> {
        let gtin = Gtin14(value);
        (value < pow10(14) && gtin.check_digit_valid()).then_some(gtin)
    }

    /// The GTIN-14 whose first 13 digits are `body` (taken modulo 10^13), with its check digit appended.
    #[inline]
    pub(crate) fn from_body(body: u64) -> Gtin14 {
        let body = body % pow10(13);
        Gtin14(body * 10 + u64::from(check_digit(body)))
    }

    /// The 14 digits as an integer.
    #[inline]
    pub fn as_u64(&self) -> u64 {
        self.0
    }

    /// Whether the last digit is the GS1 check digit of the first 13 (always true for decoded GTINs).
    #[inline]
    pub fn check_digit_valid(&self) -> bool {
        self.0 < pow10(14) && u64::from(check_digit(self.0 / 10)) == self.0 % 10
    }
}

/// GS1 mod-10 check digit of a 13-digit body: weights 3,1,3,... from the rightmost digit.
#[inline]
pub(crate) fn check_digit(body: u64) -> u8 {
    let mut rest = body;
    let mut sum = 0u64;
    let mut weight = 3;
    for _ in 0..13 {
        sum += weight * (rest % 10);
        rest /= 10;
        weight = 4 - weight;
    }
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Gtin14 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:014}", self.0)
    }
}

impl FromStr for Gtin14 {
    type Err = GtinParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GtinParseError::NotFourteenDigits(text.to_owned()));
        }
        let value: u64 = text
            .parse()
            .map_err(|_| GtinParseError::NotFourteenDigits(text.to_owned()))?;
        Gtin14::new(value).ok_or_else(|| GtinParseError::BadCheckDigit {
            text: text.to_owned(),
            actual: (value % 10) as u8,
            expected: check_digit(value / 10),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_known_gtins() {
        assert_eq!(check_digit(8_061_414_112_345), 8);
        assert_eq!(check_digit(84_663_228_621), 0);
        assert_eq!(
            Gtin14::from_body(7_061_414_112_345).to_string(),
            "70614141123451"
        );
        assert_eq!(
            "80614141123458".parse::<Gtin14>().map(|g| g.as_u64()),
            Ok(80_614_141_123_458)
        );
        assert!(matches!(
            "80614141123457".parse::<Gtin14>(),
            Err(GtinParseError::BadCheckDigit {
                expected: 8,
                actual: 7,
                ..
            })
        ));
        assert!("8061414112345".parse::<Gtin14>().is_err());
        assert!("+8061414112345".parse::<Gtin14>().is_err());
        assert_eq!(Gtin14::new(100_000_000_000_000), None);
    }
}
