//! A decoded TDS 2.0 '+' EPC (SGTIN+, DSGTIN+, SSCC+, SGLN+, GRAI+, GIAI+, GDTI+, SGCN+, GSRN+,
//! GSRNP+, ITIP+, CPI+): validated AI values, the bits they came from and go back to, their GS1
//! Digital Link URI (the canonical form: a '+' EPC carries no company-prefix length, so it has no
//! pure-identity URI) and the SKU.

use super::aidc_value::{
    alphanumeric_bits, choose_indicator, fits_indicator, integer_bits, AidcReader, AidcWriter,
};
use super::bits::BitWriter;
use super::digital_link::{mod10_check_digit, segment};
use super::error::{DecodeError, FieldError};
use super::gtin::Gtin14;
use super::header::Scheme;
use super::plus_layout::{plus_layout_of, KeyEncoding, PlusLayout, Qualifier, DATE_TYPES};
use super::sku::Sku;

/// The host of canonical GS1 Digital Link URIs.
const GS1_RESOLVER: &str = "https://id.gs1.org";

/// A text value and the encoding indicator it is written with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlusText {
    /// The text (serial, extension, the alphanumeric end of a GIAI or CPI, ...).
    pub value: String,
    /// TDS §14.5.6 encoding indicator (0 integer, 1/2 hex, 3 base 64, 4 7-bit); 0 for numeric strings.
    pub indicator: u8,
}

impl PlusText {
    /// `value` with the encoding the encoder picks for it (TDS §14.5.6; never URN Code 40).
    pub fn new(value: &str) -> PlusText {
        PlusText {
            value: value.to_owned(),
            indicator: choose_indicator(value),
        }
    }
}

/// The values of a '+' identity, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlusFields {
    /// Filter value, 0-7.
    pub filter: u8,
    /// DSGTIN+ only: date type (0 production ... 6 harvest) and YYMMDD.
    pub date: Option<(u8, String)>,
    /// The primary key's digits (for GIAI+ and CPI+ its leading digits).
    pub key: String,
    /// GIAI+ and CPI+: the key's alphanumeric end after its digits, if any.
    pub key_rest: Option<PlusText>,
    /// The value after the key (serial, extension), if the scheme has one.
    pub qualifier: Option<PlusText>,
}

/// A '+' scheme identity. Only valid combinations exist as values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlusEpc {
    scheme: Scheme,
    values: PlusFields,
    /// The bits after the identity when the +AIDC toggle is set (0/1 values, trailing zero
    /// padding left out), kept undecoded.
    aidc_data: Option<Vec<u8>>,
}

fn rule(field: &'static str, value: &str, reason: &'static str) -> FieldError {
    FieldError::AidcRule {
        field,
        value: value.to_owned(),
        reason,
    }
}

impl PlusEpc {
    /// The identity of '+' `scheme` with `values`, if they are valid: key digits and check digit,
    /// lengths within the AI's limits, characters of their encoding, a date only for DSGTIN+. The
    /// +AIDC toggle of what [`PlusEpc::emit`] writes is 0.
    pub fn new(scheme: Scheme, values: PlusFields) -> Result<PlusEpc, FieldError> {
        let layout = plus_layout_of(scheme).ok_or(FieldError::Unsupported(scheme.name()))?;
        if values.filter > 7 {
            return Err(rule("filter", &values.filter.to_string(), "must be 0-7"));
        }
        check_date(&layout, &values.date)?;
        check_key(&layout, &values.key, &values.key_rest)?;
        check_qualifier(&layout, &values.qualifier)?;
        Ok(PlusEpc {
            scheme,
            values,
            aidc_data: None,
        })
    }

    fn layout(&self) -> PlusLayout {
        // `new` refused other schemes; the fallback is never taken.
        plus_layout_of(self.scheme).unwrap_or(super::plus_layout::FALLBACK)
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The validated values.
    pub fn values(&self) -> &PlusFields {
        &self.values
    }

    /// The filter value.
    pub fn filter(&self) -> u8 {
        self.values.filter
    }

    /// Whether the +AIDC data toggle is set (further AIDC data follows the identity, undecoded).
    pub fn has_aidc_data(&self) -> bool {
        self.aidc_data.is_some()
    }

    /// The primary key's whole value (GTIN, SSCC, GLN, GRAI, GIAI, ...).
    pub fn key(&self) -> String {
        let mut key = self.values.key.clone();
        if let Some(rest) = &self.values.key_rest {
            key.push_str(&rest.value);
        }
        key
    }

    /// `(name, value)` of every field: date type and date (DSGTIN+), the key, the qualifier, and
    /// `aidc_data` when the toggle is set.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let layout = self.layout();
        let mut out = Vec::with_capacity(5);
        if let Some((kind, date)) = &self.values.date {
            let name = DATE_TYPES.get(usize::from(*kind)).map_or("", |t| t.0);
            out.push(("date_type", name.to_owned()));
            out.push(("date", date.clone()));
        }
        out.push((layout.key_name, self.key()));
        if let (Some(q), Qualifier::Alphanumeric { name, .. } | Qualifier::Numeric { name, .. }) =
            (&self.values.qualifier, layout.qualifier)
        {
            out.push((name, q.value.clone()));
        }
        if let Some(bits) = &self.aidc_data {
            out.push((
                "aidc_data",
                format!("{} bits after the identity, not decoded", bits.len()),
            ));
        }
        out
    }

