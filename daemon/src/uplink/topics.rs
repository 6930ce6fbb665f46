//! Topic names of one store under the configured prefix (SPEC §6), validated once.
//!
//! MQTT wildcards or empty levels in a prefix, store or reader name would silently publish to the
//! wrong place or make a topic nobody subscribes to, so they are refused up front.

/// Why a topic part was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// The prefix is empty, has empty levels, wildcards or NUL.
    #[error("topic prefix {0:?} must be non-empty levels without +, #, NUL or leading/trailing /")]
    BadPrefix(String),
    /// The store name is not `[a-z0-9_-]{{1,64}}`.
    #[error("store {0:?} must be 1 to 64 characters of a-z, 0-9, _ and -")]
    BadStore(String),
    /// A reader name cannot be one topic level.
    #[error("reader {0:?} must be 1 to 128 bytes without /, +, # or NUL")]
    BadReader(String),
}

/// The topics of one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
    store: String,
    base: String,
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
        let store_ok = (1..=64).contains(&store.len())
            && store
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !store_ok {
            return Err(TopicError::BadStore(store.to_owned()));
        }
        Ok(Topics {
            prefix: prefix.to_owned(),
            store: store.to_owned(),
            base: format!("{prefix}/{store}"),
        })
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

    /// `{prefix}/{store}/snapshot` (retained).
    pub fn snapshot(&self) -> String {
        format!("{}/snapshot", self.base)
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

    /// `{prefix}/+/delta`: what an HQ consumer subscribes to for every store.
    pub fn all_stores_delta(prefix: &str) -> String {
        format!("{prefix}/+/delta")
    }
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
        assert_eq!(t.status(), "tagtally/v1/paris-01/status");
        assert_eq!(t.cmd_snapshot(), "tagtally/v1/paris-01/cmd/snapshot");
        assert_eq!(
            t.reader("ceiling-1").unwrap(),
            "tagtally/v1/paris-01/readers/ceiling-1"
        );
        assert_eq!(Topics::all_stores_delta("x"), "x/+/delta");
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
