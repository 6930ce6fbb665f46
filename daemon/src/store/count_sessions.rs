//! Open count sessions, recorded so that a restart can say which ones it cancelled (SPEC §10).
//!
//! A count session lives in the engine task's memory: the EPCs a handheld reads are not written as
//! they come (a write per read batch, for a session that is usually finished within the hour). So a
//! daemon restart, planned or not, cancels every open session; this table is how the next start
//! knows which, to log each one and show it in `tagtally count status`. Nothing of a cancelled
//! session was ever applied: a count changes stock only in the commit that applies it whole.
//!
//! The table (`count_sessions`: zone → a one-line description of the session) is created by the
//! first session and is not part of the layout version: a build without it ignores the table, and
//! a database without it simply has no open session.

use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError};

use super::error::{AtPath, StoreError};
use super::Store;

/// zone → "reader R, started T" (or "import, started T"): the sessions open when last written.
const COUNT_SESSIONS: TableDefinition<&str, &str> = TableDefinition::new("count_sessions");

impl Store {
    /// Records that a count session of `zone` is open, described by `what`.
    pub fn note_count_open(&self, zone: &str, what: &str) -> Result<(), StoreError> {
        self.write(|db| {
            let path = self.path.as_path();
            let txn = db.begin_write().at(path)?;
            txn.open_table(COUNT_SESSIONS)
                .at(path)?
                .insert(zone, what)
                .at(path)?;
            txn.commit().at(path)
        })
    }

    /// Records that the count session of `zone` ended (applied or cancelled).
    pub fn note_count_closed(&self, zone: &str) -> Result<(), StoreError> {
        self.write(|db| {
            let path = self.path.as_path();
            let txn = db.begin_write().at(path)?;
            txn.open_table(COUNT_SESSIONS)
                .at(path)?
                .remove(zone)
                .at(path)?;
            txn.commit().at(path)
        })
    }

    /// The sessions recorded as open, (zone, description), by zone.
    pub fn open_count_sessions(&self) -> Result<Vec<(String, String)>, StoreError> {
        let path = self.path.as_path();
        let guard = self.database();
        let db = guard.as_ref().ok_or_else(|| self.closed())?;
        let txn = db.begin_read().at(path)?;
        let table = match txn.open_table(COUNT_SESSIONS) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e).at(path),
        };
        let mut out = Vec::new();
        for entry in table.iter().at(path)? {
            let (zone, what) = entry.at(path)?;
            out.push((zone.value().to_owned(), what.value().to_owned()));
        }
        Ok(out)
    }
}
