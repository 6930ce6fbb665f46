//! Bits → field values for every scheme with a layout: the bit-level rules (partition, terminators,
//! reserved and padding bits) here, the value rules in `validate.rs`.

use super::bits::BitReader;
use super::chars::from_six_bits;
use super::digits::pow10;
use super::error::DecodeError;
use super::gs1_epc::Gs1Epc;
use super::header::Scheme;
use super::layout::{Layout, Reference, Segment};
use super::partition::split;

/// Reads fields off an EPC, reporting how many bits were needed when it runs out.
struct Fields<'a> {
    reader: BitReader<'a>,
    total: usize,
    values: Vec<String>,
}

impl Fields<'_> {
    fn take(&mut self, bits: u32) -> Result<u64, DecodeError> {
        self.reader.read(bits).ok_or(DecodeError::TooFewBits {
            needed: self.reader.position() + bits as usize,
            got: self.total,
        })
    }

    /// Bits that must be zero (reserved bits, padding after a text field's characters).
    fn zeros(&mut self, mut bits: u32, after: &'static str) -> Result<(), DecodeError> {
        while bits > 0 {
            let n = bits.min(64);
            let value = self.take(n)?;
            if value != 0 {
                return Err(DecodeError::ReservedBits {
                    after,
                    bits: n,
                    value,
                });
            }
            bits -= n;
        }
        Ok(())
    }

    /// A 7-bit string of `bits / 7` character slots: it ends at the first zero character, every slot
    /// after that must be zero too, and so must the bits left over (TDS string decoding).
    fn string7(&mut self, field: &'static str, bits: u32) -> Result<String, DecodeError> {
        let mut text = String::new();
        let mut ended = false;
        for position in 0..(bits / 7) as usize {
            let code = self.take(7)? as u8;
            if ended {
                if code != 0 {
                    return Err(DecodeError::CharAfterEnd {
                        field,
                        position,
                        code,
                    });
                }
            } else if code == 0 {
                ended = true;
            } else {
                text.push(char::from(code));
            }
        }
        self.zeros(bits % 7, field)?;
        Ok(text)
    }

    /// 6-bit characters up to a zero terminator, which must come within `max_chars` characters.
    fn string6(&mut self, field: &'static str, max_chars: u8) -> Result<String, DecodeError> {
        let mut text = String::new();
        for _ in 0..=max_chars {
            let code = self.take(6)?;
            if code == 0 {
                return Ok(text);
            }
            text.push(char::from(from_six_bits(code)));
        }
        Err(DecodeError::Unterminated { field, max_chars })
    }
}

/// Decodes `epc` (header included) as `scheme` laid out as `layout`. Bits after the scheme's end (a
/// 96-bit scheme in a longer EPC bank, word padding) are not read.
pub(crate) fn parse(scheme: Scheme, layout: &Layout, epc: &[u8]) -> Result<Gs1Epc, DecodeError> {
    let total = epc.len().saturating_mul(8);
    if let Some(needed) = layout.fixed_bits() {
        if total < needed {
            return Err(DecodeError::TooFewBits { needed, got: total });
        }
    }
    let mut f = Fields {
        reader: BitReader::at(epc, 8),
        total,
        values: Vec::with_capacity(5),
    };
    let filter = match layout.filter_bits {
        0 => None,
        bits => Some(f.take(bits)? as u8),
    };
    let mut last = "filter";
    for segment in layout.segments {
        match *segment {
            Segment::Partitioned {
                table,
                name,
                reference,
            } => {
                let partition = f.take(3)? as u8;
                let row = split(table, partition)?;
                let cp = f.take(row.cp_bits)?;
                if cp >= pow10(row.cp_digits) {
                    return Err(DecodeError::TooManyDigits {
                        field: "company_prefix",
                        value: cp,
                        digits: row.cp_digits,
                        partition,
                    });
                }
                f.values
                    .push(format!("{cp:0w$}", w = usize::from(row.cp_digits)));
                let value = match reference {
                    Reference::Digits | Reference::Integer => {
                        let value = f.take(row.ref_bits)?;
                        if value >= pow10(row.ref_digits) {
                            return Err(DecodeError::TooManyDigits {
                                field: name,
                                value,
                                digits: row.ref_digits,
                                partition,
                            });
                        }
                        match (reference, row.ref_digits) {
                            (Reference::Integer, _) => value.to_string(),
                            (_, 0) => String::new(),
                            (_, w) => format!("{value:0w$}", w = usize::from(w)),
                        }
                    }
                    Reference::String7 => f.string7(name, row.ref_bits)?,
                    Reference::String6 => f.string6(name, row.ref_digits)?,
                };
                f.values.push(value);
                last = name;
            }
            Segment::Integer { name, bits, .. } => {
                let value = f.take(bits)?;
                f.values.push(value.to_string());
                last = name;
            }
            Segment::FixedDigits { name, bits, digits } => {
                let value = f.take(bits)?;
                f.values
                    .push(format!("{value:0w$}", w = usize::from(digits)));
                last = name;
            }
            Segment::NumericString { name, bits, .. } => {
                let value = f.take(bits)?;
                let text = value.to_string();
                let Some(digits) = text.strip_prefix('1') else {
                    return Err(DecodeError::NumericStringMark { field: name, value });
                };
                f.values.push(digits.to_owned());
                last = name;
            }
            Segment::String7 { name, bits, .. } => {
                let text = f.string7(name, bits)?;
                f.values.push(text);
                last = name;
            }
            Segment::String6 {
                name, max_chars, ..
            } => {
                let text = f.string6(name, max_chars)?;
                f.values.push(text);
                last = name;
            }
            Segment::Cage {
                name,
                bits_per_char,
            } => {
                let mut code = String::with_capacity(6);
                for position in 0..6 {
                    let value = f.take(bits_per_char)?;
                    let c = if bits_per_char == 6 {
                        from_six_bits(value)
                    } else {
                        value as u8
                    };
                    // A 5-character CAGE code is written after a space, which is not part of it.
                    if !(position == 0 && c == b' ') {
                        code.push(char::from(c));
                    }
                }
                f.values.push(code);
                last = name;
            }
            Segment::Reserved { bits } => f.zeros(bits, last)?,
        }
    }
    Ok(Gs1Epc::new(scheme, filter, f.values)?)
}
