//! Bounds on what outside input may make the daemon hold: `max-candidates`.

use serde::Deserialize;

/// Smallest `max-candidates`: fewer would turn away the first reads of an ordinary delivery.
pub const MIN_MAX_CANDIDATES: u64 = 1_024;
/// Largest `max-candidates` (about 1 GiB of candidates): beyond it the cap bounds nothing a
/// gateway has.
pub const MAX_MAX_CANDIDATES: u64 = 16_777_216;

/// `max-candidates`: [`MIN_MAX_CANDIDATES`] to [`MAX_MAX_CANDIDATES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct MaxCandidates(pub usize);

/// Why a `max-candidates` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("max-candidates must be from {MIN_MAX_CANDIDATES} to {MAX_MAX_CANDIDATES}, not {0}")]
pub struct BadMaxCandidates(pub i64);

impl TryFrom<i64> for MaxCandidates {
    type Error = BadMaxCandidates;

    fn try_from(n: i64) -> Result<Self, BadMaxCandidates> {
        match u64::try_from(n) {
            Ok(ok @ MIN_MAX_CANDIDATES..=MAX_MAX_CANDIDATES) => usize::try_from(ok)
                .map(MaxCandidates)
                .map_err(|_| BadMaxCandidates(n)),
            _ => Err(BadMaxCandidates(n)),
        }
    }
}