    /// The GTIN-14 of SGTIN+ and DSGTIN+.
    pub fn gtin(&self) -> Option<Gtin14> {
        if self.layout().key_ai != "01" {
            return None;
        }
        self.values.key.parse().ok()
    }

    fn key_link(&self) -> String {
        format!(
            "{GS1_RESOLVER}/{}/{}",
            self.layout().key_ai,
            segment(&self.key())
        )
    }

    /// The canonical GS1 Digital Link URI (`https://id.gs1.org/01/<GTIN>/21/<serial>`, ...); a
    /// DSGTIN+ date is its AI as a query parameter.
    pub fn digital_link(&self) -> String {
        let mut link = self.key_link();
        if let Some(q) = &self.values.qualifier {
            match self.layout().qualifier {
                Qualifier::Alphanumeric { ai: Some(ai), .. }
                | Qualifier::Numeric { ai: Some(ai), .. } => {
                    link.push_str(&format!("/{ai}/{}", segment(&q.value)));
                }
                _ => link.push_str(&segment(&q.value)),
            }
        }
        if let Some((kind, date)) = &self.values.date {
            if let Some((_, ai)) = DATE_TYPES.get(usize::from(*kind)) {
                link.push_str(&format!("?{ai}={date}"));
            }
        }
        link
    }

    /// SPEC §3: the GTIN for SGTIN+ and DSGTIN+; otherwise the class, the Digital Link of the
    /// primary key without the serial or extension after it (for SSCC+, GSRN+, GSRNP+ and GIAI+ the
    /// key is the instance: a '+' EPC does not say where the company prefix ends).
    pub fn sku(&self) -> Sku {
        match self.gtin() {
            Some(gtin) => Sku::Gtin(gtin),
            None => Sku::Class(self.key_link()),
        }
    }

    /// Bits of the encoding (header, toggle, filter, date, key, qualifier, AIDC data).
    pub fn bit_len(&self) -> usize {
        let layout = self.layout();
        let v = &self.values;
        let mut bits = 12 + if layout.dated { 20 } else { 0 };
        bits += 4 * v.key.len();
        if let KeyEncoding::Delimited { .. } = layout.key {
            bits += 4 + v
                .key_rest
                .as_ref()
                .map_or(0, |r| alphanumeric_bits(&r.value, r.indicator));
        }
        let toggle = self.aidc_data.is_some();
        bits += match (&v.qualifier, layout.qualifier) {
            (Some(q), Qualifier::Alphanumeric { .. }) => alphanumeric_bits(&q.value, q.indicator),
            (Some(q), Qualifier::Numeric { length_bits, .. }) => {
                length_bits as usize + integer_bits(q.value.len() as u32) as usize
            }
            (None, Qualifier::Alphanumeric { .. }) if toggle => 8,
            (None, Qualifier::Numeric { length_bits, .. }) if toggle => length_bits as usize,
            _ => 0,
        };
        bits + self.aidc_data.as_ref().map_or(0, Vec::len)
    }

    /// Bytes [`PlusEpc::emit`] writes: whole 16-bit words.
    pub fn buffer_len(&self) -> usize {
        self.bit_len().div_ceil(16) * 2
    }

