//! Topic names of one store under the configured prefix (SPEC §6).
//!
//! MQTT wildcards or empty levels in a prefix, store or reader name would silently publish to the
//! wrong place or make a topic nobody subscribes to. The config's rules refuse them in the prefix
//! and the store name (`topic-prefix`, `store`); a reader name handed in at run time is checked
//! here, where it becomes a topic level.

/// Why a topic part was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
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
    /// The topics of `store` under `prefix`, both as the config's rules let them through.
    pub fn new(prefix: &str, store: &str) -> Topics {
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
        let t = Topics::new("tagtally/v1", "paris-01");
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
    fn reader_names_that_are_not_one_level_are_refused() {
        let t = Topics::new("p", "s");
        for reader in ["", "a/b", "+", "#", "a\0"] {
            assert_eq!(
                t.reader(reader),
                Err(TopicError::BadReader(reader.to_owned()))
            );
        }
    }
}
