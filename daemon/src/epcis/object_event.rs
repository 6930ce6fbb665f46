//! One EPCIS 2.0 ObjectEvent (`action` OBSERVE) of a stock change: its JSON-LD and its `eventID`.

use super::cbv::StockChange;
use super::event_hash::CanonicalObjectEvent;
use super::location::Location;
use serde_json::{json, Value};
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_protocol::epc::{self, Kind};
use tagtally_reader_drivers::Micros;

/// Every event is written in UTC.
const UTC_OFFSET: &str = "+00:00";

/// An observed stock change of some tags, at one place and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    /// When the engine decided it.
    pub time: Micros,
    /// What happened.
    pub change: StockChange,
    /// The EPCs, as bytes.
    pub epcs: Vec<Vec<u8>>,
    /// The reader antenna that saw it (`readPoint`), when one antenna did: the daemon's events
    /// have none (see [`super::stock_events`]).
    pub read_point: Option<Location>,
    /// The zone it happened in (`bizLocation`; for a move, the zone it moved to).
    pub biz_location: Location,
}

/// An EPC as EPCIS writes it (the pure-identity URI; the GS1 Digital Link URI for the TDS 2.0 '+'
/// schemes, which carry no company-prefix length and so have no pure-identity URI; the raw URI
/// for EPCs of no GS1 scheme), and in the form event hashes compare (Digital Link where the scheme
/// has a GS1 key).
fn epc_uris(epc: &[u8]) -> (String, String) {
    let decoded = epc::decode(epc);
    match decoded.kind {
        Kind::Gs1(id) => {
            let uri = id.pure_identity();
            let canonical = id.digital_link().unwrap_or_else(|| uri.clone());
            (uri, canonical)
        }
        Kind::Plus(id) => {
            let link = id.digital_link();
            (link.clone(), link)
        }
        _ => (decoded.raw_uri.clone(), decoded.raw_uri),
    }
}

impl ObjectEvent {
    /// The JSON-LD object of the event, `eventID` included.
    pub fn to_json(&self) -> Value {
        let event_time = rfc3339_from_micros(self.time.0);
        let (biz_step, disposition) = self.change.cbv();
        let (uris, canonical): (Vec<String>, Vec<String>) =
            self.epcs.iter().map(|e| epc_uris(e)).unzip();
        let hashed = CanonicalObjectEvent {
            event_time: &event_time,
            time_zone_offset: UTC_OFFSET,
            epcs: canonical,
            action: "OBSERVE",
            biz_step: biz_step.uri(),
            disposition: disposition.uri(),
            read_point: self.read_point.as_ref().map(|l| l.canonical.as_str()),
            biz_location: &self.biz_location.canonical,
        };
        let mut event = json!({
            "type": "ObjectEvent",
            "eventID": hashed.event_id(),
            "eventTime": event_time,
            "eventTimeZoneOffset": UTC_OFFSET,
            "epcList": uris,
            "action": "OBSERVE",
            "bizStep": biz_step.word(),
            "disposition": disposition.word(),
            "bizLocation": { "id": self.biz_location.uri },
        });
        if let Some(read_point) = &self.read_point {
            event["readPoint"] = json!({ "id": read_point.uri });
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::epc_uris;
    use tagtally_contract::epc_from_hex;

    fn bytes(hex: &str) -> Vec<u8> {
        epc_from_hex(hex).expect("hex")
    }

    #[test]
    fn a_plus_scheme_epc_is_written_as_its_digital_link() {
        // TDS 2.3 Annex E.3's SGTIN+ example (protocol/tests/golden/epc/plus_vectors.tsv).
        let (uri, canonical) = epc_uris(&bytes("F73795211411234538566CB0AFC4"));
        assert_eq!(uri, "https://id.gs1.org/01/79521141123453/21/32a%2Fb");
        assert_eq!(canonical, uri);
    }

    #[test]
    fn a_classic_scheme_epc_is_written_as_its_pure_identity() {
        let (uri, canonical) = epc_uris(&bytes("3074257BF7194E4000001A85"));
        assert_eq!(uri, "urn:epc:id:sgtin:0614141.812345.6789");
        assert!(
            canonical.starts_with("https://id.gs1.org/01/"),
            "{canonical}"
        );
    }
}
