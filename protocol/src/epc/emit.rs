//! Field values → bits: the encoder of every scheme with a layout (`emit` never panics).

use super::bits::BitWriter;
use super::chars::to_six_bits;
use super::error::FieldError;
use super::gs1_epc::Gs1Epc;
use super::layout::{layout_of, Reference, Segment};
use super::validate::company_prefix_row;

impl Gs1Epc {
    /// The length of the encoding in bits (198 for an SGTIN-198; variable for CPI-var and ADI-var).
    pub fn bit_len(&self) -> usize {
        let Some(layout) = layout_of(self.scheme()) else {
            return 0;
        };
        let mut values = self.values().iter();
        let mut bits = 8 + layout.filter_bits as usize;
        for segment in layout.segments {
            bits += match *segment {
                Segment::Partitioned {
                    table, reference, ..
                } => {
                    let cp = values.next().map(String::as_str).unwrap_or_default();
                    let reference_text = values.next().map(String::as_str).unwrap_or_default();
                    let row = company_prefix_row(table, cp).map(|r| (r.cp_bits, r.ref_bits));
                    let (cp_bits, ref_bits) = row.unwrap_or_default();
                    let ref_bits = match reference {
                        Reference::String6 => (reference_text.len() + 1) * 6,
                        _ => ref_bits as usize,
                    };
                    3 + cp_bits as usize + ref_bits
                }
                Segment::String6 { .. } => (values.next().map_or(0, String::len) + 1) * 6,
                Segment::Cage { bits_per_char, .. } => {
                    values.next();
                    6 * bits_per_char as usize
                }
                Segment::Reserved { bits } => bits as usize,
                Segment::Integer { bits, .. }
                | Segment::FixedDigits { bits, .. }
                | Segment::NumericString { bits, .. }
                | Segment::String7 { bits, .. } => {
                    values.next();
                    bits as usize
                }
            };
        }
        bits
    }

    /// Bytes [`Gs1Epc::emit`] writes: the bits padded with zeros to whole 16-bit words, as EPC memory
    /// holds them (an SGTIN-198 takes 26 bytes).
    pub fn buffer_len(&self) -> usize {
        self.bit_len().div_ceil(16) * 2
    }

    /// Writes the encoding into the first [`Gs1Epc::buffer_len`] bytes of `buf`, zero padding included.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), FieldError> {
        let needed = self.buffer_len();
        let Some(out) = buf.get_mut(..needed) else {
            return Err(FieldError::BufferTooSmall {
                needed,
                got: buf.len(),
            });
        };
        let layout =
            layout_of(self.scheme()).ok_or(FieldError::Unsupported(self.scheme().name()))?;
        let mut w = BitWriter::new(out);
        let mut ok = w.write(u64::from(self.scheme().header()), 8);
        if let Some(filter) = self.filter() {
            ok &= w.write(u64::from(filter), layout.filter_bits);
        }
        let mut values = self.values().iter().map(String::as_str);
        for segment in layout.segments {
            ok &= match *segment {
                Segment::Partitioned {
                    table, reference, ..
                } => {
                    let cp = values.next().unwrap_or_default();
                    let value = values.next().unwrap_or_default();
                    let row = company_prefix_row(table, cp)?;
                    let partition = u64::from(12 - row.cp_digits);
                    let ok = w.write(partition, 3) && w.write(number(cp), row.cp_bits);
                    ok && match reference {
                        Reference::Digits | Reference::Integer => {
                            w.write(number(value), row.ref_bits)
                        }
                        Reference::String7 => string7(&mut w, value, row.ref_bits),
                        Reference::String6 => string6(&mut w, value),
                    }
                }
                Segment::Integer { bits, .. } | Segment::FixedDigits { bits, .. } => {
                    w.write(number(values.next().unwrap_or_default()), bits)
                }
                Segment::NumericString { bits, .. } => {
                    let digits = values.next().unwrap_or_default();
                    w.write(number(&format!("1{digits}")), bits)
                }
                Segment::String7 { bits, .. } => {
                    string7(&mut w, values.next().unwrap_or_default(), bits)
                }
                Segment::String6 { .. } => string6(&mut w, values.next().unwrap_or_default()),
                Segment::Cage { bits_per_char, .. } => {
                    let code = values.next().unwrap_or_default();
                    // A 5-character CAGE code is written after a space.
                    let padded = format!("{code:>6}");
                    padded.bytes().all(|c| {
                        let value = if bits_per_char == 6 {
                            to_six_bits(c)
                        } else {
                            u64::from(c)
                        };
                        w.write(value, bits_per_char)
                    })
                }
                Segment::Reserved { bits } => zeros(&mut w, bits),
            };
        }
        // `new` validated every value against the same layout, so the writes always fit.
        debug_assert!(ok, "emit overflowed its own buffer_len");
        Ok(())
    }

    /// The encoding as bytes ([`Gs1Epc::buffer_len`] long).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.buffer_len()];
        // The buffer has the needed length, so this cannot fail.
        let _ = self.emit(&mut out);
        out
    }
}

/// A validated digit string's value (validation bounded it below 2^64).
fn number(text: &str) -> u64 {
    text.parse().unwrap_or(0)
}

fn zeros(w: &mut BitWriter<'_>, mut bits: u32) -> bool {
    while bits > 0 {
        let n = bits.min(64);
        if !w.write(0, n) {
            return false;
        }
        bits -= n;
    }
    true
}

/// 7-bit characters, zero-padded to `bits`.
fn string7(w: &mut BitWriter<'_>, text: &str, bits: u32) -> bool {
    let used = text.len() as u32 * 7;
    text.bytes().all(|c| w.write(u64::from(c), 7)) && zeros(w, bits.saturating_sub(used))
}

/// 6-bit characters and a zero terminator.
fn string6(w: &mut BitWriter<'_>, text: &str) -> bool {
    text.bytes().all(|c| w.write(to_six_bits(c), 6)) && w.write(0, 6)
}
