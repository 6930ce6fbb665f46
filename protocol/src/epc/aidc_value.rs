//! The TDS 2.0 §14.5 encodings of GS1 AI values inside '+' EPCs: fixed-length numeric (4 bits a
//! digit), variable-length alphanumeric (3-bit encoding indicator, 5-bit length, then the characters
//! as integer, hex, file-safe base 64 or 7-bit), variable-length numeric without indicator, and
//! the 16-bit YYMMDD date. Reading is strict; writing writes what reading accepts.

use super::bits::{BitReader, BitWriter};
use super::chars::is_gs1_char;
use super::error::DecodeError;

/// RFC 4648 §5 alphabet (encoding indicator 3).
const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Reads AI values off a '+' EPC, reporting how many bits were needed when it runs out.
pub(crate) struct AidcReader<'a> {
    reader: BitReader<'a>,
    total: usize,
}

/// Bits of the integer encoding of `digits` decimal digits (TDS Table B column b): the smallest
/// `b` with 2^b ≥ 10^digits.
pub(crate) fn integer_bits(digits: u32) -> u32 {
    let mut bits = 0;
    while bits < 128 && (1u128 << bits) < 10u128.saturating_pow(digits) {
        bits += 1;
    }
    bits
}

impl<'a> AidcReader<'a> {
    /// A reader at bit `pos` of `epc`.
    pub(crate) fn at(epc: &'a [u8], pos: usize) -> Self {
        AidcReader {
            reader: BitReader::at(epc, pos),
            total: epc.len().saturating_mul(8),
        }
    }

    /// Bits not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.total.saturating_sub(self.reader.position())
    }

    /// The next `bits` (≤ 64) as an integer.
    pub(crate) fn take(&mut self, bits: u32) -> Result<u64, DecodeError> {
        self.reader.read(bits).ok_or(DecodeError::TooFewBits {
            needed: self.reader.position() + bits as usize,
            got: self.total,
        })
    }

    fn take_wide(&mut self, bits: u32) -> Result<u128, DecodeError> {
        let high = bits.saturating_sub(64);
        let high_value = self.take(high)?;
        let low_value = self.take(bits - high)?;
        Ok((u128::from(high_value) << (bits - high)) | u128::from(low_value))
    }

    /// Every bit left, as 0/1 values (the undecoded AIDC data after a set toggle).
    pub(crate) fn rest(&mut self) -> Vec<u8> {
        let mut bits = Vec::with_capacity(self.remaining());
        while let Some(bit) = self.reader.read(1) {
            bits.push(bit as u8);
        }
        bits
    }

    /// `digits` decimal digits of 4 bits each (TDS §14.5.4); a nibble above 9 is invalid.
    pub(crate) fn fixed_numeric(
        &mut self,
        field: &'static str,
        digits: u8,
    ) -> Result<String, DecodeError> {
        let mut text = String::with_capacity(usize::from(digits));
        for position in 0..usize::from(digits) {
            let nibble = self.take(4)? as u8;
            if nibble > 9 {
                return Err(DecodeError::AidcValue {
                    field,
                    reason: format!("digit {position} is the nibble {nibble}, not 0-9"),
                });
            }
            text.push(char::from(b'0' + nibble));
        }
        Ok(text)
    }

    /// A variable-length alphanumeric value (TDS §14.5.6) of at most `max_chars` characters.
    /// Returns the text and the encoding indicator it was written with.
    pub(crate) fn alphanumeric(
        &mut self,
        field: &'static str,
        max_chars: u8,
    ) -> Result<(String, u8), DecodeError> {
        let indicator = self.take(3)? as u8;
        let length = self.take(5)? as u32;
        let bad = |reason: String| DecodeError::AidcValue { field, reason };
        if length > u32::from(max_chars) {
            return Err(bad(format!(
                "{length} characters, at most {max_chars} allowed"
            )));
        }
        // An empty value is written as an all-zero header, so it has exactly one encoding.
        if length == 0 && indicator != 0 {
            return Err(bad(format!(
                "0 characters with encoding indicator {indicator}"
            )));
        }
        let text = match indicator {
            0 => self.integer_digits(field, length)?,
            1 | 2 => {
                let letters = if indicator == 1 { b'A' } else { b'a' };
                (0..length)
                    .map(|_| {
                        let v = self.take(4)? as u8;
                        Ok(char::from(if v < 10 { b'0' + v } else { letters + v - 10 }))
                    })
                    .collect::<Result<String, DecodeError>>()?
            }
            3 => (0..length)
                .map(|_| Ok(char::from(BASE64_URL[self.take(6)? as usize & 63])))
                .collect::<Result<String, DecodeError>>()?,
            4 => {
                let mut text = String::with_capacity(length as usize);
                for position in 0..length {
                    let c = self.take(7)? as u8;
                    if !is_gs1_char(c) {
                        return Err(bad(format!(
                            "character {position} (code {c}) is not in GS1 set 82"
                        )));
                    }
                    text.push(char::from(c));
                }
                text
            }
            5 => {
                return Err(bad(
                    "URN Code 40 (encoding indicator 5) is not decoded".into()
                ))
            }
            other => return Err(bad(format!("encoding indicator {other} is reserved"))),
        };
        Ok((text, indicator))
    }

    /// A variable-length numeric string without encoding indicator (TDS §14.5.13): a
    /// `length_bits`-bit digit count of at most `max_digits`, then the digits as one integer.
    pub(crate) fn numeric_string(
        &mut self,
        field: &'static str,
        length_bits: u32,
        max_digits: u8,
    ) -> Result<String, DecodeError> {
        let length = self.take(length_bits)? as u32;
        if length > u32::from(max_digits) {
            return Err(DecodeError::AidcValue {
                field,
                reason: format!("{length} digits, at most {max_digits} allowed"),
            });
        }
        self.integer_digits(field, length)
    }

    /// `digits` decimal digits as one integer of [`integer_bits`] bits, leading zeros kept.
    fn integer_digits(&mut self, field: &'static str, digits: u32) -> Result<String, DecodeError> {
        let value = self.take_wide(integer_bits(digits))?;
        if value >= 10u128.pow(digits) {
            return Err(DecodeError::AidcValue {
                field,
                reason: format!("integer {value} has more than {digits} digits"),
            });
        }
        if digits == 0 {
            return Ok(String::new());
        }
        Ok(format!("{value:0w$}", w = digits as usize))
    }

    /// A delimited/terminated numeric value (TDS §14.5.5): 4-bit digits up to `1111` (end) or
    /// `1110` and a variable-length alphanumeric remainder. Returns the digits and the remainder;
    /// at most `max_chars` characters in all.
    pub(crate) fn delimited_numeric(
        &mut self,
        field: &'static str,
        max_chars: u8,
    ) -> Result<(String, Option<(String, u8)>), DecodeError> {
        let mut digits = String::new();
        loop {
            let nibble = self.take(4)? as u8;
            match nibble {
                0..=9 if digits.len() < usize::from(max_chars) => {
                    digits.push(char::from(b'0' + nibble))
                }
                0..=9 => {
                    return Err(DecodeError::AidcValue {
                        field,
                        reason: format!("no terminator within {max_chars} digits"),
                    })
                }
                0xF => return Ok((digits, None)),
                0xE => {
                    let room = max_chars.saturating_sub(digits.len() as u8);
                    let rest = self.alphanumeric(field, room)?;
                    return Ok((digits, Some(rest)));
                }
                other => {
                    return Err(DecodeError::AidcValue {
                        field,
                        reason: format!("nibble {other} is neither a digit, 1110 nor 1111"),
                    })
                }
            }
        }
    }

    /// A YYMMDD date in 16 bits (TDS §14.5.8: year 7 bits, month 4, day 5); month 1-12, day 0-31.
    pub(crate) fn date(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let (year, month, day) = (self.take(7)?, self.take(4)?, self.take(5)?);
        if year > 99 || !(1..=12).contains(&month) {
            return Err(DecodeError::AidcValue {
                field,
                reason: format!("year {year} month {month} is not a YYMMDD date"),
            });
        }
        Ok(format!("{year:02}{month:02}{day:02}"))
    }
}

