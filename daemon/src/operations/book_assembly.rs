//! Putting HQ's book stock together from its retained parts (`expected`, `expected/{k}`): bounded, whole or not at all, and applied once per `expected_id`.
//!
//! The broker hands the parts over in any order, again after every reconnect, and may still hold
//! a stale part of an earlier book until HQ clears it. So parts are kept per `expected_id` (the
//! two newest ids at most), a book is complete when every part of its id is there, and a book
//! whose id was already applied is ignored: a reconnect never re-applies it, nor undoes a local
//! import made since.

use std::collections::BTreeMap;

use tagtally_contract::{ExpectedPart, MAX_BOOK_SKUS};

use super::book_stock::{BookBuilder, BookError, BookSource, BookStock};

/// Books being put together at once.
const PENDING_BOOKS: usize = 2;

/// One part of HQ's book stock, as the contract checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookPart {
    /// The book's id, the same in all its parts.
    pub expected_id: String,
    /// The book's date.
    pub as_of: String,
    /// This part's number, from 1.
    pub part: u32,
    /// How many parts the book has.
    pub parts: u32,
    /// This part's items.
    pub items: Vec<(String, u32)>,
}

impl From<ExpectedPart<'_>> for BookPart {
    fn from(part: ExpectedPart<'_>) -> Self {
        BookPart {
            expected_id: part.expected_id.into_owned(),
            as_of: part.as_of.into_owned(),
            part: part.part,
            parts: part.parts,
            items: part
                .items
                .into_iter()
                .map(|item| (item.sku.into_owned(), item.count))
                .collect(),
        }
    }
}

/// What one part made of the book it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assembled {
    /// More parts are needed.
    Waiting {
        /// Parts held of this book.
        held: u32,
        /// Parts it has.
        parts: u32,
    },
    /// The book is whole and checked.
    Complete(BookStock),
    /// The book breaks a rule; its parts are dropped.
    Refused {
        /// The book's id.
        expected_id: String,
        /// Why.
        error: BookError,
    },
    /// The book with this id was applied already.
    AlreadyApplied,
}

#[derive(Debug)]
struct Pending {
    expected_id: String,
    as_of: String,
    parts: u32,
    received: BTreeMap<u32, Vec<(String, u32)>>,
}

impl Pending {
    fn items(&self) -> usize {
        self.received.values().map(Vec::len).sum()
    }
}

/// The books being put together.
#[derive(Debug, Default)]
pub struct BookAssembly {
    pending: Vec<Pending>,
}

impl BookAssembly {
    /// Takes one part; `applied` is the id of the last book from HQ applied.
    pub fn offer(&mut self, part: BookPart, applied: Option<&str>) -> Assembled {
        if applied == Some(part.expected_id.as_str()) {
            return Assembled::AlreadyApplied;
        }
        let index = match self
            .pending
            .iter()
            .position(|p| p.expected_id == part.expected_id)
        {
            Some(index) => index,
            None => {
                if self.pending.len() == PENDING_BOOKS {
                    // The oldest book begun is the one a newer book replaced.
                    self.pending.remove(0);
                }
                self.pending.push(Pending {
                    expected_id: part.expected_id.clone(),
                    as_of: part.as_of.clone(),
                    parts: part.parts,
                    received: BTreeMap::new(),
                });
                self.pending.len() - 1
            }
        };
        let pending = &mut self.pending[index];
        let refuse = |pending: Pending, error| Assembled::Refused {
            expected_id: pending.expected_id,
            error,
        };
        if pending.parts != part.parts || pending.as_of != part.as_of {
            let pending = self.pending.remove(index);
            return refuse(
                pending,
                BookError::BadLabel {
                    what: "parts and as_of (they differ between parts of one expected_id)",
                },
            );
        }
        pending.received.insert(part.part, part.items);
        if pending.items() > MAX_BOOK_SKUS {
            let pending = self.pending.remove(index);
            return refuse(pending, BookError::TooManySkus);
        }
        let held = pending.received.len() as u32;
        if held < pending.parts {
            return Assembled::Waiting {
                held,
                parts: pending.parts,
            };
        }
        let pending = self.pending.remove(index);
        let mut book = BookBuilder::default();
        for (sku, count) in pending.received.values().flatten() {
            if let Err(error) = book.add(sku, u64::from(*count)) {
                return refuse(pending, error);
            }
        }
        Assembled::Complete(book.finish(pending.expected_id, pending.as_of, BookSource::Expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(id: &str, part: u32, parts: u32, items: &[(&str, u32)]) -> BookPart {
        BookPart {
            expected_id: id.into(),
            as_of: "t".into(),
            part,
            parts,
            items: items.iter().map(|(s, c)| ((*s).to_owned(), *c)).collect(),
        }
    }

    #[test]
    fn parts_in_any_order_make_a_book_once_and_a_stale_part_does_not_hide_it() {
        let mut assembly = BookAssembly::default();
        assert_eq!(
            assembly.offer(part("new", 2, 2, &[("b", 2)]), Some("old")),
            Assembled::Waiting { held: 1, parts: 2 }
        );
        // A stale part of the book in force, still retained at the broker.
        assert_eq!(
            assembly.offer(part("old", 3, 3, &[("z", 1)]), Some("old")),
            Assembled::AlreadyApplied
        );
        let Assembled::Complete(book) = assembly.offer(part("new", 1, 2, &[("a", 1)]), Some("old"))
        else {
            panic!("complete")
        };
        assert_eq!(book.id, "new");
        assert_eq!(book.source, BookSource::Expected);
        assert_eq!(book.items, [("a".to_owned(), 1), ("b".to_owned(), 2)]);
    }

    #[test]
    fn a_sku_in_two_parts_or_parts_that_disagree_refuse_the_book() {
        let mut assembly = BookAssembly::default();
        assembly.offer(part("x", 1, 2, &[("a", 1)]), None);
        assert!(matches!(
            assembly.offer(part("x", 2, 2, &[("a", 5)]), None),
            Assembled::Refused {
                error: BookError::DuplicateSku { .. },
                ..
            }
        ));
        assembly.offer(part("y", 1, 2, &[("a", 1)]), None);
        assert!(matches!(
            assembly.offer(part("y", 2, 3, &[]), None),
            Assembled::Refused { .. }
        ));
    }
}
