//! Topic names of one store under the configured prefix (SPEC §6), validated once, and their classification on the consumer side.
//!
//! MQTT wildcards or empty levels in a prefix, store or reader name would silently publish to the
//! wrong place or make a topic nobody subscribes to, so they are refused up front.

use std::fmt;

/// Why a topic part was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicError {
    /// The prefix is empty, has empty levels, wildcards or NUL.
    BadPrefix(String),
    /// The store name is not `[a-z0-9_-]{1,64}`.
    BadStore(String),
    /// A reader name cannot be one topic level.
    BadReader(String),
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicError::BadPrefix(p) => write!(
                f,
                "topic prefix {p:?} must be non-empty levels without +, #, NUL or leading/trailing /"
            ),
            TopicError::BadStore(s) => {
                write!(f, "store {s:?} must be 1 to 64 characters of a-z, 0-9, _ and -")
            }
            TopicError::BadReader(r) => {
                write!(f, "reader {r:?} must be 1 to 128 bytes without /, +, # or NUL")
            }
        }
    }
}

impl std::error::Error for TopicError {}

/// The topics of one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
    store: String,
    base: String,
}

/// What a topic under `{prefix}/{store}/` is, seen from a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTopic {
    /// `delta`.
    Delta,
    /// `snapshot` (part 1) or `snapshot/{k}` (part k ≥ 2).
    Snapshot {
        /// The part number the topic carries.
        part: u32,
    },
    /// `status`.
    Status,
    /// `readers/{reader}`.
    Reader(String),
    /// `cmd/snapshot`.
    CmdSnapshot,
    /// `cmd/replay`.
    CmdReplay,
    /// `count` (SPEC §10).
    Count,
    /// `cmd/sale` (SPEC §10).
    CmdSale,
    /// `epcis` (SPEC §12).
    Epcis,
    /// `expected` (part 1) or `expected/{k}` (part k ≥ 2): HQ's book stock (SPEC §10, inbound).
    Expected {
        /// The part number the topic carries.
        part: u32,
    },
    /// `discrepancies` (part 1) or `discrepancies/{k}` (part k ≥ 2) (SPEC §10).
    Discrepancies {
        /// The part number the topic carries.
        part: u32,
    },
    /// `replenish` (part 1) or `replenish/{k}` (part k ≥ 2) (SPEC §10).
    Replenish {
        /// The part number the topic carries.
        part: u32,
    },
}

impl Topics {
    /// Validates the prefix and store name.
    pub fn new(prefix: &str, store: &str) -> Result<Topics, TopicError> {
        let prefix_ok = !prefix.is_empty()
            && prefix.len() <= 1024
            && prefix.split('/').all(|level| !level.is_empty())
            && !prefix.contains(['+', '#', '\0']);
        if !prefix_ok {
            return Err(TopicError::BadPrefix(prefix.to_owned()));
        }
        if !store_ok(store) {
            return Err(TopicError::BadStore(store.to_owned()));
        }
        Ok(Topics {
            prefix: prefix.to_owned(),
            store: store.to_owned(),
            base: format!("{prefix}/{store}"),
        })
    }

    /// The topics of a prefix and store that a validator already let through (the daemon's
    /// config rules refuse bad ones with their file position): no second check here.
    pub fn trusted(prefix: &str, store: &str) -> Topics {
        Topics {
            prefix: prefix.to_owned(),
            store: store.to_owned(),
            base: format!("{prefix}/{store}"),
        }
    }

    /// The store name.
    pub fn store(&self) -> &str {
        &self.store
    }

    /// The configured prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `{prefix}/{store}/delta`.
    pub fn delta(&self) -> String {
        format!("{}/delta", self.base)
    }

    /// `{prefix}/{store}/snapshot`: part 1 of every snapshot (retained).
    pub fn snapshot(&self) -> String {
        format!("{}/snapshot", self.base)
    }

    /// The topic of snapshot part `part`: `snapshot` for part 1, `snapshot/{part}` after it.
    pub fn snapshot_part(&self, part: u32) -> String {
        if part <= 1 {
            self.snapshot()
        } else {
            format!("{}/snapshot/{part}", self.base)
        }
    }

    /// `{prefix}/{store}/status` (retained, and the last will).
    pub fn status(&self) -> String {
        format!("{}/status", self.base)
    }

    /// `{prefix}/{store}/readers/{reader}` (retained).
    pub fn reader(&self, reader: &str) -> Result<String, TopicError> {
        check_reader(reader)?;
        Ok(format!("{}/readers/{reader}", self.base))
    }

