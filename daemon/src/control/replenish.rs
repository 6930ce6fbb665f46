//! Replenishment over the control socket (SPEC §10): `{"command":"replenish"}` and the pick list it answers.

use serde::{Deserialize, Serialize};

/// A `replenish` request (no arguments).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishRequest {}

/// One SKU to bring from the stockroom to the sales floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickLineView {
    /// The SKU.
    pub sku: String,
    /// Counted over the `sales-floor` zones.
    pub on_floor: u64,
    /// Counted over the `stockroom` zones.
    pub in_stockroom: u64,
    /// Its minimum on the floor.
    pub min: u64,
    /// How many to bring.
    pub to_bring: u64,
}

/// The answer to `replenish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplenishReply {
    /// The seq of the last delta the counts include.
    pub seq: u64,
    /// The minimum of SKUs without their own (`[replenish] min-on-floor`).
    pub min_on_floor: u64,
    /// SKUs with their own minimum (`[replenish] min-file`).
    pub skus_with_own_min: u64,
    /// What to bring, most first.
    pub lines: Vec<PickLineView>,
}