/// How many bits the value costs with `indicator` (for `buffer_len`).
pub(crate) fn alphanumeric_bits(text: &str, indicator: u8) -> usize {
    let n = text.len();
    8 + match indicator {
        0 => integer_bits(n as u32) as usize,
        1 | 2 => 4 * n,
        3 => 6 * n,
        _ => 7 * n,
    }
}

/// The encoding indicator the encoder picks for `text` (TDS §14.5.6: the most compact of integer,
/// upper-case hex, lower-case hex, file-safe base 64, 7-bit; URN Code 40 is not used).
pub(crate) fn choose_indicator(text: &str) -> u8 {
    let all = |f: fn(&u8) -> bool| text.bytes().all(|c| f(&c));
    if all(u8::is_ascii_digit) {
        0
    } else if all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)) {
        1
    } else if all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)) {
        2
    } else if all(|c| BASE64_URL.contains(c)) {
        3
    } else {
        4
    }
}

/// Whether `text` can be written with `indicator` (the inverse of what the reader accepts).
pub(crate) fn fits_indicator(text: &str, indicator: u8) -> bool {
    let all = |f: &dyn Fn(u8) -> bool| text.bytes().all(f);
    match indicator {
        0 => all(&|c| c.is_ascii_digit()),
        1 => all(&|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c)),
        2 => all(&|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)),
        3 => all(&|c| BASE64_URL.contains(&c)),
        4 => all(&is_gs1_char),
        _ => false,
    }
}

/// Writes AI values; every method returns `false` if the buffer is too small.
pub(crate) struct AidcWriter<'a, 'b> {
    pub(crate) w: &'a mut BitWriter<'b>,
}

