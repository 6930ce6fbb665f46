//! Book stock in the engine task (SPEC §10): the book in force, an upload being put together, `tagtally reconcile`, and the retained `discrepancies` message.
//!
//! The book stock is kept in the state database (`store/book_stock.rs`) and loaded at start. An
//! upload from `tagtally expected import` lives in memory only: it is checked item by item, and
//! only its commit replaces the book in force, whole, in one transaction; a refused item, a new
//! upload or a restart discards it and the previous book stays.
//!
//! After each flush tick the committed stock table (and the stale zones) is compared with the
//! book when either changed; when the comparison differs from the one last published, the
//! retained `discrepancies` parts go to the uplink. So the message follows every change of
//! either side, at most once per `flush-interval`.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use tagtally_contract::size::max_payload;
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::{encode_discrepancies_parts, DiscrepanciesHeader, Discrepancy};
use tracing::{info, warn};

use crate::control::book::{
    BookView, ExpectedReply, ExpectedRequest, ReconcileLine, ReconcileReply,
};
use crate::control::protocol::Reply;
use crate::operations::{
    check_label, reconcile, Assembled, BookAssembly, BookBuilder, BookPart, BookSource, BookStock,
    DiscrepancyLine,
};
use crate::time_ordered_id::time_ordered_id;

use super::engine_task::{on_blocking_pool, EngineTask};
use super::error::RunError;

/// The widest part number a discrepancies topic is sized for.
const WIDEST_PART: u32 = 99_999;

/// What the engine task keeps for book stock.
#[derive(Debug, Default)]
pub struct BookDesk {
    /// The book stock in force.
    pub book: Option<Arc<BookStock>>,
    /// An upload being put together: its number, `as_of` and items.
    upload: Option<(u64, String, BookBuilder)>,
    /// The number the next upload gets.
    next_upload: u64,
    /// HQ's book stock being put together from its parts.
    assembly: BookAssembly,
    /// The id of the last book from HQ applied.
    last_expected: Option<String>,
    /// What the last comparison was made of: (book id, stock seq, stale zones).
    compared: Option<(String, u64, Vec<String>)>,
    /// What the last published message said: (book id, lines, stale zones).
    published: Option<(String, Vec<DiscrepancyLine>, Vec<String>)>,
}

fn refused(reason: impl ToString) -> Reply {
    Reply::Refused(reason.to_string())
}

fn view(book: &BookStock) -> BookView {
    BookView {
        id: book.id.clone(),
        as_of: book.as_of.clone(),
        source: book.source.as_str().to_owned(),
        skus: book.items.len() as u64,
        units: book.items.iter().map(|(_, c)| u64::from(*c)).sum(),
    }
}

impl EngineTask {
    /// At start: the book stock the last run left in force.
    pub(super) async fn load_book(&mut self) -> Result<(), RunError> {
        let store = Arc::clone(&self.store);
        match on_blocking_pool(move || {
            store
                .book_stock()
                .and_then(|b| Ok((b, store.last_expected_id()?)))
        })
        .await?
        {
            Ok((book, last_expected)) => {
                self.operations.book.last_expected = last_expected;
                if let Some(book) = &book {
                    info!(
                        id = book.id,
                        as_of = book.as_of,
                        skus = book.items.len(),
                        "book stock restored"
                    );
                }
                self.operations.book.book = book.map(Arc::new);
            }
            // Reconciliation is not worth refusing to count for; say so and go on without it.
            Err(e) => {
                warn!(error = %e, "cannot read the book stock: reconcile has none until one is imported")
            }
        }
        Ok(())
    }