    /// `{prefix}/{store}/cmd/snapshot` (inbound).
    pub fn cmd_snapshot(&self) -> String {
        format!("{}/cmd/snapshot", self.base)
    }

    /// `{prefix}/{store}/cmd/replay` (inbound).
    pub fn cmd_replay(&self) -> String {
        format!("{}/cmd/replay", self.base)
    }

    /// `{prefix}/{store}/count`: the last count's result (retained).
    pub fn count(&self) -> String {
        format!("{}/count", self.base)
    }

    /// `{prefix}/{store}/cmd/sale` (inbound).
    pub fn cmd_sale(&self) -> String {
        format!("{}/cmd/sale", self.base)
    }

    /// `{prefix}/{store}/epcis`: EPCIS 2.0 documents of committed events (SPEC §12).
    pub fn epcis(&self) -> String {
        format!("{}/epcis", self.base)
    }

    /// `{prefix}/{store}/expected`: part 1 of HQ's book stock (inbound, retained).
    pub fn expected(&self) -> String {
        format!("{}/expected", self.base)
    }

    /// `{prefix}/{store}/expected/+`: the later parts of HQ's book stock.
    pub fn expected_later_parts(&self) -> String {
        format!("{}/expected/+", self.base)
    }

    /// The topic of book stock part `part`: `expected` for part 1, `expected/{part}` after it.
    pub fn expected_part(&self, part: u32) -> String {
        if part <= 1 {
            self.expected()
        } else {
            format!("{}/expected/{part}", self.base)
        }
    }

    /// `{prefix}/{store}/discrepancies`: part 1 of the book-versus-count comparison (retained).
    pub fn discrepancies(&self) -> String {
        format!("{}/discrepancies", self.base)
    }

    /// The topic of discrepancies part `part`: `discrepancies` for part 1, `discrepancies/{part}` after it.
    pub fn discrepancies_part(&self, part: u32) -> String {
        if part <= 1 {
            self.discrepancies()
        } else {
            format!("{}/discrepancies/{part}", self.base)
        }
    }

    /// The topic of pick list part `part`: `replenish` for part 1, `replenish/{part}` after it.
    pub fn replenish_part(&self, part: u32) -> String {
        if part <= 1 {
            format!("{}/replenish", self.base)
        } else {
            format!("{}/replenish/{part}", self.base)
        }
    }

    /// `{prefix}/+/delta`: what an HQ consumer subscribes to for every store.
    pub fn all_stores_delta(prefix: &str) -> String {
        format!("{prefix}/+/delta")
    }

    /// The filters an HQ consumer subscribes to for every store's deltas, snapshots (all parts)
    /// and status.
    pub fn all_stores_filters(prefix: &str) -> [String; 4] {
        [
            format!("{prefix}/+/delta"),
            format!("{prefix}/+/snapshot"),
            format!("{prefix}/+/snapshot/+"),
            format!("{prefix}/+/status"),
        ]
    }

    /// Classifies a topic under `prefix`: the store it belongs to and what it carries; `None` for
    /// anything that is not a topic of the contract.
    pub fn classify(prefix: &str, topic: &str) -> Option<(String, StoreTopic)> {
        let rest = topic.strip_prefix(prefix)?.strip_prefix('/')?;
        let (store, rest) = rest.split_once('/')?;
        if !store_ok(store) {
            return None;
        }
        let kind = match rest.split('/').collect::<Vec<_>>().as_slice() {
            ["delta"] => StoreTopic::Delta,
            ["snapshot"] => StoreTopic::Snapshot { part: 1 },
            ["snapshot", k] => StoreTopic::Snapshot {
                part: later_part(k)?,
            },
            ["status"] => StoreTopic::Status,
            ["readers", reader] if check_reader(reader).is_ok() => {
                StoreTopic::Reader((*reader).to_owned())
            }
            ["cmd", "snapshot"] => StoreTopic::CmdSnapshot,
            ["cmd", "replay"] => StoreTopic::CmdReplay,
            ["count"] => StoreTopic::Count,
            ["cmd", "sale"] => StoreTopic::CmdSale,
            ["epcis"] => StoreTopic::Epcis,
            ["expected"] => StoreTopic::Expected { part: 1 },
            ["expected", k] => StoreTopic::Expected {
                part: later_part(k)?,
            },
            ["replenish"] => StoreTopic::Replenish { part: 1 },
            ["replenish", k] => StoreTopic::Replenish {
                part: later_part(k)?,
            },
            ["discrepancies"] => StoreTopic::Discrepancies { part: 1 },
            ["discrepancies", k] => StoreTopic::Discrepancies {
                part: later_part(k)?,
            },
            _ => return None,
        };
        Some((store.to_owned(), kind))
    }
}

