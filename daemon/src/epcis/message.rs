//! The `epcis` messages of one flush (SPEC §12): its ObjectEvents as EPCISDocuments of at most
//! the largest payload the packet limit allows, through the contract's envelope and packing.
//!
//! An event too large for one message on its own (a cold start's 512 arrivals in one zone under
//! a small `max-message-bytes`) is split in halves by its EPCs until each part fits: each part is
//! an ObjectEvent of its own, with its own event hash. The split depends only on the events and
//! the limit, so the same flush always gives the same messages.

use super::object_event::ObjectEvent;
use tagtally_contract::EpcisHeader;

/// The payloads of `events` from EPCIS seq `first_seq` on, each at most `max_payload` bytes
/// (an event of a single EPC that still does not fit goes out alone: the uplink refuses it).
pub fn epcis_payloads(
    header: &EpcisHeader<'_>,
    first_seq: u64,
    events: &[ObjectEvent],
    max_payload: usize,
) -> Vec<Vec<u8>> {
    let room = max_payload.saturating_sub(header.overhead());
    let mut serialised = Vec::with_capacity(events.len());
    for event in events {
        fitted(event, room, &mut serialised);
    }
    header.messages(first_seq, &serialised, max_payload)
}

/// Appends `event` serialised, or its halves (recursively) when it is larger than `room`.
fn fitted(event: &ObjectEvent, room: usize, out: &mut Vec<String>) {
    let text = event.to_json().to_string();
    if text.len() <= room || event.epcs.len() < 2 {
        out.push(text);
        return;
    }
    let (first, second) = event.epcs.split_at(event.epcs.len() / 2);
    for epcs in [first, second] {
        let part = ObjectEvent {
            epcs: epcs.to_vec(),
            ..event.clone()
        };
        fitted(&part, room, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::cbv::StockChange;
    use crate::epcis::location::Locations;
    use serde_json::Value;
    use tagtally_reader_drivers::Micros;

    fn event(epcs: usize) -> ObjectEvent {
        let locations = Locations::Urn {
            store: "paris-01".into(),
        };
        ObjectEvent {
            time: Micros(1_796_328_000_000_000),
            change: StockChange::Arrival,
            epcs: (0..epcs as u32)
                .map(|i| {
                    let mut bytes =
                        vec![0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0, 0];
                    bytes[8..].copy_from_slice(&i.to_be_bytes());
                    bytes
                })
                .collect(),
            read_point: None,
            biz_location: locations.zone("floor").expect("zone"),
        }
    }

    fn header() -> EpcisHeader<'static> {
        EpcisHeader {
            store: "paris-01",
            epoch: "0190a6e4-0000-7000-8000-000000000000",
            time: "2026-12-04T06:00:00.000Z",
        }
    }

    /// Every EPC of every message's events, in order.
    fn epcs_of(messages: &[Vec<u8>]) -> Vec<String> {
        let mut out = Vec::new();
        for message in messages {
            let doc: Value = serde_json::from_slice(message).expect("json");
            for event in doc["epcisBody"]["eventList"].as_array().expect("events") {
                for epc in event["epcList"].as_array().expect("epcList") {
                    out.push(epc.as_str().expect("epc").to_owned());
                }
            }
        }
        out
    }

    #[test]
    fn a_flush_that_fits_is_one_message_with_the_events_as_they_are() {
        let events = [event(3), event(1)];
        let messages = epcis_payloads(&header(), 1, &events, 128 * 1024);
        assert_eq!(messages.len(), 1);
        let doc: Value = serde_json::from_slice(&messages[0]).expect("json");
        let list = doc["epcisBody"]["eventList"].as_array().expect("events");
        assert_eq!(list[0], events[0].to_json(), "same event, same hash");
        assert_eq!(list[1], events[1].to_json());
    }

    #[test]
    fn a_large_event_is_halved_until_every_message_fits() {
        let events = [event(512)];
        let whole = epcis_payloads(&header(), 1, &events, 128 * 1024);
        for budget in [2048, 4096, 20_000] {
            let messages = epcis_payloads(&header(), 1, &events, budget);
            assert!(messages.len() > 1, "{budget}");
            for message in &messages {
                assert!(message.len() <= budget, "{} > {budget}", message.len());
            }
            assert_eq!(
                epcs_of(&messages),
                epcs_of(&whole),
                "every EPC once, in order"
            );
            assert_eq!(messages, epcis_payloads(&header(), 1, &events, budget));
        }
    }
}
