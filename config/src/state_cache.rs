//! `state-cache-bytes`: the bound on the state database's page cache, the daemon's largest
//! tunable share of memory.

use serde::Deserialize;

/// `state-cache-bytes` when not given: enough for the tables a flush writes (tag state of the tags
/// that changed, counts, outbox) to stay cached, far below redb's own default of 1 GiB, which would
/// cache the whole database (18 MB for a store of 200 000 tags) for nothing but the start-up scan.
pub const DEFAULT_STATE_CACHE_BYTES: u64 = 4 << 20;
/// Smallest `state-cache-bytes`: below this redb evicts pages a single commit touches again.
pub const MIN_STATE_CACHE_BYTES: u64 = 256 << 10;
/// Largest `state-cache-bytes` (redb's own default).
pub const MAX_STATE_CACHE_BYTES: u64 = 1 << 30;

/// `state-cache-bytes`, within [`MIN_STATE_CACHE_BYTES`]..=[`MAX_STATE_CACHE_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub(crate) struct StateCacheBytes(pub u64);

/// A `state-cache-bytes` out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state-cache-bytes must be from 262144 (256 KiB) to 1073741824 (1 GiB), not {0}")]
pub struct BadStateCacheBytes(pub i64);

impl TryFrom<i64> for StateCacheBytes {
    type Error = BadStateCacheBytes;

    fn try_from(bytes: i64) -> Result<Self, BadStateCacheBytes> {
        match u64::try_from(bytes) {
            Ok(b) if (MIN_STATE_CACHE_BYTES..=MAX_STATE_CACHE_BYTES).contains(&b) => {
                Ok(StateCacheBytes(b))
            }
            _ => Err(BadStateCacheBytes(bytes)),
        }
    }
}
