//! The EPCISDocument: EPCIS 2.0's JSON-LD envelope around a list of events.

use super::object_event::ObjectEvent;
use serde_json::{json, Value};
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_reader_drivers::Micros;

pub use tagtally_contract::EPCIS_CONTEXT;

/// An EPCISDocument created at `created` holding `events` in order.
pub fn epcis_document(created: Micros, events: &[ObjectEvent]) -> Value {
    json!({
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": rfc3339_from_micros(created.0),
        "epcisBody": {
            "eventList": events.iter().map(ObjectEvent::to_json).collect::<Vec<_>>(),
        },
    })
}