    /// Carries out one `expected` request.
    pub(super) async fn expected(&mut self, request: ExpectedRequest) -> Result<Reply, RunError> {
        let desk = &mut self.operations.book;
        Ok(match request {
            ExpectedRequest::Show => {
                Reply::Expected(ExpectedReply::Current(desk.book.as_deref().map(view)))
            }
            ExpectedRequest::Begin { as_of } => {
                if let Err(e) = check_label("as_of", &as_of) {
                    return Ok(refused(e));
                }
                desk.next_upload += 1;
                let upload = desk.next_upload;
                if desk
                    .upload
                    .replace((upload, as_of, BookBuilder::default()))
                    .is_some()
                {
                    warn!("book stock upload discarded: a new one began before it was committed");
                }
                Reply::Expected(ExpectedReply::Begun { upload })
            }
            ExpectedRequest::Add { upload, items } => {
                let Some((current, _, builder)) = desk.upload.as_mut().filter(|u| u.0 == upload)
                else {
                    return Ok(refused(format!(
                        "upload {upload} is not open (another one began, the daemon restarted, or an item was refused)"
                    )));
                };
                debug_assert_eq!(*current, upload);
                for (sku, count) in &items {
                    if let Err(e) = builder.add(sku, *count) {
                        desk.upload = None;
                        return Ok(refused(format!(
                            "{e}; the upload is discarded, the book stock in force stays"
                        )));
                    }
                }
                Reply::Expected(ExpectedReply::Added {
                    skus: builder.len() as u64,
                })
            }
            ExpectedRequest::Commit { upload } => {
                if desk.upload.as_ref().is_none_or(|u| u.0 != upload) {
                    return Ok(refused(format!("upload {upload} is not open")));
                }
                let Some((_, as_of, builder)) = desk.upload.take() else {
                    return Ok(refused(format!("upload {upload} is not open")));
                };
                if builder.is_empty() {
                    return Ok(refused(
                        "the upload holds no sku; the book stock in force stays",
                    ));
                }
                let id = match time_ordered_id(SystemTime::now()) {
                    Ok(id) => format!("import-{id}"),
                    Err(e) => return Ok(refused(format!("no random id for the import: {e}"))),
                };
                let book = builder.finish(id, as_of, BookSource::Import);
                match self.replace_book(book).await? {
                    Ok(view) => Reply::Expected(ExpectedReply::Committed(view)),
                    Err(why) => refused(why),
                }
            }
        })
    }

    /// A part of HQ's book stock: once its book is whole and checked, it replaces the book in force.
    pub(super) async fn book_part(&mut self, part: BookPart) -> Result<(), RunError> {
        let desk = &mut self.operations.book;
        let (id, number, parts) = (part.expected_id.clone(), part.part, part.parts);
        match desk.assembly.offer(part, desk.last_expected.as_deref()) {
            Assembled::AlreadyApplied => {}
            Assembled::Waiting { held, parts } => {
                info!(
                    expected_id = id,
                    part = number,
                    held,
                    parts,
                    "book stock part from hq"
                );
            }
            Assembled::Refused { expected_id, error } => warn!(
                expected_id,
                part = number,
                parts,
                %error,
                "book stock from hq refused; the book stock in force stays"
            ),
            Assembled::Complete(book) => {
                let id = book.id.clone();
                if let Err(why) = self.replace_book(book).await? {
                    warn!(expected_id = id, why, "book stock from hq not applied");
                } else {
                    self.operations.book.last_expected = Some(id);
                }
            }
        }
        Ok(())
    }

    /// Puts `book` in force: written first, then used.
    async fn replace_book(
        &mut self,
        book: BookStock,
    ) -> Result<Result<BookView, String>, RunError> {
        let book = Arc::new(book);
        let store = Arc::clone(&self.store);
        let written = Arc::clone(&book);
        if let Err(e) = on_blocking_pool(move || store.replace_book_stock(&written)).await? {
            return Ok(Err(format!(
                "the book stock cannot be written to the state database: {e}; the one in force stays"
            )));
        }
        let shown = view(&book);
        info!(
            id = shown.id,
            as_of = shown.as_of,
            source = shown.source,
            skus = shown.skus,
            units = shown.units,
            "book stock replaced"
        );
        self.operations.book.book = Some(book);
        Ok(Ok(shown))
    }

    /// The committed counts against the book: the lines, the seq and the stale zones.
    fn compare(&self, book: &BookStock) -> (Vec<DiscrepancyLine>, u64, Vec<String>) {
        let stock = Arc::clone(&self.stock_tx.borrow());
        let stale: Vec<String> = self
            .engine
            .stale_zones()
            .iter()
            .map(|z| z.to_string())
            .collect();
        let lines = reconcile(book, &stock.stock().counts, &self.roles, &stale);
        (lines, stock.stock().seq, stale)
    }

