//! The open count sessions: at most one per zone and one per handheld, bounded in what they hold.
//!
//! Pure state with time passed in; the engine task records opening and closing in the store and
//! applies a finished session to the engine.

use std::collections::VecDeque;
use std::time::Duration;

use std::collections::HashSet;
use tagtally_reader_drivers::{Micros, ReaderId, TagRead};
use thiserror::Error;

use crate::control::operations::CancelledCount;

use super::count_session::{CountSession, SessionSource};

/// Most distinct EPCs all open sessions hold together (≈ 40 MB at most): five times the largest
/// store the daemon is sized for, so only a runaway source or a wrong file reaches it.
pub const MAX_SEEN_EPCS: usize = 1_000_000;
/// Most ended-without-applying sessions `count status` remembers.
pub const MAX_CANCELLED_KEPT: usize = 32;

/// Why the desk refuses a request.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DeskError {
    /// A session of the zone is open already.
    #[error("a count of zone `{zone}` is already open ({what}); finish or cancel it first")]
    ZoneBusy {
        /// The zone.
        zone: String,
        /// The open session.
        what: String,
    },
    /// The handheld feeds another session.
    #[error("handheld `{reader}` is already counting zone `{zone}`")]
    ReaderBusy {
        /// The reader.
        reader: String,
        /// Its session's zone.
        zone: String,
    },
    /// No session matches.
    #[error("no count is open{which}")]
    NoSession {
        /// " in zone Z", or "".
        which: String,
    },
    /// Several sessions are open and none was named.
    #[error("{open} counts are open ({zones}); say which with --zone")]
    Ambiguous {
        /// How many.
        open: usize,
        /// Their zones.
        zones: String,
    },
    /// EPCs were sent to a session a handheld feeds.
    #[error("the count of zone `{zone}` is fed by handheld `{reader}`, not by an import")]
    NotAnImport {
        /// The zone.
        zone: String,
        /// Its reader.
        reader: String,
    },
    /// The sessions hold [`MAX_SEEN_EPCS`] EPCs.
    #[error("the count of zone `{zone}` saw more than {max} distinct epcs in all open counts: no store has that many tags; cancel it")]
    TooManyEpcs {
        /// The zone.
        zone: String,
        /// The bound.
        max: usize,
    },
}

/// The open sessions and what ended recently (see the module doc).
#[derive(Debug)]
pub struct CountDesk {
    max_duration: u64,
    /// [`MAX_SEEN_EPCS`], smaller in tests.
    max_epcs: usize,
    open: Vec<CountSession>,
    cancelled: VecDeque<CancelledCount>,
    reads_outside_sessions: u64,
    held_epcs: usize,
}

impl CountDesk {
    /// A desk whose sessions are cancelled after `max_duration` (`count-max-duration`).
    pub fn new(max_duration: Duration) -> Self {
        CountDesk::with_epc_limit(max_duration, MAX_SEEN_EPCS)
    }

    /// [`CountDesk::new`] holding at most `max_epcs` distinct EPCs over all sessions.
    pub fn with_epc_limit(max_duration: Duration, max_epcs: usize) -> Self {
        CountDesk {
            max_duration: u64::try_from(max_duration.as_micros()).unwrap_or(u64::MAX),
            max_epcs,
            open: Vec::new(),
            cancelled: VecDeque::new(),
            reads_outside_sessions: 0,
            held_epcs: 0,
        }
    }

    /// The open sessions, in the order they opened.
    pub fn open(&self) -> &[CountSession] {
        &self.open
    }

    /// When a session that started at `started` expires.
    pub fn expires(&self, started: Micros) -> Micros {
        Micros(started.0.saturating_add(self.max_duration))
    }

    /// Sessions that ended without being applied, oldest first.
    pub fn cancelled(&self) -> &VecDeque<CancelledCount> {
        &self.cancelled
    }

    /// Handheld reads that arrived while no session named their reader.
    pub fn reads_outside_sessions(&self) -> u64 {
        self.reads_outside_sessions
    }