impl AidcWriter<'_, '_> {
    fn wide(&mut self, value: u128, bits: u32) -> bool {
        let high = bits.saturating_sub(64);
        self.w.write((value >> (bits - high)) as u64, high)
            && self
                .w
                .write(value as u64 & low_mask(bits - high), bits - high)
    }

    /// Digits of 4 bits each (`text` is validated digits).
    pub(crate) fn fixed_numeric(&mut self, text: &str) -> bool {
        text.bytes()
            .all(|c| self.w.write(u64::from(c.wrapping_sub(b'0')), 4))
    }

    /// Indicator, length and characters (`text` fits `indicator`).
    pub(crate) fn alphanumeric(&mut self, text: &str, indicator: u8) -> bool {
        let mut ok = self.w.write(u64::from(indicator), 3) && self.w.write(text.len() as u64, 5);
        ok &= match indicator {
            0 => self.integer_digits(text),
            1 | 2 => text.bytes().all(|c| {
                let v = match c {
                    b'0'..=b'9' => c - b'0',
                    b'A'..=b'F' => c - b'A' + 10,
                    _ => c.wrapping_sub(b'a').wrapping_add(10),
                };
                self.w.write(u64::from(v), 4)
            }),
            3 => text.bytes().all(|c| {
                let v = BASE64_URL.iter().position(|&b| b == c).unwrap_or(0);
                self.w.write(v as u64, 6)
            }),
            _ => text.bytes().all(|c| self.w.write(u64::from(c), 7)),
        };
        ok
    }

    /// Digit count in `length_bits`, then the digits as one integer.
    pub(crate) fn numeric_string(&mut self, text: &str, length_bits: u32) -> bool {
        self.w.write(text.len() as u64, length_bits) && self.integer_digits(text)
    }

    fn integer_digits(&mut self, text: &str) -> bool {
        let value = text.parse::<u128>().unwrap_or(0);
        self.wide(value, integer_bits(text.len() as u32))
    }

    /// Digits, then `1111`, or `1110` and the remainder.
    pub(crate) fn delimited_numeric(&mut self, digits: &str, rest: Option<(&str, u8)>) -> bool {
        self.fixed_numeric(digits)
            && match rest {
                None => self.w.write(0xF, 4),
                Some((text, indicator)) => {
                    self.w.write(0xE, 4) && self.alphanumeric(text, indicator)
                }
            }
    }

    /// A validated YYMMDD date.
    pub(crate) fn date(&mut self, text: &str) -> bool {
        let part = |i: usize| text.get(i..i + 2).and_then(|p| p.parse().ok()).unwrap_or(0);
        self.w.write(part(0), 7) && self.w.write(part(2), 4) && self.w.write(part(4), 5)
    }
}

fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bits_match_tds_table_b() {
        let table_b = [4, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40, 44, 47, 50, 54];
        for (i, bits) in table_b.into_iter().enumerate() {
            assert_eq!(integer_bits(i as u32 + 1), bits, "{} digits", i + 1);
        }
        assert_eq!(integer_bits(0), 0);
    }

    #[test]
    fn every_indicator_reads_what_it_writes() {
        for text in ["0042", "12AF", "12af", "Ab-_9", "a!b%\"?"] {
            let indicator = choose_indicator(text);
            assert!(fits_indicator(text, indicator));
            let mut buf = [0u8; 16];
            let mut w = BitWriter::new(&mut buf);
            assert!(AidcWriter { w: &mut w }.alphanumeric(text, indicator));
            let mut r = AidcReader::at(&buf, 0);
            assert_eq!(
                r.alphanumeric("serial", 20).unwrap(),
                (text.to_owned(), indicator)
            );
            assert_eq!(r.reader.position(), alphanumeric_bits(text, indicator));
        }
    }

    #[test]
    fn strictness() {
        // Nibble 0xA in a fixed-length numeric.
        assert!(AidcReader::at(&[0x1A], 0).fixed_numeric("gtin", 2).is_err());
        // Indicator 6 is reserved; 5 is not decoded.
        assert!(AidcReader::at(&[0b1100_0001, 0], 0)
            .alphanumeric("s", 20)
            .is_err());
        assert!(AidcReader::at(&[0b1010_0001, 0, 0], 0)
            .alphanumeric("s", 20)
            .is_err());
        // Length above the maximum.
        assert!(AidcReader::at(&[0b0000_1111, 0, 0, 0], 0)
            .alphanumeric("s", 10)
            .is_err());
        // An empty value with a non-zero encoding indicator.
        assert!(AidcReader::at(&[0b0110_0000], 0)
            .alphanumeric("s", 20)
            .is_err());
        // Integer 15 in one digit's 4 bits.
        assert!(AidcReader::at(&[0b0000_0001, 0xF0], 0)
            .alphanumeric("s", 20)
            .is_err());
        // 7-bit space is not in set 82.
        assert!(AidcReader::at(&[0b1000_0001, 0x40], 0)
            .alphanumeric("s", 20)
            .is_err());
        // Month 13.
        assert!(AidcReader::at(&[0b0000_0011, 0b1010_0001], 0)
            .date("d")
            .is_err());
    }
}
