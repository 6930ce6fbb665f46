//! Book stock over the control socket (SPEC §10): putting a book stock in place piece by piece (`expected`), and comparing it with the count (`reconcile`).
//!
//! A request line is at most 4 KiB, so `tagtally expected import` sends a book stock as
//! `{"command":"expected","action":"begin","as_of"}`, then `add` requests of a few dozen items
//! each naming the upload, then `commit`. Nothing is in force before the commit, which replaces the
//! previous book stock whole; a refused item, a new `begin` or a restart discards the upload.

use serde::{Deserialize, Serialize};

/// An `expected` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExpectedRequest {
    /// Starts an upload (discarding any other one not committed).
    Begin {
        /// The book's date, as the books give it.
        as_of: String,
    },
    /// Items of the upload: `[sku, count]` pairs.
    Add {
        /// The upload, as `begin` answered.
        upload: u64,
        /// The items.
        items: Vec<(String, u64)>,
    },
    /// Puts the upload in force, replacing the book stock whole.
    Commit {
        /// The upload.
        upload: u64,
    },
    /// The book stock in force.
    Show,
}

/// A book stock's identity and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookView {
    /// HQ's `expected_id`, or the id the daemon gave a local import.
    pub id: String,
    /// The book's date, as given.
    pub as_of: String,
    /// `import` or `expected`.
    pub source: String,
    /// SKUs on the books.
    pub skus: u64,
    /// Items on the books (the sum of the counts).
    pub units: u64,
}

/// The answer to an `expected` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedReply {
    /// `begin`: the upload's number.
    Begun {
        /// Name it in `add` and `commit`.
        upload: u64,
    },
    /// `add`: SKUs in the upload so far.
    Added {
        /// SKUs so far.
        skus: u64,
    },
    /// `commit`: the book stock now in force.
    Committed(BookView),
    /// `show`: the book stock in force, if any.
    Current(Option<BookView>),
}

/// A `reconcile` request (no arguments).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileRequest {}

/// One SKU where the count and the books disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileLine {
    /// The SKU.
    pub sku: String,
    /// The book count.
    pub book: u64,
    /// Counted over every zone but `exit` zones.
    pub counted: u64,
    /// `counted - book`.
    pub difference: i64,
    /// A zone holding it (or, when none does, some counted zone) is stale.
    pub stale: bool,
}

/// The answer to `reconcile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileReply {
    /// The book stock compared.
    pub book: BookView,
    /// The seq of the last delta the compared counts include.
    pub seq: u64,
    /// Stale zones at the time.
    pub stale_zones: Vec<String>,
    /// SKUs on the books whose count agrees.
    pub agreeing: u64,
    /// Every SKU that disagrees, largest absolute difference first, then by SKU.
    pub discrepancies: Vec<ReconcileLine>,
}
