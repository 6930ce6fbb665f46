//! The field rules of every scheme (digit counts, integer ranges, character sets, lengths), checked on
//! text: the one place that decides whether field values are a valid identity, for decoding and encoding.

use super::chars::CharSet;
use super::error::FieldError;
use super::header::Scheme;
use super::layout::{Layout, Reference, Segment};
use super::partition::{partition_of, split, Split};

/// Checks `filter` and `fields` against `layout`.
pub(crate) fn validate(
    scheme: Scheme,
    layout: &Layout,
    filter: Option<u8>,
    fields: &[String],
) -> Result<(), FieldError> {
    let expected: usize = layout.segments.iter().map(Segment::field_count).sum();
    if fields.len() != expected {
        return Err(FieldError::FieldCount {
            scheme: scheme.name(),
            expected,
            got: fields.len(),
        });
    }
    let filter_ok = match filter {
        None => layout.filter_bits == 0,
        Some(value) => layout.filter_bits > 0 && u32::from(value) < 1 << layout.filter_bits,
    };
    if !filter_ok {
        return Err(FieldError::Filter {
            scheme: scheme.name(),
            value: filter,
            bits: layout.filter_bits,
        });
    }
    let mut values = fields.iter();
    let mut next = || values.next().map(String::as_str).unwrap_or_default();
    for segment in layout.segments {
        match *segment {
            Segment::Partitioned {
                table,
                name,
                reference,
            } => {
                let cp = next();
                let row = company_prefix_row(table, cp)?;
                let value = next();
                let max = usize::from(row.ref_digits);
                match reference {
                    Reference::Digits => fixed_digits(name, value, row.ref_bits, max)?,
                    Reference::Integer => integer(name, value, row.ref_bits, row.ref_digits)?,
                    Reference::String7 => text(name, value, CharSet::Gs1, 1, max)?,
                    Reference::String6 => text(name, value, CharSet::Cpi, 1, max)?,
                }
            }
            Segment::Integer {
                name,
                bits,
                max_digits,
            } => integer(name, next(), bits, max_digits)?,
            Segment::FixedDigits { name, bits, digits } => {
                fixed_digits(name, next(), bits, usize::from(digits))?;
            }
            Segment::NumericString {
                name,
                bits,
                max_digits,
            } => {
                let value = next();
                all_digits(name, value)?;
                length(name, value, 0, usize::from(max_digits))?;
                // Stored as the integer of "1" + digits; it must fit the field.
                fits(name, &format!("1{value}"), bits)?;
            }
            Segment::String7 {
                name,
                bits,
                min_chars,
            } => text(
                name,
                next(),
                CharSet::Gs1,
                usize::from(min_chars),
                (bits / 7) as usize,
            )?,
            Segment::String6 {
                name,
                set,
                min_chars,
                max_chars,
            } => text(
                name,
                next(),
                set,
                usize::from(min_chars),
                usize::from(max_chars),
            )?,
            Segment::Cage { name, .. } => text(name, next(), CharSet::Cage, 5, 6)?,
            Segment::Reserved { .. } => {}
        }
    }
    Ok(())
}

/// The partition row whose company prefix has as many digits as `cp`.
pub(crate) fn company_prefix_row(
    table: &'static super::partition::Table,
    cp: &str,
) -> Result<Split, FieldError> {
    all_digits("company_prefix", cp)?;
    let partition =
        partition_of(table, cp.len()).ok_or_else(|| FieldError::CompanyPrefix(cp.to_owned()))?;
    split(table, partition).map_err(|_| FieldError::CompanyPrefix(cp.to_owned()))
}

fn all_digits(field: &'static str, value: &str) -> Result<(), FieldError> {
    if value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FieldError::NotDigits {
            field,
            value: value.to_owned(),
        })
    }
}

fn length(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let got = value.chars().count();
    if (min..=max).contains(&got) {
        Ok(())
    } else {
        Err(FieldError::Length {
            field,
            value: value.to_owned(),
            got,
            min,
            max,
        })
    }
}