    /// Opens a session of `zone` (checked to exist by the caller) fed by `source`.
    pub fn start(
        &mut self,
        zone: &str,
        source: SessionSource,
        now: Micros,
    ) -> Result<&CountSession, DeskError> {
        if let Some(open) = self.open.iter().find(|s| s.zone == zone) {
            return Err(DeskError::ZoneBusy {
                zone: zone.to_owned(),
                what: open.describe("earlier"),
            });
        }
        if let SessionSource::Handheld { id, name } = &source {
            if let Some(open) = self.open.iter().find(
                |s| matches!(&s.source, SessionSource::Handheld { id: other, .. } if other == id),
            ) {
                return Err(DeskError::ReaderBusy {
                    reader: name.clone(),
                    zone: open.zone.clone(),
                });
            }
        }
        self.open.push(CountSession {
            zone: zone.to_owned(),
            source,
            started: now,
            seen: HashSet::new(),
            reads: 0,
            overflowed: false,
        });
        Ok(&self.open[self.open.len() - 1])
    }

    /// The session `zone` names, or the only open one when `zone` is `None`.
    pub fn find(&self, zone: Option<&str>) -> Result<&CountSession, DeskError> {
        self.position(zone).map(|i| &self.open[i])
    }

    fn position(&self, zone: Option<&str>) -> Result<usize, DeskError> {
        match zone {
            Some(zone) => self
                .open
                .iter()
                .position(|s| s.zone == zone)
                .ok_or_else(|| DeskError::NoSession {
                    which: format!(" in zone `{zone}`"),
                }),
            None => match self.open.len() {
                0 => Err(DeskError::NoSession {
                    which: String::new(),
                }),
                1 => Ok(0),
                n => Err(DeskError::Ambiguous {
                    open: n,
                    zones: self
                        .open
                        .iter()
                        .map(|s| s.zone.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            },
        }
    }

    /// Takes the session out of the desk (to apply or cancel it).
    pub fn take(&mut self, zone: Option<&str>) -> Result<CountSession, DeskError> {
        let i = self.position(zone)?;
        let session = self.open.remove(i);
        self.held_epcs = self.held_epcs.saturating_sub(session.seen.len());
        Ok(session)
    }

    /// Remembers a session that ended without being applied (bounded).
    pub fn note_cancelled(&mut self, cancelled: CancelledCount) {
        if self.cancelled.len() == MAX_CANCELLED_KEPT {
            self.cancelled.pop_front();
        }
        self.cancelled.push_back(cancelled);
    }

    /// Adds EPCs to the import session of `zone`.
    pub fn add<'a>(
        &mut self,
        zone: &str,
        epcs: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<&CountSession, DeskError> {
        let i = self.position(Some(zone))?;
        if let Some(reader) = self.open[i].reader_name() {
            return Err(DeskError::NotAnImport {
                zone: zone.to_owned(),
                reader: reader.to_owned(),
            });
        }
        for epc in epcs {
            self.insert(i, epc);
        }
        let session = &self.open[i];
        if session.overflowed {
            return Err(DeskError::TooManyEpcs {
                zone: zone.to_owned(),
                max: self.max_epcs,
            });
        }
        Ok(session)
    }

    /// Takes a handheld's read batch: into the session it feeds, else counted as outside any session.
    pub fn handheld_reads(&mut self, reader: ReaderId, reads: &[TagRead]) {
        let Some(i) = self
            .open
            .iter()
            .position(|s| matches!(s.source, SessionSource::Handheld { id, .. } if id == reader))
        else {
            self.reads_outside_sessions += reads.len() as u64;
            return;
        };
        for read in reads {
            self.insert(i, read.epc.as_bytes());
        }
    }

    fn insert(&mut self, i: usize, epc: &[u8]) {
        let session = &mut self.open[i];
        session.reads += 1;
        if session.seen.contains(epc) {
            return;
        }
        if self.held_epcs >= self.max_epcs {
            session.overflowed = true;
            return;
        }
        session.seen.insert(epc.into());
        self.held_epcs += 1;
    }

    /// Takes out the sessions open for longer than `count-max-duration` at `now`.
    pub fn take_expired(&mut self, now: Micros) -> Vec<CountSession> {
        let max = self.max_duration;
        let (expired, open): (Vec<_>, Vec<_>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|s| now.0.saturating_sub(s.started.0) > max);
        self.open = open;
        for s in &expired {
            self.held_epcs = self.held_epcs.saturating_sub(s.seen.len());
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagtally_reader_drivers::Epc;

    const SLED: ReaderId = ReaderId(3);

    fn sled() -> SessionSource {
        SessionSource::Handheld {
            id: SLED,
            name: "sled".into(),
        }
    }

    fn read(serial: u8) -> TagRead {
        TagRead {
            reader: SLED,
            antenna: 1,
            epc: Epc::from_slice(&[0x30, 0x74, serial]).unwrap(),
            rssi_cdbm: None,
            time: Micros(0),
        }
    }

    #[test]
    fn one_session_per_zone_and_per_handheld() {
        let mut desk = CountDesk::new(Duration::from_secs(3600));
        desk.start("backroom", sled(), Micros(1)).unwrap();
        assert!(matches!(
            desk.start("backroom", SessionSource::Import, Micros(2)),
            Err(DeskError::ZoneBusy { .. })
        ));
        assert!(matches!(
            desk.start("floor", sled(), Micros(2)),
            Err(DeskError::ReaderBusy { .. })
        ));
        desk.start("floor", SessionSource::Import, Micros(2))
            .unwrap();
        assert!(matches!(
            desk.find(None),
            Err(DeskError::Ambiguous { open: 2, .. })
        ));
        assert_eq!(desk.find(Some("floor")).unwrap().zone, "floor");
        assert!(matches!(
            desk.add("backroom", [&b"\x30"[..]]),
            Err(DeskError::NotAnImport { .. })
        ));
        assert!(matches!(
            desk.find(Some("window")),
            Err(DeskError::NoSession { .. })
        ));
    }

    #[test]
    fn handheld_reads_feed_only_their_session_and_duplicates_count_once() {
        let mut desk = CountDesk::new(Duration::from_secs(3600));
        desk.handheld_reads(SLED, &[read(1)]);
        assert_eq!(desk.reads_outside_sessions(), 1);
        desk.start("backroom", sled(), Micros(1)).unwrap();
        desk.handheld_reads(SLED, &[read(1), read(2), read(1)]);
        desk.handheld_reads(ReaderId(9), &[read(5)]);
        let s = desk.find(None).unwrap();
        assert_eq!((s.seen.len(), s.reads), (2, 3));
        assert_eq!(desk.reads_outside_sessions(), 2);
    }

    #[test]
    fn sessions_expire_after_the_maximum_duration() {
        let mut desk = CountDesk::new(Duration::from_secs(10));
        desk.start("backroom", sled(), Micros(0)).unwrap();
        assert!(desk.take_expired(Micros(10_000_000)).is_empty());
        let expired = desk.take_expired(Micros(10_000_001));
        assert_eq!(expired.len(), 1);
        assert!(desk.open().is_empty());
    }

    #[test]
    fn distinct_epcs_are_bounded_over_all_sessions_and_duplicates_cost_nothing() {
        let mut desk = CountDesk::with_epc_limit(Duration::from_secs(3600), 3);
        desk.start("backroom", SessionSource::Import, Micros(1))
            .unwrap();
        let epcs: Vec<[u8; 2]> = (0..3u8).map(|n| [0x30, n]).collect();
        for _ in 0..1000 {
            desk.add("backroom", epcs.iter().map(|e| &e[..])).unwrap();
        }
        assert_eq!(desk.find(None).unwrap().seen.len(), 3);
        desk.start("floor", SessionSource::Import, Micros(1))
            .unwrap();
        assert_eq!(
            desk.add("floor", [&[0x30, 9][..]]).map(|s| s.seen.len()),
            Err(DeskError::TooManyEpcs {
                zone: "floor".into(),
                max: 3
            })
        );
        assert!(
            desk.find(Some("floor")).unwrap().overflowed,
            "finish refuses it"
        );
        // Cancelling the first gives its room back.
        desk.take(Some("backroom")).unwrap();
        desk.start("window", SessionSource::Import, Micros(2))
            .unwrap();
        assert!(desk.add("window", [&[0x30, 9][..]]).is_ok());
    }
}
