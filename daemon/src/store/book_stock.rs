//! The book stock in force (SPEC §10), kept so a restart compares the counts with the same books.
//!
//! Two tables, created by the first book stock and not part of the layout version (a build
//! without them ignores them; a database without them has no book stock): `book_stock` (SKU →
//! book count) and `book_stock_meta` (`id`, `as_of`, `source`; `last_expected_id`, the last book
//! from HQ applied, so its retained parts are not applied again after a reconnect or over a local
//! import; and `discrepancies_parts` and `replenish_parts`, the parts of the last retained
//! messages, so retained parts beyond a shorter later list are cleared even after a restart). A new book stock replaces the old one whole in one transaction:
//! a crash leaves either the old or the new one, never a mix.

use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError};

use super::error::{AtPath, StoreError};
use super::Store;
use crate::operations::{BookSource, BookStock};

/// SKU → book count.
const BOOK_STOCK: TableDefinition<&str, u32> = TableDefinition::new("book_stock");
/// `id`, `as_of`, `source`, `discrepancy_parts` → text.
const BOOK_META: TableDefinition<&str, &str> = TableDefinition::new("book_stock_meta");

impl Store {
    /// Replaces the book stock in force with `book`, whole.
    pub fn replace_book_stock(&self, book: &BookStock) -> Result<(), StoreError> {
        self.write(|db| {
            let path = self.path.as_path();
            let txn = db.begin_write().at(path)?;
            {
                let mut table = txn.open_table(BOOK_STOCK).at(path)?;
                table.retain(|_, _| false).at(path)?;
                for (sku, count) in &book.items {
                    table.insert(sku.as_str(), *count).at(path)?;
                }
                let mut meta = txn.open_table(BOOK_META).at(path)?;
                meta.insert("id", book.id.as_str()).at(path)?;
                meta.insert("as_of", book.as_of.as_str()).at(path)?;
                meta.insert("source", book.source.as_str()).at(path)?;
                if book.source == BookSource::Expected {
                    meta.insert("last_expected_id", book.id.as_str()).at(path)?;
                }
            }
            txn.commit().at(path)
        })
    }

    /// The book stock in force, if any.
    pub fn book_stock(&self) -> Result<Option<BookStock>, StoreError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let txn = db.begin_read().at(path)?;
        let meta = match txn.open_table(BOOK_META) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e).at(path),
        };
        let text = |key: &str| -> Result<Option<String>, StoreError> {
            Ok(meta.get(key).at(path)?.map(|v| v.value().to_owned()))
        };
        let (Some(id), Some(as_of), Some(source)) = (text("id")?, text("as_of")?, text("source")?)
        else {
            return Ok(None);
        };
        let source = BookSource::parse(&source).unwrap_or(BookSource::Import);
        let table = txn.open_table(BOOK_STOCK).at(path)?;
        let mut items = Vec::new();
        for entry in table.iter().at(path)? {
            let (sku, count) = entry.at(path)?;
            items.push((sku.value().to_owned(), count.value()));
        }
        Ok(Some(BookStock {
            id,
            as_of,
            source,
            items,
        }))
    }

    /// The id of the last book from HQ applied, if any.
    pub fn last_expected_id(&self) -> Result<Option<String>, StoreError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let txn = db.begin_read().at(path)?;
        let meta = match txn.open_table(BOOK_META) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e).at(path),
        };
        let id = meta.get("last_expected_id").at(path)?;
        Ok(id.map(|v| v.value().to_owned()))
    }

    /// Records how many parts the last retained `what` message (`discrepancies`, `replenish`)
    /// had; returns the most any earlier one had (so the caller clears those beyond the new count).
    pub fn note_retained_parts(&self, what: &str, parts: u32) -> Result<u32, StoreError> {
        let key = format!("{what}_parts");
        self.write(|db| {
            let path = self.path.as_path();
            let txn = db.begin_write().at(path)?;
            let earlier = {
                let mut meta = txn.open_table(BOOK_META).at(path)?;
                let earlier = meta
                    .get(key.as_str())
                    .at(path)?
                    .and_then(|v| v.value().parse::<u32>().ok())
                    .unwrap_or(0);
                meta.insert(key.as_str(), parts.to_string().as_str())
                    .at(path)?;
                earlier
            };
            txn.commit().at(path)?;
            Ok(earlier)
        })
    }
}