/// Whether the decimal `value` (digits only) is below 2^`bits`.
fn fits(field: &'static str, value: &str, bits: u32) -> Result<(), FieldError> {
    let fits = value
        .parse::<u64>()
        .ok()
        .is_some_and(|v| bits >= 64 || v < 1u64 << bits);
    if fits {
        Ok(())
    } else {
        Err(FieldError::TooLarge {
            field,
            value: value.to_owned(),
            bits,
        })
    }
}

/// Exactly `digits` digits (leading zeros kept) whose value fits `bits`.
fn fixed_digits(
    field: &'static str,
    value: &str,
    bits: u32,
    digits: usize,
) -> Result<(), FieldError> {
    all_digits(field, value)?;
    length(field, value, digits, digits)?;
    if digits == 0 {
        return Ok(());
    }
    fits(field, value, bits)
}

/// A number without leading zeros that fits `bits` and, unless `max_digits` is 0, has at most that many digits.
fn integer(field: &'static str, value: &str, bits: u32, max_digits: u8) -> Result<(), FieldError> {
    all_digits(field, value)?;
    let max = if max_digits == 0 {
        20
    } else {
        usize::from(max_digits)
    };
    length(field, value, 1, max)?;
    if value.len() > 1 && value.starts_with('0') {
        return Err(FieldError::LeadingZero {
            field,
            value: value.to_owned(),
        });
    }
    fits(field, value, bits)
}

/// `min..=max` characters, each allowed by `set` at its position.
fn text(
    field: &'static str,
    value: &str,
    set: CharSet,
    min: usize,
    max: usize,
) -> Result<(), FieldError> {
    for (position, found) in value.chars().enumerate() {
        let allowed = u8::try_from(found).is_ok_and(|c| c.is_ascii() && set.allows(c, position));
        if !allowed {
            return Err(FieldError::BadChar {
                field,
                position,
                found,
            });
        }
    }
    length(field, value, min, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epc::layout::layout_of;

    fn check(header: u8, filter: Option<u8>, fields: &[&str]) -> Result<(), FieldError> {
        let scheme = Scheme::from_header(header).expect("scheme");
        let layout = layout_of(scheme).expect("layout");
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        validate(scheme, &layout, filter, &fields)
    }

    #[test]
    fn rules_of_each_kind_of_field() {
        assert_eq!(check(0x30, Some(3), &["0614141", "812345", "6789"]), Ok(()));
        assert!(matches!(
            check(0x30, Some(8), &["0614141", "812345", "6789"]),
            Err(FieldError::Filter { .. })
        ));
        assert!(matches!(
            check(0x30, Some(3), &["06141410000000", "8", "1"]),
            Err(FieldError::CompanyPrefix(_))
        ));
        assert!(matches!(
            check(0x30, Some(3), &["0614141", "81234", "1"]),
            Err(FieldError::Length { .. })
        ));
        assert!(matches!(
            check(0x30, Some(3), &["0614141", "812345", "01"]),
            Err(FieldError::LeadingZero { .. })
        ));
        assert!(matches!(
            check(0x30, Some(3), &["0614141", "812345", "274877906944"]),
            Err(FieldError::TooLarge { .. })
        ));
        assert!(matches!(
            check(0x36, Some(3), &["0614141", "812345", "a b"]),
            Err(FieldError::BadChar { position: 1, .. })
        ));
        assert!(matches!(
            check(0x35, Some(0), &["1", "2", "3"]),
            Err(FieldError::Filter { .. })
        ));
        assert_eq!(check(0x35, None, &["1", "2", "3"]), Ok(()));
        assert_eq!(check(0x3F, Some(0), &["0614141", "12345", ""]), Ok(()));
        assert_eq!(
            check(0x3F, Some(0), &["0614141", "12345", "000000000012"]),
            Ok(())
        );
        assert_eq!(check(0x3B, Some(0), &["35962", "", "#A1"]), Ok(()));
        assert!(matches!(
            check(0x3B, Some(0), &["35962", "", "A#1"]),
            Err(FieldError::BadChar { position: 1, .. })
        ));
        assert!(matches!(
            check(0x2F, Some(0), &["1234", "1"]),
            Err(FieldError::Length { .. })
        ));
    }
}
