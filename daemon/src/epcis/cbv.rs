//! The CBV 2.0 vocabulary tagtally's events use, and which stock change gets which business step
//! and disposition.
//!
//! | stock change | bizStep | disposition | why |
//! |---|---|---|---|
//! | arrival in a zone | `arriving` | `in_progress` | the item has come to this location; nothing is known of its sale state |
//! | move between zones | `storing` | `in_progress` | moved within the store's own locations |
//! | departure (unseen for `depart-after`) | `departing` | `unknown` | it left the store's reach, reason not observed |
//! | departure, sold at the till (`cmd/sale`, `tagtally sale`) | `retail_selling` | `retail_sold` | CBV's step for transferring ownership to a customer, and the state "sold to a customer" |
//! | departure, not found by a count of its zone | `cycle_counting` | `unknown` | the count is what removed it; where the item went nobody observed |
//! | count result | `cycle_counting` | `in_progress` | CBV's step for counting a location's objects |
//!
//! `cycle_counting`, not `stock_taking`: CBV keeps `stock_taking` for counts that serve accounting,
//! and `cycle_counting` for counting a location to know its stock (replenishment, availability),
//! which is what a handheld count of a zone is for. All words are checked against the enums of
//! GS1's EPCIS 2.0 JSON Schema (`tagtally/tests/epcis_document.rs`).

use std::fmt;

use tagtally_core::engine::DepartureReason;

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
    /// `retail_selling`.
    RetailSelling,
}

/// A CBV 2.0 disposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// `in_progress`.
    InProgress,
    /// `unknown`.
    Unknown,
    /// `retail_sold`.
    RetailSold,
}

impl BizStep {
    /// The bare CBV word EPCIS JSON-LD carries.
    pub fn word(self) -> &'static str {
        match self {
            BizStep::Arriving => "arriving",
            BizStep::Storing => "storing",
            BizStep::Departing => "departing",
            BizStep::CycleCounting => "cycle_counting",
            BizStep::RetailSelling => "retail_selling",
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
            Disposition::RetailSold => "retail_sold",
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
    /// A tag left the count for lack of reads (departure reason `unseen`).
    Departure,
    /// A tag sold at the till left the count (departure reason `sale`).
    Sale,
    /// A count of its zone did not find the tag, and it left the count (departure reason `count`).
    MissingAtCount,
    /// A count session's result for a zone.
    CountResult,
}

impl StockChange {
    /// The change of a tag that left, by its departure reason (`None`: not known, as for a
    /// departure written before reasons were kept, taken as unseen).
    pub fn departure(reason: Option<DepartureReason>) -> Self {
        match reason {
            None | Some(DepartureReason::Unseen) => StockChange::Departure,
            Some(DepartureReason::Sale) => StockChange::Sale,
            Some(DepartureReason::Count) => StockChange::MissingAtCount,
        }
    }

    /// The business step and disposition of the module table.
    pub fn cbv(self) -> (BizStep, Disposition) {
        match self {
            StockChange::Arrival => (BizStep::Arriving, Disposition::InProgress),
            StockChange::Move => (BizStep::Storing, Disposition::InProgress),
            StockChange::Departure => (BizStep::Departing, Disposition::Unknown),
            StockChange::Sale => (BizStep::RetailSelling, Disposition::RetailSold),
            StockChange::MissingAtCount => (BizStep::CycleCounting, Disposition::Unknown),
            StockChange::CountResult => (BizStep::CycleCounting, Disposition::InProgress),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_departure_reason_has_its_own_step_and_disposition() {
        let words = |change: StockChange| {
            let (step, disposition) = change.cbv();
            (step.word(), disposition.word())
        };
        assert_eq!(words(StockChange::Departure), ("departing", "unknown"));
        assert_eq!(words(StockChange::Sale), ("retail_selling", "retail_sold"));
        assert_eq!(
            words(StockChange::MissingAtCount),
            ("cycle_counting", "unknown")
        );
        assert_eq!(
            StockChange::Sale.cbv().0.uri(),
            "https://ref.gs1.org/cbv/BizStep-retail_selling"
        );
        assert_eq!(
            StockChange::Sale.cbv().1.uri(),
            "https://ref.gs1.org/cbv/Disp-retail_sold"
        );
    }

    #[test]
    fn a_departure_is_classified_by_its_reason() {
        assert_eq!(StockChange::departure(None), StockChange::Departure);
        assert_eq!(
            StockChange::departure(Some(DepartureReason::Unseen)),
            StockChange::Departure
        );
        assert_eq!(
            StockChange::departure(Some(DepartureReason::Sale)),
            StockChange::Sale
        );
        assert_eq!(
            StockChange::departure(Some(DepartureReason::Count)),
            StockChange::MissingAtCount
        );
    }
}