/// The part number of a `.../{k}` topic level: 2 or more, written without leading zeros.
fn later_part(level: &str) -> Option<u32> {
    match level.parse::<u32>() {
        Ok(part) if part >= 2 && !level.starts_with('0') => Some(part),
        _ => None,
    }
}

fn store_ok(store: &str) -> bool {
    (1..=64).contains(&store.len())
        && store
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Checks that a reader name is one valid topic level.
pub fn check_reader(reader: &str) -> Result<(), TopicError> {
    if reader.is_empty() || reader.len() > 128 || reader.contains(['/', '+', '#', '\0']) {
        return Err(TopicError::BadReader(reader.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let t = Topics::new("tagtally/v1", "paris-01").unwrap();
        assert_eq!(t.delta(), "tagtally/v1/paris-01/delta");
        assert_eq!(t.snapshot(), "tagtally/v1/paris-01/snapshot");
        assert_eq!(t.snapshot_part(1), "tagtally/v1/paris-01/snapshot");
        assert_eq!(t.snapshot_part(3), "tagtally/v1/paris-01/snapshot/3");
        assert_eq!(t.status(), "tagtally/v1/paris-01/status");
        assert_eq!(t.cmd_snapshot(), "tagtally/v1/paris-01/cmd/snapshot");
        assert_eq!(t.cmd_replay(), "tagtally/v1/paris-01/cmd/replay");
        assert_eq!(t.epcis(), "tagtally/v1/paris-01/epcis");
        assert_eq!(
            t.reader("ceiling-1").unwrap(),
            "tagtally/v1/paris-01/readers/ceiling-1"
        );
        assert_eq!(Topics::all_stores_delta("x"), "x/+/delta");
    }

    #[test]
    fn classification_is_the_inverse_of_naming() {
        let t = Topics::new("tagtally/v1", "paris-01").unwrap();
        let store = || "paris-01".to_owned();
        for (topic, kind) in [
            (t.delta(), StoreTopic::Delta),
            (t.snapshot_part(1), StoreTopic::Snapshot { part: 1 }),
            (t.snapshot_part(12), StoreTopic::Snapshot { part: 12 }),
            (t.status(), StoreTopic::Status),
            (t.reader("r1").unwrap(), StoreTopic::Reader("r1".into())),
            (t.cmd_snapshot(), StoreTopic::CmdSnapshot),
            (t.cmd_replay(), StoreTopic::CmdReplay),
            (t.count(), StoreTopic::Count),
            (t.cmd_sale(), StoreTopic::CmdSale),
            (t.epcis(), StoreTopic::Epcis),
            (t.replenish_part(1), StoreTopic::Replenish { part: 1 }),
            (t.replenish_part(2), StoreTopic::Replenish { part: 2 }),
            (t.expected_part(1), StoreTopic::Expected { part: 1 }),
            (t.expected_part(7), StoreTopic::Expected { part: 7 }),
            (
                t.discrepancies_part(1),
                StoreTopic::Discrepancies { part: 1 },
            ),
            (
                t.discrepancies_part(3),
                StoreTopic::Discrepancies { part: 3 },
            ),
        ] {
            assert_eq!(
                Topics::classify("tagtally/v1", &topic),
                Some((store(), kind))
            );
        }
        for other in [
            "tagtally/v1/paris-01/snapshot/1",
            "tagtally/v1/paris-01/snapshot/02",
            "tagtally/v1/paris-01/discrepancies/1",
            "tagtally/v1/paris-01/deltas",
            "tagtally/v1/Paris/delta",
            "tagtally/v2/paris-01/delta",
            "tagtally/v1/paris-01",
        ] {
            assert_eq!(Topics::classify("tagtally/v1", other), None, "{other}");
        }
    }

    #[test]
    fn refusals() {
        for prefix in ["", "/a", "a/", "a//b", "a/+", "a/#", "a\0"] {
            assert_eq!(
                Topics::new(prefix, "s"),
                Err(TopicError::BadPrefix(prefix.to_owned()))
            );
        }
        let long = "a".repeat(65);
        for store in ["", "Paris", "a/b", "a+", "é", long.as_str()] {
            assert_eq!(
                Topics::new("p", store),
                Err(TopicError::BadStore(store.to_owned()))
            );
        }
        let t = Topics::new("p", "s").unwrap();
        for reader in ["", "a/b", "+", "#", "a\0"] {
            assert_eq!(
                t.reader(reader),
                Err(TopicError::BadReader(reader.to_owned()))
            );
        }
    }
}
