//! The EPCISDocument: EPCIS 2.0's JSON-LD envelope around a list of events.

use super::object_event::ObjectEvent;
use serde_json::{json, Value};
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_reader_drivers::Micros;

/// The EPCIS 2.0 JSON-LD context every document names.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

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
