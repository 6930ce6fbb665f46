//! The CBV 2.0 event hash (CBV 2.0 §8.9, "EPCIS event hash ID"): a canonical pre-hash string of the
//! event's fields in a fixed order, hashed with SHA-256 and written `ni:///sha-256;<hex>?ver=CBV2.0`.
//!
//! For the ObjectEvents tagtally writes the pre-hash string is, with no separators:
//! `eventType=ObjectEvent` `eventTime=<UTC, milliseconds>` `eventTimeZoneOffset=<±hh:mm>`
//! `epcList` + each `epc=<id>` sorted, `action=OBSERVE`, `bizStep=<CBV URI>`,
//! `disposition=<CBV URI>`, `readPointid=<id>` (when the event has a readPoint), `bizLocationid=<id>`, where every identifier with
//! a GS1 key is in its canonical GS1 Digital Link form and CBV words are full CBV 2.0 URIs.
//! The golden test checks it against the reference implementation (epcis-event-hash-generator).

use sha2::{Digest, Sha256};
use std::fmt::Write;
use tagtally_protocol::hex::Hex;

/// The fields of an ObjectEvent that enter its hash, already in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalObjectEvent<'a> {
    /// `eventTime`, RFC 3339 UTC with milliseconds.
    pub event_time: &'a str,
    /// `eventTimeZoneOffset`, `±hh:mm`.
    pub time_zone_offset: &'a str,
    /// Every EPC, canonical (Digital Link where it has a GS1 key).
    pub epcs: Vec<String>,
    /// `action`.
    pub action: &'a str,
    /// `bizStep`, a full CBV URI.
    pub biz_step: String,
    /// `disposition`, a full CBV URI.
    pub disposition: String,
    /// `readPoint.id`, canonical; absent from the event and from its hash when `None`.
    pub read_point: Option<&'a str>,
    /// `bizLocation.id`, canonical.
    pub biz_location: &'a str,
}

impl CanonicalObjectEvent<'_> {
    /// The pre-hash string of CBV 2.0 §8.9.
    pub fn pre_hash(&self) -> String {
        let mut epcs: Vec<String> = self.epcs.iter().map(|e| format!("epc={e}")).collect();
        epcs.sort();
        let mut out = String::from("eventType=ObjectEvent");
        let _ = write!(
            out,
            "eventTime={}eventTimeZoneOffset={}",
            self.event_time, self.time_zone_offset
        );
        if !epcs.is_empty() {
            out.push_str("epcList");
            out.push_str(&epcs.concat());
        }
        let _ = write!(
            out,
            "action={}bizStep={}disposition={}",
            self.action, self.biz_step, self.disposition
        );
        if let Some(read_point) = self.read_point {
            let _ = write!(out, "readPointid={read_point}");
        }
        let _ = write!(out, "bizLocationid={}", self.biz_location);
        out
    }

    /// `ni:///sha-256;<hex of SHA-256(pre-hash)>?ver=CBV2.0`.
    pub fn event_id(&self) -> String {
        let digest = Sha256::digest(self.pre_hash().as_bytes());
        format!("ni:///sha-256;{:x}?ver=CBV2.0", Hex(&digest))
    }
}