    /// `tagtally reconcile`.
    pub(super) fn reconcile_reply(&self) -> Reply {
        let Some(book) = self.operations.book.book.as_deref() else {
            return refused("no book stock: import one with `tagtally expected import FILE`");
        };
        let (lines, seq, stale_zones) = self.compare(book);
        // A set, not a scan of the lines per SKU: 100 000 booked SKUs against as many lines
        // made that quadratic scan hold the engine task for minutes.
        let differing: std::collections::HashSet<&str> =
            lines.iter().map(|l| l.sku.as_str()).collect();
        let agreeing = book
            .items
            .iter()
            .filter(|(sku, _)| !differing.contains(sku.as_str()))
            .count() as u64;
        Reply::Reconcile(ReconcileReply {
            book: view(book),
            seq,
            stale_zones,
            agreeing,
            discrepancies: lines
                .into_iter()
                .map(|l| ReconcileLine {
                    sku: l.sku,
                    book: l.book,
                    counted: l.counted,
                    difference: l.difference,
                    stale: l.stale,
                })
                .collect(),
        })
    }

    /// At each flush tick: compares again when the book, the committed counts or the stale zones
    /// changed, and publishes the retained `discrepancies` parts when the result did.
    pub(super) async fn book_tick(&mut self) -> Result<(), RunError> {
        let Some(book) = self.operations.book.book.clone() else {
            return Ok(());
        };
        let seq = self.stock_tx.borrow().stock().seq;
        let stale: Vec<String> = self
            .engine
            .stale_zones()
            .iter()
            .map(|z| z.to_string())
            .collect();
        let now = (book.id.clone(), seq, stale);
        if self.operations.book.compared.as_ref() == Some(&now) {
            return Ok(());
        }
        self.operations.book.compared = Some(now);
        let (lines, seq, stale) = self.compare(&book);
        let same = self
            .operations
            .book
            .published
            .as_ref()
            .is_some_and(|(id, l, s)| *id == book.id && *l == lines && *s == stale);
        if same {
            return Ok(());
        }
        self.publish_discrepancies(&book, &lines, seq, &stale)
            .await?;
        self.operations.book.published = Some((book.id.clone(), lines, stale));
        Ok(())
    }

    async fn publish_discrepancies(
        &mut self,
        book: &BookStock,
        lines: &[DiscrepancyLine],
        seq: u64,
        stale: &[String],
    ) -> Result<(), RunError> {
        let topics = &self.layout.topics;
        let widest = topics.discrepancies_part(WIDEST_PART).len();
        let budget = max_payload(self.packet_limit(), widest, self.layout.v5);
        let time = rfc3339_from_micros(self.published_time(self.clock.now()).0);
        let id = match time_ordered_id(SystemTime::now()) {
            Ok(id) => id,
            Err(e) => {
                warn!(error = %e, "no random id for the discrepancies message: not published this time");
                return Ok(());
            }
        };
        let stale_zones: Vec<&str> = stale.iter().map(String::as_str).collect();
        let header = DiscrepanciesHeader {
            store: self.store.store_name(),
            epoch: self.store.epoch(),
            seq,
            time: &time,
            book_id: &book.id,
            book_as_of: &book.as_of,
            discrepancies_id: &id,
            book_skus: book.items.len() as u64,
            stale_zones: &stale_zones,
        };
        let items: Vec<Discrepancy<'_>> = lines
            .iter()
            .map(|l| Discrepancy {
                sku: l.sku.as_str().into(),
                book: l.book,
                counted: l.counted,
                difference: l.difference,
                stale: l.stale,
            })
            .collect();
        let parts = encode_discrepancies_parts(&header, &items, budget);
        info!(
            book = book.id,
            discrepancies = lines.len(),
            parts = parts.len(),
            seq,
            "discrepancies published"
        );
        let topics = self.layout.topics.clone();
        self.publish_parts("discrepancies", parts, |k| topics.discrepancies_part(k))
            .await
    }

    /// Hands standing retained `parts` to the uplink, with empty messages clearing the parts an
    /// earlier, longer message of `what` left (the count of parts is kept in the state database).
    pub(super) async fn publish_parts(
        &mut self,
        what: &'static str,
        parts: Vec<Vec<u8>>,
        topic: impl Fn(u32) -> String,
    ) -> Result<(), RunError> {
        let count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
        let store = Arc::clone(&self.store);
        let earlier = match on_blocking_pool(move || store.note_retained_parts(what, count)).await?
        {
            Ok(earlier) => earlier,
            Err(e) => {
                // Only the clearing of stale parts after a later restart depends on it.
                warn!(error = %e, what, "cannot record a retained message's part count");
                count
            }
        };
        let mut messages: Vec<(String, Bytes)> = (1..)
            .zip(parts)
            .map(|(k, part)| (topic(k), Bytes::from(part)))
            .collect();
        messages.extend((count + 1..=earlier).map(|k| (topic(k), Bytes::new())));
        self.uplink.publish_standing(messages);
        Ok(())
    }
}
