//! Store operations over the control socket (SPEC §10): count sessions, till sales and the departures
//! by reason — the requests that change stock or ask the engine, unlike the read-only rest.
//!
//! Requests: `{"version":1,"command":"count","action":"start"|"status"|"finish"|"cancel"|"import"|"add",...}`,
//! `{"version":1,"command":"sale","epcs":[hex...]}`, `{"version":1,"command":"departures","window_secs":N}`.
//! Replies: `count`, `sale`, `departures`, or `refused` (the daemon understood the request and says
//! no: no session, an unknown zone, a bad EPC) besides the protocol's `error`.

use serde::{Deserialize, Serialize};

use super::timestamp::Timestamp;

/// Most EPCs one `sale` or count `add` request carries (a request line is at most 4 KiB).
pub const MAX_EPCS_PER_REQUEST: usize = 200;

/// A `count` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum CountRequest {
    /// Opens a session of `zone` fed by the handheld `reader`.
    Start {
        /// The zone counted.
        zone: String,
        /// The handheld reader.
        reader: String,
    },
    /// Open sessions, and sessions cancelled since start.
    Status,
    /// Applies the session of `zone` (or the only open one).
    Finish {
        /// Which session; optional when only one is open.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// Discards the session of `zone` (or the only open one).
    Cancel {
        /// Which session; optional when only one is open.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// Opens a session of `zone` fed by `add` requests (a handheld app's export).
    Import {
        /// The zone counted.
        zone: String,
    },
    /// EPCs (hex) for the import session of `zone`.
    Add {
        /// The zone of the import session.
        zone: String,
        /// At most [`MAX_EPCS_PER_REQUEST`] EPCs, hex.
        epcs: Vec<String>,
    },
}

/// A `sale` request: each present tag departs with reason `sale` at the next flush.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleRequest {
    /// At most [`MAX_EPCS_PER_REQUEST`] EPCs, hex.
    pub epcs: Vec<String>,
}

/// A `departures` request: departures per SKU and reason over the last `window_secs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeparturesRequest {
    /// The window, in seconds.
    pub window_secs: u64,
}

/// An open count session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountSessionView {
    /// The zone counted.
    pub zone: String,
    /// The handheld feeding it; absent for an import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// When it opened.
    pub started: Timestamp,
    /// When `count-max-duration` cancels it.
    pub expires: Timestamp,
    /// Distinct EPCs seen so far.
    pub seen: u64,
    /// Reads taken (duplicates included).
    pub reads: u64,
}

/// A session that ended without being applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelledCount {
    /// The zone it counted.
    pub zone: String,
    /// What it was (its reader or the import, and when it started).
    pub session: String,
    /// Why it ended: `cancelled`, `expired` or `restart`.
    pub reason: String,
    /// When it ended.
    pub at: Timestamp,
}

/// What applying a count did (the `count` message's figures, plus `kept_elsewhere`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountResultView {
    /// The zone counted.
    pub zone: String,
    /// The delta that applied it; 0 when nothing changed.
    pub seq: u64,
    /// When the session opened.
    pub started: Timestamp,
    /// When it was applied.
    pub finished: Timestamp,
    /// Distinct EPCs seen.
    pub seen: u64,
    /// Seen tags that were not in stock and now count in the zone.
    pub arrived: u64,
    /// Seen tags of another zone that moved in.
    pub moved_in: u64,
    /// Tags of the zone the count did not find.
    pub departed: u64,
    /// Seen EPCs that decode as nothing: never stock.
    pub not_decoded: u64,
    /// Seen tags left in another zone, read there by a fixed reader within `move-hysteresis`.
    pub kept_elsewhere: u64,
}

/// The answer to a `count` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountReply {
    /// `start` or `import`: the session opened.
    Started(CountSessionView),
    /// `status`.
    Status {
        /// Open sessions, by zone.
        open: Vec<CountSessionView>,
        /// Sessions that ended without being applied since the daemon started (newest last,
        /// at most 32), restarts included.
        cancelled: Vec<CancelledCount>,
        /// Handheld reads that arrived while no session named their reader (ignored).
        reads_outside_sessions: u64,
    },
    /// `add`: the session now.
    Added(CountSessionView),
    /// `finish`: applied and committed.
    Finished(CountResultView),
    /// `cancel`: discarded, nothing applied.
    Cancelled(CancelledCount),
}

/// The answer to a `sale` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleReply {
    /// Tags that were present and depart with reason `sale` at the next flush.
    pub sold: u64,
    /// EPCs not present (never arrived, already sold or departed): counted, nothing changes.
    pub not_present: u64,
}

/// Departures of one SKU in the window, by reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuDepartures {
    /// The SKU.
    pub sku: String,
    /// Not seen for `depart-after`: unexplained, the shrink signal.
    pub unseen: u64,
    /// Sold at the till.
    pub sale: u64,
    /// Missing at a count.
    pub count: u64,
}

/// The answer to a `departures` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeparturesReply {
    /// The window asked for, in seconds.
    pub window_secs: u64,
    /// The start of what is known: the later of the window's start and the oldest departure kept
    /// (the daemon's start, or the bound of its memory).
    pub since: Timestamp,
    /// Per SKU with any departure in the window, most unexplained first.
    pub skus: Vec<SkuDepartures>,
}
