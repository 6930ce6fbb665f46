//! `tagtally.epcis/1` (SPEC §12): one flush's EPCIS 2.0 ObjectEvents as GS1 EPCISDocuments on the
//! `epcis` topic, packed within the size bound.
//!
//! The payload is an EPCISDocument that validates against GS1's EPCIS 2.0 JSON Schema. That schema
//! allows no plain extra fields at the document level, only URI-named ones, so tagtally's envelope
//! (SPEC §6: every payload says its `schema`) travels as JSON-LD terms under a `tagtally` prefix the
//! document's `@context` declares:
//!
//! ```json
//! {"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"tagtally":"urn:tagtally:epcis:"}],
//!  "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-12-04T06:00:00.000Z",
//!  "tagtally:schema":"tagtally.epcis/1","tagtally:store":"paris-01","tagtally:epoch":"0190…","tagtally:seq":17,
//!  "epcisBody":{"eventList":[{"type":"ObjectEvent",…}]}}
//! ```
//!
//! `tagtally:seq` counts the store's EPCIS messages (its own sequence, not the deltas'): it starts at
//! 1 in each epoch and grows by 1 per message, so a consumer sees a gap when messages were dropped.
//! `creationDate` is the flush time, so a message re-sent after a reconnect or a restart is
//! byte-identical. The events themselves are built by the daemon (`daemon/src/epcis`); they arrive
//! here serialised, and are only packed.

use serde::Serialize;

use crate::schema_name::EpcisSchema;
use crate::size::pack;

/// The EPCIS 2.0 JSON-LD context every document names first.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// The IRI the `tagtally` prefix of the envelope terms expands to.
pub const TAGTALLY_TERMS: &str = "urn:tagtally:epcis:";

/// What every `epcis` message of one flush shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpcisHeader<'a> {
    /// The store name.
    pub store: &'a str,
    /// The epoch of the store's state database.
    pub epoch: &'a str,
    /// The flush time, RFC 3339 UTC: the document's `creationDate`.
    pub time: &'a str,
}

#[derive(Serialize)]
struct Prefix<'a> {
    tagtally: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ContextItem<'a> {
    Uri(&'a str),
    Prefix(Prefix<'a>),
}

/// The document's fields before `epcisBody`, in the order they are written.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "@context")]
    context: [ContextItem<'a>; 2],
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(rename = "schemaVersion")]
    schema_version: &'a str,
    #[serde(rename = "creationDate")]
    creation_date: &'a str,
    #[serde(rename = "tagtally:schema")]
    schema: EpcisSchema,
    #[serde(rename = "tagtally:store")]
    store: &'a str,
    #[serde(rename = "tagtally:epoch")]
    epoch: &'a str,
    #[serde(rename = "tagtally:seq")]
    seq: u64,
}

const BODY_OPEN: &str = ",\"epcisBody\":{\"eventList\":[";
const BODY_CLOSE: &str = "]}}";

impl EpcisHeader<'_> {
    /// The document of message `seq` up to its event list's opening bracket.
    fn opening(&self, seq: u64) -> String {
        let envelope = Envelope {
            context: [
                ContextItem::Uri(EPCIS_CONTEXT),
                ContextItem::Prefix(Prefix {
                    tagtally: TAGTALLY_TERMS,
                }),
            ],
            kind: "EPCISDocument",
            schema_version: "2.0",
            creation_date: self.time,
            schema: EpcisSchema,
            store: self.store,
            epoch: self.epoch,
            seq,
        };
        // Strings and integers into a String cannot fail to serialise.
        let mut text = serde_json::to_string(&envelope).unwrap_or_default();
        text.pop(); // the closing brace: the body follows
        text.push_str(BODY_OPEN);
        text
    }

    /// Bytes a message takes besides its events and their separators, for any seq.
    pub fn overhead(&self) -> usize {
        self.opening(u64::MAX).len() + BODY_CLOSE.len()
    }

    /// One message: the document `seq` holding `events` (each one serialised ObjectEvent).
    pub fn message(&self, seq: u64, events: &[String]) -> Vec<u8> {
        let mut text = self.opening(seq);
        text.push_str(&events.join(","));
        text.push_str(BODY_CLOSE);
        text.into_bytes()
    }

    /// The messages of one flush's `events` (serialised ObjectEvents, in order) from seq
    /// `first_seq` on, each at most `max_payload` bytes: as many events per message as fit, in
    /// order. An event that does not fit even alone goes out alone (the caller splits events that
    /// can be split before). No events give no messages.
    pub fn messages(&self, first_seq: u64, events: &[String], max_payload: usize) -> Vec<Vec<u8>> {
        let sizes: Vec<usize> = events.iter().map(String::len).collect();
        pack(&sizes, self.overhead(), max_payload)
            .into_iter()
            .zip(first_seq..)
            .map(|(run, seq)| self.message(seq, &events[run]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn header() -> EpcisHeader<'static> {
        EpcisHeader {
            store: "paris-01",
            epoch: "0190a6e4-0000-7000-8000-000000000000",
            time: "2026-12-04T06:00:00.000Z",
        }
    }

    #[test]
    fn the_envelope_is_an_epcis_document_with_tagtally_terms() {
        let bytes = header().message(7, &[r#"{"type":"ObjectEvent"}"#.to_owned()]);
        let doc: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(doc["type"], "EPCISDocument");
        assert_eq!(doc["schemaVersion"], "2.0");
        assert_eq!(doc["@context"][0], EPCIS_CONTEXT);
        assert_eq!(doc["@context"][1]["tagtally"], TAGTALLY_TERMS);
        assert_eq!(doc["tagtally:schema"], "tagtally.epcis/1");
        assert_eq!(doc["tagtally:store"], "paris-01");
        assert_eq!(doc["tagtally:seq"], 7);
        assert_eq!(doc["creationDate"], "2026-12-04T06:00:00.000Z");
        assert_eq!(doc["epcisBody"]["eventList"][0]["type"], "ObjectEvent");
    }

    #[test]
    fn messages_fit_the_bound_and_keep_every_event_in_order() {
        let events: Vec<String> = (0..50)
            .map(|i| {
                format!(
                    r#"{{"type":"ObjectEvent","n":{i},"pad":"{}"}}"#,
                    "x".repeat(i * 7)
                )
            })
            .collect();
        let budget = 2048;
        let messages = header().messages(3, &events, budget);
        assert!(messages.len() > 1);
        let mut seen = Vec::new();
        for (k, message) in messages.iter().enumerate() {
            assert!(message.len() <= budget, "{} > {budget}", message.len());
            let doc: Value = serde_json::from_slice(message).expect("json");
            assert_eq!(doc["tagtally:seq"], 3 + k as u64);
            for event in doc["epcisBody"]["eventList"].as_array().expect("list") {
                seen.push(event["n"].as_u64().expect("n"));
            }
        }
        assert_eq!(seen, (0..50).collect::<Vec<u64>>());
        assert!(header().messages(1, &[], budget).is_empty());
    }
}
