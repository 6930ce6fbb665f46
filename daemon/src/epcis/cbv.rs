//! The CBV 2.0 vocabulary tagtally's events use, and which stock change gets which business step
//! and disposition.
//!
//! | stock change | bizStep | disposition | why |
//! |---|---|---|---|
//! | arrival in a zone | `arriving` | `in_progress` | the item has come to this location; nothing is known of its sale state |
//! | move between zones | `storing` | `in_progress` | moved within the store's own locations |
//! | departure (unseen for `depart-after`) | `departing` | `unknown` | it left the store's reach, reason not observed |
//! | count result | `cycle_counting` | `in_progress` | CBV's step for counting a location's objects |

use std::fmt;

/// A CBV 2.0 business step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BizStep {
    /// `arriving`.
    Arriving,
    /// `storing`.
    Storing,
    /// `departing`.
    Departing,
    /// `cycle_counting`.
    CycleCounting,
}

/// A CBV 2.0 disposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// `in_progress`.
    InProgress,
    /// `unknown`.
    Unknown,
}

impl BizStep {
    /// The bare CBV word EPCIS JSON-LD carries.
    pub fn word(self) -> &'static str {
        match self {
            BizStep::Arriving => "arriving",
            BizStep::Storing => "storing",
            BizStep::Departing => "departing",
            BizStep::CycleCounting => "cycle_counting",
        }
    }

    /// The full CBV 2.0 URI the word expands to (what event hashes compare).
    pub fn uri(self) -> String {
        format!("https://ref.gs1.org/cbv/BizStep-{}", self.word())
    }
}

impl Disposition {
    /// The bare CBV word EPCIS JSON-LD carries.
    pub fn word(self) -> &'static str {
        match self {
            Disposition::InProgress => "in_progress",
            Disposition::Unknown => "unknown",
        }
    }

    /// The full CBV 2.0 URI the word expands to (what event hashes compare).
    pub fn uri(self) -> String {
        format!("https://ref.gs1.org/cbv/Disp-{}", self.word())
    }
}

impl fmt::Display for BizStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A stock change as EPCIS sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    /// A tag arrived in a zone.
    Arrival,
    /// A tag moved from one zone to another.
    Move,
    /// A tag left the count for lack of reads.
    Departure,
    /// A count session's result for a zone.
    CountResult,
}

impl StockChange {
    /// The business step and disposition of the module table.
    pub fn cbv(self) -> (BizStep, Disposition) {
        match self {
            StockChange::Arrival => (BizStep::Arriving, Disposition::InProgress),
            StockChange::Move => (BizStep::Storing, Disposition::InProgress),
            StockChange::Departure => (BizStep::Departing, Disposition::Unknown),
            StockChange::CountResult => (BizStep::CycleCounting, Disposition::InProgress),
        }
    }
}
