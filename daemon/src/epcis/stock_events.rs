//! The store's committed events as EPCIS: one ObjectEvent per stored event row, and the document
//! of a time range that `tagtally epcis` prints.
//!
//! No `readPoint`: the engine decides an arrival or a move from several reads over a window, which
//! may come from several antennas and readers, and a departure from the *absence* of reads; no one
//! antenna observed the change, so the events name only where the tags are (`bizLocation`). SPEC
//! §12 asks for "readPoint = reader and antenna"; EPCIS makes the field optional, and an antenna
//! picked after the fact would be invented.

use super::document::epcis_document;
use super::location::{LocationError, Locations};
use super::object_event::ObjectEvent;
use crate::store::{EventRangeError, StockEvent, Store};
use serde_json::Value;
use tagtally_reader_drivers::Micros;

/// Most EPCs one `tagtally epcis` answer carries (≈ 45 bytes of JSON each, so ≈ 9 MB): a wider
/// range is refused with the advice to narrow it, so no request can make the daemon build an
/// answer of the whole history at once.
pub const MAX_EPCS_PER_ANSWER: usize = 200_000;

/// Where a daemon that keeps events reads them: its store and how it names locations.
#[derive(Debug, Clone)]
pub struct EventHistory {
    /// The state store.
    pub store: std::sync::Arc<Store>,
    /// The store's locations.
    pub locations: Locations,
}

impl EventHistory {
    /// The document of the events committed with flush times in `since..until`, created at
    /// `now`; an error text (for the control client) otherwise. Reads the database: call it off
    /// the runtime's workers.
    pub fn document(&self, since: Micros, until: Micros, now: Micros) -> Result<Value, String> {
        let stored = self
            .store
            .events(since, until, MAX_EPCS_PER_ANSWER)
            .map_err(|e| match e {
                EventRangeError::TooMany { max_epcs } => format!(
                    "the range holds more than {max_epcs} tag events; narrow it with --since and --until"
                ),
                EventRangeError::Store(e) => e.to_string(),
            })?;
        let events = object_events(&stored, &self.locations).map_err(|e| e.to_string())?;
        Ok(epcis_document(now, &events))
    }
}

/// The ObjectEvents of `events`, in order.
pub fn object_events(
    events: &[StockEvent],
    locations: &Locations,
) -> Result<Vec<ObjectEvent>, LocationError> {
    events
        .iter()
        .map(|event| {
            Ok(ObjectEvent {
                time: event.time,
                change: event.change,
                epcs: event.epcs.clone(),
                read_point: None,
                biz_location: locations.zone(&event.zone)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::cbv::StockChange;
    use std::sync::Arc;

    fn events(epcs: usize) -> Vec<StockEvent> {
        let epc = |i: usize| {
            let mut bytes = vec![0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0, 0];
            bytes[8..].copy_from_slice(&(i as u32).to_be_bytes());
            bytes
        };
        vec![
            StockEvent {
                time: Micros(1_796_328_000_000_000),
                change: StockChange::Arrival,
                zone: Arc::from("floor"),
                epcs: (0..epcs).map(epc).collect(),
            },
            StockEvent {
                time: Micros(1_796_328_000_000_000),
                change: StockChange::Departure,
                zone: Arc::from("backroom"),
                epcs: vec![epc(99_999)],
            },
        ]
    }

    #[test]
    fn events_have_a_biz_location_and_no_read_point() {
        let locations = Locations::Urn {
            store: "paris-01".into(),
        };
        let out = object_events(&events(3), &locations).expect("events");
        assert_eq!(out.len(), 2);
        let json = out[1].to_json();
        assert_eq!(
            json["bizLocation"]["id"],
            "urn:tagtally:paris-01:zone:backroom"
        );
        assert_eq!(json["bizStep"], "departing");
        assert!(json.get("readPoint").is_none());
    }
}
