//! What the engine hands out: the net delta of a flush interval (count changes plus the tag-state changes behind them) and snapshots.

use std::sync::Arc;

use super::departure::DepartureReason;
use crate::{Epc, Micros};

/// The net change of one flush interval: what the store commits in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delta {
    /// The flush time.
    pub time: Micros,
    /// Cells whose count changed, sorted by zone then SKU name; empty when only tag placements changed.
    pub changes: Vec<CountChange>,
    /// Tags whose durable state (present or not, zone, SKU) changed.
    pub tag_changes: Vec<TagChange>,
}

/// One (zone, SKU) count that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountChange {
    /// Zone name.
    pub zone: Arc<str>,
    /// SKU string.
    pub sku: Arc<str>,
    /// New count minus the count at the previous flush.
    pub delta: i64,
    /// The new count.
    pub count: u32,
}

/// A tag's durable state after a flush.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagChange {
    /// The tag.
    pub epc: Epc,
    /// Where it counts now; `None` when it left.
    pub placement: Option<Placement>,
    /// Why it left, when it left (`placement` is `None`): the reason of its last departure in the
    /// interval. `None` for a tag that counts somewhere.
    pub departure: Option<DepartureReason>,
}

/// Where a present tag counts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Placement {
    /// Zone name.
    pub zone: Arc<str>,
    /// SKU string.
    pub sku: Arc<str>,
}

/// The current counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every non-zero (zone, SKU) count, sorted by zone then SKU name.
    pub counts: Vec<CountCell>,
    /// Zones no running reader covers, in config order.
    pub stale_zones: Vec<Arc<str>>,
}

/// One (zone, SKU) count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountCell {
    /// Zone name.
    pub zone: Arc<str>,
    /// SKU string.
    pub sku: Arc<str>,
    /// Tags present.
    pub count: u32,
}