    /// Writes the encoding, zero padded, into the first [`PlusEpc::buffer_len`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), FieldError> {
        let needed = self.buffer_len();
        let Some(out) = buf.get_mut(..needed) else {
            return Err(FieldError::BufferTooSmall {
                needed,
                got: buf.len(),
            });
        };
        let layout = self.layout();
        let v = &self.values;
        let toggle = self.aidc_data.is_some();
        let mut bw = BitWriter::new(out);
        let mut ok = bw.write(u64::from(self.scheme.header()), 8)
            && bw.write(u64::from(toggle), 1)
            && bw.write(u64::from(v.filter), 3);
        let mut w = AidcWriter { w: &mut bw };
        if let Some((kind, date)) = &v.date {
            ok &= w.w.write(u64::from(*kind), 4) && w.date(date);
        }
        ok &= match layout.key {
            KeyEncoding::Fixed { .. } => w.fixed_numeric(&v.key),
            KeyEncoding::Delimited { .. } => w.delimited_numeric(
                &v.key,
                v.key_rest.as_ref().map(|r| (r.value.as_str(), r.indicator)),
            ),
        };
        ok &= match (&v.qualifier, layout.qualifier) {
            (Some(q), Qualifier::Alphanumeric { .. }) => w.alphanumeric(&q.value, q.indicator),
            (Some(q), Qualifier::Numeric { length_bits, .. }) => {
                w.numeric_string(&q.value, length_bits)
            }
            // Before further AIDC data an absent value is written as its empty header.
            (None, Qualifier::Alphanumeric { .. }) if toggle => w.w.write(0, 8),
            (None, Qualifier::Numeric { length_bits, .. }) if toggle => w.w.write(0, length_bits),
            _ => true,
        };
        if let Some(bits) = &self.aidc_data {
            ok &= bits.iter().all(|&b| w.w.write(u64::from(b), 1));
        }
        debug_assert!(ok, "emit overflowed its own buffer_len");
        Ok(())
    }

    /// The encoding as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.buffer_len()];
        // The buffer has the needed length, so this cannot fail.
        let _ = self.emit(&mut out);
        out
    }
}

/// A date for DSGTIN+ only, of a defined type, a real YYMMDD: month 1-12, day up to the month's
/// length (29 February in years divisible by 4), or day 00 (GS1: the month, no day).
fn check_date(layout: &PlusLayout, date: &Option<(u8, String)>) -> Result<(), FieldError> {
    match (date, layout.dated) {
        (Some((kind, text)), true) => {
            if usize::from(*kind) >= DATE_TYPES.len() {
                return Err(rule("date_type", &kind.to_string(), "must be 0-6"));
            }
            let part = |i: usize| text.get(i..i + 2).and_then(|p| p.parse::<u8>().ok());
            let (year, month, day) = (part(0), part(2), part(4));
            let month_days = match (year, month) {
                (_, Some(1 | 3 | 5 | 7 | 8 | 10 | 12)) => 31,
                (_, Some(4 | 6 | 9 | 11)) => 30,
                (Some(y), Some(2)) if y % 4 == 0 => 29,
                (_, Some(2)) => 28,
                _ => 0,
            };
            if text.len() != 6
                || !text.bytes().all(|c| c.is_ascii_digit())
                || month_days == 0
                || !matches!(day, Some(d) if d <= month_days)
            {
                return Err(rule("date", text, "not a YYMMDD date"));
            }
            Ok(())
        }
        (None, false) => Ok(()),
        (Some((_, text)), false) => Err(rule("date", text, "only DSGTIN+ has a date")),
        (None, true) => Err(rule("date", "", "DSGTIN+ needs a date")),
    }
}

/// The key's digits, leading zero and check digit; for delimited keys digits then a remainder.
fn check_key(layout: &PlusLayout, key: &str, rest: &Option<PlusText>) -> Result<(), FieldError> {
    let name = layout.key_name;
    if !key.bytes().all(|c| c.is_ascii_digit()) {
        return Err(rule(name, key, "not digits"));
    }
    match layout.key {
        KeyEncoding::Fixed {
            digits,
            check_over,
            leading_zero,
        } => {
            if rest.is_some() {
                return Err(rule(name, key, "a fixed-length key has no remainder"));
            }
            if key.len() != usize::from(digits) {
                return Err(rule(name, key, "wrong number of digits"));
            }
            if leading_zero && !key.starts_with('0') {
                return Err(rule(name, key, "must start with 0"));
            }
            let check = key.as_bytes()[check_over];
            if char::from(check) != mod10_check_digit(&key[..check_over]) {
                return Err(rule(name, key, "wrong check digit"));
            }
        }
        KeyEncoding::Delimited { max_chars } => {
            let rest_len = match rest {
                None => 0,
                Some(r) if !r.value.is_empty() && fits_indicator(&r.value, r.indicator) => {
                    r.value.len()
                }
                Some(r) => {
                    return Err(rule(
                        name,
                        &r.value,
                        "remainder empty or not of its encoding",
                    ))
                }
            };
            let total = key.len() + rest_len;
            if total == 0 || total > usize::from(max_chars) {
                return Err(rule(
                    name,
                    key,
                    "length outside the AI's 1 to 30 characters",
                ));
            }
        }
    }
    Ok(())
}

