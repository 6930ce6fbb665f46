//! One line of book stock (SPEC §10: `{"sku","count"}`) and the one rule every book stock obeys, whether it came from HQ's `expected` topic or from `tagtally expected import`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Most SKUs one book stock holds. A large store carries tens of thousands; the bound keeps a
/// mistaken feed (or a two-million-line file) from growing the gateway's memory.
pub const MAX_BOOK_SKUS: usize = 100_000;

/// Largest book count of one SKU.
pub const MAX_BOOK_COUNT: u32 = 1_000_000;

/// Longest SKU, in characters (the config's `[[sku-map]]` bound too).
pub const MAX_BOOK_SKU_CHARS: usize = 128;

/// What the store's books say it holds of one SKU.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookItem<'a> {
    /// The SKU, as the store counts it (SPEC §3: GTIN-14, a class pattern, a mapped name).
    #[serde(borrow)]
    pub sku: Cow<'a, str>,
    /// How many the books say are in the store (0 to [`MAX_BOOK_COUNT`]).
    pub count: u32,
}

/// Why a book stock line is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookItemError {
    /// An empty SKU.
    EmptySku,
    /// A SKU longer than [`MAX_BOOK_SKU_CHARS`].
    LongSku,
    /// A SKU with control characters (or leading or trailing blanks, which no counted SKU has).
    BadSkuCharacters,
    /// A count above [`MAX_BOOK_COUNT`].
    CountTooLarge {
        /// The count given.
        count: u64,
    },
}

impl std::fmt::Display for BookItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BookItemError::EmptySku => f.write_str("the sku is empty"),
            BookItemError::LongSku => {
                write!(f, "the sku is longer than {MAX_BOOK_SKU_CHARS} characters")
            }
            BookItemError::BadSkuCharacters => {
                f.write_str("the sku contains control characters or leading or trailing blanks")
            }
            BookItemError::CountTooLarge { count } => {
                write!(f, "count {count} is larger than {MAX_BOOK_COUNT}")
            }
        }
    }
}

impl std::error::Error for BookItemError {}

/// Checks one line: the SKU non-empty, at most [`MAX_BOOK_SKU_CHARS`], printable and trimmed; the
/// count at most [`MAX_BOOK_COUNT`]. Negative counts never get here (they do not parse as one).
pub fn check_book_item(sku: &str, count: u64) -> Result<(), BookItemError> {
    if sku.is_empty() {
        return Err(BookItemError::EmptySku);
    }
    if sku.chars().count() > MAX_BOOK_SKU_CHARS {
        return Err(BookItemError::LongSku);
    }
    if sku.chars().any(char::is_control) || sku.trim() != sku {
        return Err(BookItemError::BadSkuCharacters);
    }
    if count > u64::from(MAX_BOOK_COUNT) {
        return Err(BookItemError::CountTooLarge { count });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_refuses_empty_long_unprintable_and_huge() {
        assert_eq!(check_book_item("80614141123458", 3), Ok(()));
        assert_eq!(
            check_book_item("urn:epc:idpat:grai:0614141.12345.*", 0),
            Ok(())
        );
        assert_eq!(check_book_item("", 1), Err(BookItemError::EmptySku));
        assert_eq!(
            check_book_item(&"x".repeat(129), 1),
            Err(BookItemError::LongSku)
        );
        assert_eq!(check_book_item(&"é".repeat(128), 1), Ok(()));
        assert_eq!(
            check_book_item("a\u{7}", 1),
            Err(BookItemError::BadSkuCharacters)
        );
        assert_eq!(
            check_book_item(" a", 1),
            Err(BookItemError::BadSkuCharacters)
        );
        assert_eq!(
            check_book_item("a", 1_000_001),
            Err(BookItemError::CountTooLarge { count: 1_000_001 })
        );
    }
}
