//! The replenishment settings from a checked config: the default minimum, and the per-SKU minimums of `[replenish] min-file` read once here (so `check-config` refuses a bad file before `run` would).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use tagtally_config::{Config, ConfigError, ConfigProblem};

use crate::operations::{read_book_csv, BookSource};

/// Largest `min-file` read (the same bound as a book stock file).
pub const MAX_MIN_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// What replenishment needs: the minimum of a SKU on the sales floor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplenishPlan {
    /// The minimum of SKUs the file does not name.
    pub min_on_floor: u32,
    /// Per-SKU minimums from `min-file`.
    pub minimums: Arc<HashMap<String, u32>>,
}

impl ReplenishPlan {
    /// The minimum on the floor of `sku`.
    pub fn min_of(&self, sku: &str) -> u32 {
        self.minimums.get(sku).copied().unwrap_or(self.min_on_floor)
    }
}

/// The plan, reading `min-file` when `read_file` (the real file system is checked).
pub fn replenish_plan(
    config: &Config,
    origin: &Path,
    read_file: bool,
) -> Result<ReplenishPlan, ConfigError> {
    let mut plan = ReplenishPlan {
        min_on_floor: config.replenish.min_on_floor,
        minimums: Arc::default(),
    };
    let Some(path) = config.replenish.min_file.as_ref().filter(|_| read_file) else {
        return Ok(plan);
    };
    let refuse = |reason: String| ConfigError {
        file: origin.to_path_buf(),
        location: config.locations.get("replenish"),
        problem: ConfigProblem::BadMinFile {
            path: path.clone(),
            reason,
        },
    };
    let file = File::open(path).map_err(|e| refuse(format!("cannot read it: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| refuse(format!("cannot read it: {e}")))?;
    if !meta.is_file() || meta.len() > MAX_MIN_FILE_BYTES {
        return Err(refuse(format!(
            "it must be a regular file of at most {MAX_MIN_FILE_BYTES} bytes"
        )));
    }
    let book = read_book_csv(BufReader::new(file.take(MAX_MIN_FILE_BYTES)))
        .map_err(|e| refuse(e.to_string()))?;
    plan.minimums = Arc::new(
        book.finish(String::new(), String::new(), BookSource::Import)
            .items
            .into_iter()
            .collect(),
    );
    Ok(plan)
}
