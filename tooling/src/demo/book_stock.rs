//! The demo's book stock (SPEC §10 "Book stock"): what the store's books say it holds, as HQ
//! publishes it, retained, on `expected` — with two planted errors, so `tagtally reconcile`, the
//! `discrepancies` message and HQ's view have something to show besides the day's sales (which the
//! books, as of the morning, do not know about either).
//!
//! The books list every item the store opens with, the stockroom's overflow included (until the
//! handheld counts it, that shows as missing), and get two things wrong:
//! * [`PHANTOM`]: a delivery booked but never received — booked, never in the store;
//! * the stockroom's new product (`handheld_count::NEW_PRODUCT`): received but never booked.

use std::collections::BTreeMap;
use std::time::Duration;

use tagtally_contract::{BookItem, ExpectedPart, ExpectedSchema};

use super::handheld_count;
use super::sgtin::gtin_of;
use super::store_model::{DemoStore, COMPANY};

/// The book's id (`expected_id`) and date.
pub const BOOK_ID: &str = "demo-book-1";
const AS_OF: &str = "opening";
/// Booked but never received: (product number, units). Indicator digit 2, outside the store
/// model's products.
pub const PHANTOM: (u32, u32) = (200_002, 4);
/// SKUs per `expected` part: about 40 bytes each, well within the 60 KiB bound of a part.
const SKUS_PER_PART: usize = 1_000;

/// The books: SKU (GTIN-14) → units, planted errors included.
pub fn book(store: &DemoStore) -> BTreeMap<String, u32> {
    let mut book: BTreeMap<String, u32> = BTreeMap::new();
    for item in &store.items {
        let at_opening = item
            .stays
            .iter()
            .any(|s| s.from == Duration::ZERO && s.until.is_none_or(|u| u > Duration::ZERO));
        if at_opening {
            *book.entry(item.sku.clone()).or_insert(0) += 1;
        }
    }
    let (new_product, _) = handheld_count::NEW_PRODUCT;
    let unbooked = gtin_of(COMPANY, new_product);
    for (sku, units) in handheld_count::stockroom_skus() {
        if sku != unbooked {
            *book.entry(sku).or_insert(0) += u32::try_from(units).unwrap_or(u32::MAX);
        }
    }
    book.insert(gtin_of(COMPANY, PHANTOM.0), PHANTOM.1);
    book
}

/// The retained `expected` messages of `book`: (topic below the store's, payload), part 1 on
/// `expected`, part k on `expected/{k}`.
pub fn expected_messages(book: &BTreeMap<String, u32>) -> Vec<(String, Vec<u8>)> {
    let items: Vec<BookItem> = book
        .iter()
        .map(|(sku, count)| BookItem {
            sku: sku.as_str().into(),
            count: *count,
        })
        .collect();
    let chunks: Vec<&[BookItem]> = items.chunks(SKUS_PER_PART).collect();
    let parts = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
    (1u32..)
        .zip(chunks)
        .map(|(part, chunk)| {
            let topic = if part == 1 {
                "expected".to_owned()
            } else {
                format!("expected/{part}")
            };
            let payload = ExpectedPart {
                schema: ExpectedSchema,
                as_of: AS_OF.into(),
                expected_id: BOOK_ID.into(),
                part,
                parts,
                items: chunk.to_vec(),
            }
            .encode();
            (topic, payload)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::store_model::{generate, StoreSpec};

    #[test]
    fn the_books_hold_the_opening_stock_and_exactly_the_planted_errors() {
        let store = generate(&StoreSpec::default());
        let book = book(&store);
        let opening: u64 = store.present_at(Duration::ZERO).values().sum();
        let overflow: u64 = handheld_count::stockroom_skus()
            .iter()
            .map(|(_, units)| units)
            .sum::<u64>()
            - handheld_count::NEW_PRODUCT.1;
        let booked: u64 = book.values().map(|n| u64::from(*n)).sum();
        assert_eq!(booked, opening + overflow + u64::from(PHANTOM.1));
        assert_eq!(book.get(&gtin_of(COMPANY, PHANTOM.0)), Some(&PHANTOM.1));
        assert_eq!(
            book.get(&gtin_of(COMPANY, handheld_count::NEW_PRODUCT.0)),
            None
        );
    }

    #[test]
    fn every_part_is_a_valid_expected_message() {
        let book: BTreeMap<String, u32> = (0..2_500u32)
            .map(|i| (gtin_of(COMPANY, 100_000 + i), i % 7))
            .collect();
        let messages = expected_messages(&book);
        assert_eq!(
            messages.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
            ["expected", "expected/2", "expected/3"]
        );
        let mut items = 0;
        for (topic, payload) in &messages {
            tagtally_tests::schemas::assert_payload_valid(topic, payload);
            let part = ExpectedPart::parse(payload).expect("a valid part");
            assert_eq!((part.expected_id.as_ref(), part.parts), (BOOK_ID, 3));
            items += part.items.len();
        }
        assert_eq!(items, 2_500);
    }
}
