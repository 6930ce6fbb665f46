//! Book stock (SPEC §10): what the store's books say it holds per SKU, and the bounded, all-or-nothing way one is put together before it replaces the last.

use std::collections::HashMap;

use tagtally_contract::{check_book_item, BookItemError, MAX_BOOK_SKUS};

/// Longest `as_of` or id of a book stock, in bytes (both are shown and published as given).
pub const MAX_BOOK_LABEL_BYTES: usize = 64;

/// A complete book stock, in force until another one replaces it whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookStock {
    /// Which book this is: HQ's `expected_id`, or the id given to a local import.
    pub id: String,
    /// The book's date, as given (`as_of`).
    pub as_of: String,
    /// Where it came from: `import` or `expected`.
    pub source: BookSource,
    /// Per SKU, its book count; sorted by SKU, each SKU once.
    pub items: Vec<(String, u32)>,
}

/// Where a book stock came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookSource {
    /// `tagtally expected import FILE`.
    Import,
    /// HQ's retained `expected` message.
    Expected,
}

impl BookSource {
    /// As shown and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            BookSource::Import => "import",
            BookSource::Expected => "expected",
        }
    }

    /// The source stored as [`BookSource::as_str`].
    pub fn parse(text: &str) -> Option<BookSource> {
        match text {
            "import" => Some(BookSource::Import),
            "expected" => Some(BookSource::Expected),
            _ => None,
        }
    }
}

/// Why a book stock being put together is refused; the previous one stays in force.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// A line breaks the rule of [`check_book_item`].
    #[error("sku `{sku}`: {problem}")]
    BadItem {
        /// The SKU as given (cut short for the message).
        sku: String,
        /// What is wrong.
        problem: BookItemError,
    },
    /// The same SKU twice.
    #[error("sku `{sku}` is given twice")]
    DuplicateSku {
        /// The SKU.
        sku: String,
    },
    /// More than [`MAX_BOOK_SKUS`] SKUs.
    #[error("more than {MAX_BOOK_SKUS} skus in one book stock")]
    TooManySkus,
    /// An `as_of` or id that is empty, too long or not printable.
    #[error("{what} must be 1 to {MAX_BOOK_LABEL_BYTES} printable bytes")]
    BadLabel {
        /// `as_of` or `id`.
        what: &'static str,
    },
}

/// Checks an `as_of` or id.
pub fn check_label(what: &'static str, text: &str) -> Result<(), BookError> {
    if text.is_empty() || text.len() > MAX_BOOK_LABEL_BYTES || text.chars().any(char::is_control) {
        return Err(BookError::BadLabel { what });
    }
    Ok(())
}

/// A book stock being put together, item by item; nothing of it is in force until
/// [`BookBuilder::finish`], and any refused item makes the caller discard it whole.
#[derive(Debug, Default)]
pub struct BookBuilder {
    items: HashMap<String, u32>,
}

impl BookBuilder {
    /// Adds one SKU and its book count.
    pub fn add(&mut self, sku: &str, count: u64) -> Result<(), BookError> {
        check_book_item(sku, count).map_err(|problem| BookError::BadItem {
            sku: sku.chars().take(40).collect(),
            problem,
        })?;
        if self.items.contains_key(sku) {
            return Err(BookError::DuplicateSku {
                sku: sku.chars().take(40).collect(),
            });
        }
        if self.items.len() >= MAX_BOOK_SKUS {
            return Err(BookError::TooManySkus);
        }
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        self.items.insert(sku.to_owned(), count);
        Ok(())
    }

    /// SKUs so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The complete book stock.
    pub fn finish(self, id: String, as_of: String, source: BookSource) -> BookStock {
        let mut items: Vec<(String, u32)> = self.items.into_iter().collect();
        items.sort_unstable();
        BookStock {
            id,
            as_of,
            source,
            items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_refuses_bad_lines_duplicates_and_too_many() {
        let mut book = BookBuilder::default();
        book.add("b", 2).unwrap();
        book.add("a", 0).unwrap();
        assert!(matches!(
            book.add("a", 1),
            Err(BookError::DuplicateSku { .. })
        ));
        assert!(matches!(book.add("", 1), Err(BookError::BadItem { .. })));
        assert!(matches!(
            book.add("c", 2_000_000),
            Err(BookError::BadItem { .. })
        ));
        let done = book.finish("id".into(), "today".into(), BookSource::Import);
        assert_eq!(done.items, [("a".to_owned(), 0), ("b".to_owned(), 2)]);

        let mut big = BookBuilder::default();
        for i in 0..MAX_BOOK_SKUS {
            big.add(&i.to_string(), 1).unwrap();
        }
        assert_eq!(big.add("one-more", 1), Err(BookError::TooManySkus));
    }

    #[test]
    fn labels_are_short_and_printable() {
        assert!(check_label("as_of", "2026-12-04").is_ok());
        assert!(check_label("as_of", "").is_err());
        assert!(check_label("id", &"x".repeat(65)).is_err());
        assert!(check_label("id", "a\nb").is_err());
    }
}
