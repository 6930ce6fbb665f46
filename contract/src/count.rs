//! `tagtally.count/1`: the result of a cycle count (SPEC §10), retained under `count`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::schema_name::CountSchema;

/// A count's result: what applying it changed in its zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountMessage<'a> {
    /// Always `tagtally.count/1`.
    pub schema: CountSchema,
    /// The store name.
    #[serde(borrow)]
    pub store: Cow<'a, str>,
    /// The epoch of the delta that applied it.
    #[serde(borrow)]
    pub epoch: Cow<'a, str>,
    /// The delta that applied it (the last one when the flush was split); 0 when the count changed nothing.
    pub seq: u64,
    /// The counted zone.
    #[serde(borrow)]
    pub zone: Cow<'a, str>,
    /// When the session opened, RFC 3339 UTC.
    #[serde(borrow)]
    pub started: Cow<'a, str>,
    /// When it was applied, RFC 3339 UTC.
    #[serde(borrow)]
    pub finished: Cow<'a, str>,
    /// Distinct EPCs seen.
    pub seen: u64,
    /// Seen tags that were not in stock and now count in the zone.
    pub arrived: u64,
    /// Seen tags that counted in another zone and moved in.
    pub moved_in: u64,
    /// Tags of the zone the count did not find (they departed with reason `count`).
    pub departed: u64,
    /// Seen EPCs that decode as no GS1 scheme and that no `[[sku-map]]` prefix maps: never stock.
    pub not_decoded: u64,
}

impl<'a> CountMessage<'a> {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a payload.
    pub fn parse(payload: &'a [u8]) -> Result<CountMessage<'a>, ContractError> {
        Ok(serde_json::from_slice(payload)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_round_trips_with_its_schema_name() {
        let m = CountMessage {
            schema: CountSchema,
            store: "paris-01".into(),
            epoch: "0190a6e4-7c1d-7b52-9a3e-1f2d3c4b5a69".into(),
            seq: 4821,
            zone: "backroom".into(),
            started: "2026-12-03T23:00:00Z".into(),
            finished: "2026-12-03T23:12:40Z".into(),
            seen: 1204,
            arrived: 31,
            moved_in: 4,
            departed: 12,
            not_decoded: 2,
        };
        let bytes = m.encode();
        assert!(bytes.starts_with(br#"{"schema":"tagtally.count/1","store":"paris-01""#));
        assert_eq!(CountMessage::parse(&bytes).unwrap(), m);
        assert!(CountMessage::parse(br#"{"schema":"tagtally.count/2"}"#).is_err());
    }
}
