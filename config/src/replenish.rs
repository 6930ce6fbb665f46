//! `[replenish]`: how many of each SKU a `sales-floor` zone should hold before items are brought from a `stockroom` zone (SPEC §10).

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::paths::resolve;

/// `min-on-floor` when not given (SPEC §10).
pub const DEFAULT_MIN_ON_FLOOR: u32 = 1;
/// Largest `min-on-floor` (the largest book count too).
pub const MAX_MIN_ON_FLOOR: u32 = 1_000_000;

/// `[replenish]` with its default applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replenish {
    /// The minimum on the sales floor of every SKU the `min-file` does not name.
    pub min_on_floor: u32,
    /// A CSV file of `sku,min` lines (an optional `sku,min` header) with per-SKU minimums,
    /// resolved against the config's directory; read by the daemon's config plan.
    pub min_file: Option<PathBuf>,
}

impl Default for Replenish {
    fn default() -> Self {
        Replenish {
            min_on_floor: DEFAULT_MIN_ON_FLOOR,
            min_file: None,
        }
    }
}

/// `[replenish]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct ReplenishSpec {
    #[serde(default)]
    pub min_on_floor: Option<MinOnFloor>,
    #[serde(default)]
    pub min_file: Option<Spanned<PathBuf>>,
}

/// `min-on-floor`: 0 to [`MAX_MIN_ON_FLOOR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct MinOnFloor(pub u32);

/// Why a `min-on-floor` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("min-on-floor must be from 0 to {MAX_MIN_ON_FLOOR}, not {0}")]
pub struct BadMinOnFloor(pub i64);

impl TryFrom<i64> for MinOnFloor {
    type Error = BadMinOnFloor;

    fn try_from(n: i64) -> Result<Self, BadMinOnFloor> {
        match u32::try_from(n) {
            Ok(ok @ 0..=MAX_MIN_ON_FLOOR) => Ok(MinOnFloor(ok)),
            _ => Err(BadMinOnFloor(n)),
        }
    }
}

impl ReplenishSpec {
    /// The section with its default applied and its file resolved against `base`.
    pub(crate) fn build(&self, base: &std::path::Path) -> Replenish {
        Replenish {
            min_on_floor: self.min_on_floor.map_or(DEFAULT_MIN_ON_FLOOR, |m| m.0),
            min_file: self
                .min_file
                .as_ref()
                .map(|path| resolve(base, path.get_ref())),
        }
    }
}
