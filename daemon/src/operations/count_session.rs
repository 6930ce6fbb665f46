//! One open count session: the zone it counts, what feeds it, and the distinct EPCs seen so far.

use std::collections::HashSet;
use tagtally_reader_drivers::{Micros, ReaderId};

/// What feeds a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionSource {
    /// A handheld reader's reads.
    Handheld {
        /// Its id.
        id: ReaderId,
        /// Its name.
        name: String,
    },
    /// EPCs sent by `count import` (a handheld app's export).
    Import,
}

/// An open session (see [`super::CountDesk`]).
#[derive(Debug)]
pub struct CountSession {
    /// The zone counted.
    pub zone: String,
    /// What feeds it.
    pub source: SessionSource,
    /// When it opened, on the daemon's timeline.
    pub started: Micros,
    /// Distinct EPCs seen.
    pub seen: HashSet<Box<[u8]>>,
    /// EPCs taken, duplicates included.
    pub reads: u64,
    /// More distinct EPCs arrived than the desk holds: the session cannot be applied.
    pub overflowed: bool,
}

impl CountSession {
    /// The reader's name, for a handheld session.
    pub fn reader_name(&self) -> Option<&str> {
        match &self.source {
            SessionSource::Handheld { name, .. } => Some(name),
            SessionSource::Import => None,
        }
    }

    /// One line saying what the session is, for the log and the store's record.
    pub fn describe(&self, started: &str) -> String {
        match &self.source {
            SessionSource::Handheld { name, .. } => {
                format!("handheld {name}, started {started}")
            }
            SessionSource::Import => format!("import, started {started}"),
        }
    }
}
