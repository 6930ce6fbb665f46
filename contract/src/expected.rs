//! `tagtally.expected/1`: HQ's book stock for a store (SPEC §10), retained on `expected` (part 1) and `expected/{k}`, split like a snapshot; bounded before it is parsed.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::book_item::{check_book_item, BookItem, MAX_BOOK_SKUS};
use crate::error::ContractError;
use crate::schema_name::ExpectedSchema;

/// Largest `expected` part accepted: it must also pass an MQTT 5 store's inbound packet limit
/// (64 KiB with its topic), so HQ splits a book into parts of at most this many bytes.
pub const MAX_EXPECTED_PART_BYTES: usize = 60 * 1024;

/// Most parts of one book stock (100 000 SKUs of GTIN-14 length fit in about 60).
pub const MAX_EXPECTED_PARTS: u32 = 256;

/// Longest `expected_id` and `as_of`, in bytes.
pub const MAX_EXPECTED_LABEL_BYTES: usize = 64;

/// One part of HQ's book stock for a store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedPart<'a> {
    /// Always `tagtally.expected/1`.
    pub schema: ExpectedSchema,
    /// The book's date, as HQ gives it.
    #[serde(borrow)]
    pub as_of: Cow<'a, str>,
    /// Unique per book stock; the same in all its parts. A store applies a book once per id.
    #[serde(borrow)]
    pub expected_id: Cow<'a, str>,
    /// This part's number, from 1.
    pub part: u32,
    /// How many parts the book has.
    pub parts: u32,
    /// This part's SKUs and book counts (each SKU in one part only).
    #[serde(borrow)]
    pub items: Vec<BookItem<'a>>,
}

fn check_label(what: &str, text: &str) -> Result<(), ContractError> {
    if text.is_empty()
        || text.len() > MAX_EXPECTED_LABEL_BYTES
        || text.chars().any(char::is_control)
    {
        return Err(ContractError::Invalid(format!(
            "{what} must be 1 to {MAX_EXPECTED_LABEL_BYTES} printable bytes"
        )));
    }
    Ok(())
}

impl<'a> ExpectedPart<'a> {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and checks one part: its size first, then its shape, labels, part numbers and
    /// every item by [`check_book_item`]. Duplicates across parts are the assembler's to find.
    pub fn parse(payload: &'a [u8]) -> Result<ExpectedPart<'a>, ContractError> {
        if payload.len() > MAX_EXPECTED_PART_BYTES {
            return Err(ContractError::TooLarge {
                bytes: payload.len(),
                max: MAX_EXPECTED_PART_BYTES,
            });
        }
        let part: ExpectedPart<'a> = serde_json::from_slice(payload)?;
        check_label("expected_id", &part.expected_id)?;
        check_label("as_of", &part.as_of)?;
        if part.parts == 0 || part.part == 0 || part.part > part.parts {
            return Err(ContractError::Invalid(format!(
                "expected part {} of {} does not exist",
                part.part, part.parts
            )));
        }
        if part.parts > MAX_EXPECTED_PARTS {
            return Err(ContractError::Invalid(format!(
                "a book stock of {} parts is more than {MAX_EXPECTED_PARTS}",
                part.parts
            )));
        }
        if part.items.len() > MAX_BOOK_SKUS {
            return Err(ContractError::Invalid(format!(
                "more than {MAX_BOOK_SKUS} skus in one book stock"
            )));
        }
        for item in &part.items {
            check_book_item(&item.sku, u64::from(item.count))
                .map_err(|e| ContractError::Invalid(format!("sku in part {}: {e}", part.part)))?;
        }
        Ok(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_parses_and_bad_ones_say_why() {
        let good = br#"{"schema":"tagtally.expected/1","as_of":"2026-12-04","expected_id":"e-1","part":1,"parts":2,"items":[{"sku":"80614141123458","count":12}]}"#;
        let part = ExpectedPart::parse(good).unwrap();
        assert_eq!((part.part, part.parts, part.items.len()), (1, 2, 1));
        assert_eq!(ExpectedPart::parse(&part.encode()).unwrap(), part);
        for (bad, says) in [
            (
                r#"{"schema":"tagtally.expected/1","as_of":"t","expected_id":"e","part":3,"parts":2,"items":[]}"#,
                "does not exist",
            ),
            (
                r#"{"schema":"tagtally.expected/1","as_of":"t","expected_id":"","part":1,"parts":1,"items":[]}"#,
                "expected_id",
            ),
            (
                r#"{"schema":"tagtally.expected/1","as_of":"t","expected_id":"e","part":1,"parts":1,"items":[{"sku":"a","count":-1}]}"#,
                "invalid value",
            ),
            (
                r#"{"schema":"tagtally.expected/1","as_of":"t","expected_id":"e","part":1,"parts":1,"items":[{"sku":"","count":1}]}"#,
                "the sku is empty",
            ),
            (
                r#"{"schema":"tagtally.expected/1","as_of":"t","expected_id":"e","part":1,"parts":999,"items":[]}"#,
                "more than 256",
            ),
            (
                r#"{"schema":"tagtally.expected/2","as_of":"t","expected_id":"e","part":1,"parts":1,"items":[]}"#,
                "tagtally.expected/2",
            ),
        ] {
            let error = ExpectedPart::parse(bad.as_bytes()).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
        let huge = vec![b' '; MAX_EXPECTED_PART_BYTES + 1];
        assert!(matches!(
            ExpectedPart::parse(&huge),
            Err(ContractError::TooLarge { .. })
        ));
    }
}