/// The qualifier is present when required, absent when the scheme has none, within its limits.
fn check_qualifier(layout: &PlusLayout, qualifier: &Option<PlusText>) -> Result<(), FieldError> {
    match (layout.qualifier, qualifier) {
        (Qualifier::None, None) => Ok(()),
        (Qualifier::None, Some(q)) => Err(rule("qualifier", &q.value, "the scheme has no serial")),
        (
            Qualifier::Alphanumeric { name, required, .. }
            | Qualifier::Numeric { name, required, .. },
            None,
        ) => match required {
            true => Err(rule(name, "", "required")),
            false => Ok(()),
        },
        (
            Qualifier::Alphanumeric {
                name, max_chars, ..
            },
            Some(q),
        ) => {
            if q.value.is_empty() || q.value.len() > usize::from(max_chars) {
                return Err(rule(name, &q.value, "length outside the AI's 1 to maximum"));
            }
            if !fits_indicator(&q.value, q.indicator) {
                return Err(rule(name, &q.value, "characters not of its encoding"));
            }
            Ok(())
        }
        (
            Qualifier::Numeric {
                name, max_digits, ..
            },
            Some(q),
        ) => {
            if q.value.is_empty()
                || q.value.len() > usize::from(max_digits)
                || !q.value.bytes().all(|c| c.is_ascii_digit())
                || q.indicator != 0
            {
                return Err(rule(name, &q.value, "not 1 to 12 digits"));
            }
            Ok(())
        }
    }
}

/// Decodes a '+' EPC; `None` when `scheme` is not a '+' scheme.
pub(crate) fn decode_plus(scheme: Scheme, epc: &[u8]) -> Option<Result<PlusEpc, DecodeError>> {
    let layout = plus_layout_of(scheme)?;
    Some(read(scheme, &layout, epc))
}

fn read(scheme: Scheme, layout: &PlusLayout, epc: &[u8]) -> Result<PlusEpc, DecodeError> {
    let mut r = AidcReader::at(epc, 8);
    let toggle = r.take(1)? == 1;
    let filter = r.take(3)? as u8;
    let date = if layout.dated {
        let kind = r.take(4)? as u8;
        if usize::from(kind) >= DATE_TYPES.len() {
            return Err(DecodeError::AidcValue {
                field: "date_type",
                reason: format!("date type {kind} is reserved (valid: 0-6)"),
            });
        }
        Some((kind, r.date("date")?))
    } else {
        None
    };
    let (key, key_rest) = match layout.key {
        KeyEncoding::Fixed { digits, .. } => (r.fixed_numeric(layout.key_name, digits)?, None),
        KeyEncoding::Delimited { max_chars } => {
            let (digits, rest) = r.delimited_numeric(layout.key_name, max_chars)?;
            let rest = rest.map(|(value, indicator)| PlusText { value, indicator });
            (digits, rest)
        }
    };
    // An optional value is absent when the EPC ends before its header (without further AIDC
    // data) or when its header says length 0.
    let qualifier = match layout.qualifier {
        Qualifier::None => None,
        Qualifier::Alphanumeric {
            name,
            max_chars,
            required,
            ..
        } => {
            if !required && !toggle && r.remaining() < 8 {
                None
            } else {
                let (value, indicator) = r.alphanumeric(name, max_chars)?;
                (required || !value.is_empty()).then_some(PlusText { value, indicator })
            }
        }
        Qualifier::Numeric {
            name,
            length_bits,
            max_digits,
            required,
            ..
        } => {
            if !required && !toggle && r.remaining() < length_bits as usize {
                None
            } else {
                let value = r.numeric_string(name, length_bits, max_digits)?;
                (required || !value.is_empty()).then_some(PlusText {
                    value,
                    indicator: 0,
                })
            }
        }
    };
    let mut rest = r.rest();
    let aidc_data = if toggle {
        // Trailing zeros are word padding, as `emit` writes it.
        while rest.last() == Some(&0) {
            rest.pop();
        }
        Some(rest)
    } else if rest.iter().any(|&b| b != 0) {
        // Without further AIDC data, what follows is padding and must be zero.
        return Err(DecodeError::ReservedBits {
            after: "identity",
            bits: rest.len() as u32,
            value: rest
                .iter()
                .take(64)
                .fold(0, |v, &b| (v << 1) | u64::from(b)),
        });
    } else {
        None
    };
    let values = PlusFields {
        filter,
        date,
        key,
        key_rest,
        qualifier,
    };
    let mut epc = PlusEpc::new(scheme, values)?;
    epc.aidc_data = aidc_data;
    Ok(epc)
}
