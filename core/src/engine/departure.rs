//! Why a tag left the count (SPEC §10): not seen for `depart-after`, sold at the till, or missing at a count.

use std::sync::Arc;

use crate::Epc;

/// Why a tag departed. Only `Unseen` is unexplained: the shrink signal of `stock --departures`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DepartureReason {
    /// No reader covering its zone saw it for `depart-after`.
    Unseen,
    /// Sold at the till (`cmd/sale`, `tagtally sale`).
    Sale,
    /// Present in a counted zone but not found by the count.
    Count,
}

impl DepartureReason {
    /// The reason as `tail`, metrics and `stock --departures` name it.
    pub fn as_str(self) -> &'static str {
        match self {
            DepartureReason::Unseen => "unseen",
            DepartureReason::Sale => "sale",
            DepartureReason::Count => "count",
        }
    }
}

/// One tag that departed in a flush interval, with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departure {
    /// The tag.
    pub epc: Epc,
    /// The zone it counted in.
    pub zone: Arc<str>,
    /// The SKU it counted as.
    pub sku: Arc<str>,
    /// Why it left.
    pub reason: DepartureReason,
}
