//! `tagtally.delta/1`: one committed stock change, serialised once at commit and re-sent byte-identical.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::schema_name::DeltaSchema;
use crate::size::pack;

/// A delta message (topic `delta`, QoS 1, not retained).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaMessage<'a> {
    /// Always `tagtally.delta/1`.
    pub schema: DeltaSchema,
    /// The store name.
    #[serde(borrow)]
    pub store: Cow<'a, str>,
    /// The epoch of the store's state database.
    #[serde(borrow)]
    pub epoch: Cow<'a, str>,
    /// Starts at 1 in each epoch, grows by exactly 1 per delta.
    pub seq: u64,
    /// RFC 3339 UTC.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// Only the (zone, SKU) pairs whose count changed.
    #[serde(borrow)]
    pub changes: Vec<DeltaChange<'a>>,
}

/// One changed (zone, SKU) pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaChange<'a> {
    /// Zone name.
    #[serde(borrow)]
    pub zone: Cow<'a, str>,
    /// SKU.
    #[serde(borrow)]
    pub sku: Cow<'a, str>,
    /// The change (never 0).
    pub delta: i64,
    /// The new count.
    pub count: u32,
}

impl<'a> DeltaMessage<'a> {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        // Strings and integers into a Vec cannot fail to serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and checks a payload (unknown fields are ignored, as the contract allows).
    pub fn parse(payload: &'a [u8]) -> Result<DeltaMessage<'a>, ContractError> {
        let d: DeltaMessage<'a> = serde_json::from_slice(payload)?;
        if d.seq == 0 {
            return Err(ContractError::Invalid(format!(
                "delta of store {:?} has seq 0; seqs start at 1",
                d.store
            )));
        }
        Ok(d)
    }
}

/// Encodes one flush's changes as consecutive deltas from `first_seq` on, each payload at most
/// `max_payload` bytes (a change too large to fit even alone goes out alone). Returns the payloads
/// in seq order; no changes give none.
pub fn encode_delta_split(
    store: &str,
    epoch: &str,
    first_seq: u64,
    time: &str,
    changes: &[DeltaChange<'_>],
    max_payload: usize,
) -> Vec<Vec<u8>> {
    let encode = |seq, changes: Vec<DeltaChange<'_>>| {
        DeltaMessage {
            schema: DeltaSchema,
            store: Cow::Borrowed(store),
            epoch: Cow::Borrowed(epoch),
            seq,
            time: Cow::Borrowed(time),
            changes,
        }
        .encode()
    };
    let whole = encode(first_seq, changes.to_vec());
    if whole.len() <= max_payload || changes.len() <= 1 {
        return if changes.is_empty() {
            Vec::new()
        } else {
            vec![whole]
        };
    }
    // The overhead with the widest seq, so a later seq with more digits still fits.
    let overhead = encode(u64::MAX, Vec::new()).len();
    let sizes: Vec<usize> = changes
        .iter()
        .map(|c| serde_json::to_vec(c).map_or(0, |b| b.len()))
        .collect();
    pack(&sizes, overhead, max_payload)
        .into_iter()
        .zip(first_seq..)
        .map(|(run, seq)| encode(seq, changes[run].to_vec()))
        .collect()
}

impl DeltaChange<'_> {
    /// The same change owning its strings.
    pub fn into_owned(self) -> DeltaChange<'static> {
        DeltaChange {
            zone: Cow::Owned(self.zone.into_owned()),
            sku: Cow::Owned(self.sku.into_owned()),
            delta: self.delta,
            count: self.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(zone: &str, sku: String, count: u32) -> DeltaChange<'static> {
        DeltaChange {
            zone: Cow::Owned(zone.to_owned()),
            sku: Cow::Owned(sku),
            delta: 1,
            count,
        }
    }

    #[test]
    fn the_spec_shape_round_trips() {
        let text = r#"{"schema":"tagtally.delta/1","store":"paris-01","epoch":"e1","seq":7,"time":"1970-01-01T00:00:00.000Z","changes":[{"zone":"floor","sku":"80614141123458","delta":-1,"count":4}]}"#;
        let d = DeltaMessage::parse(text.as_bytes()).unwrap();
        assert_eq!(d.seq, 7);
        assert_eq!(d.changes[0].delta, -1);
        assert_eq!(String::from_utf8(d.encode()).unwrap(), text);
    }

    #[test]
    fn bad_payloads_are_errors() {
        assert!(matches!(
            DeltaMessage::parse(b"nope"),
            Err(ContractError::Json(_))
        ));
        let zero = br#"{"schema":"tagtally.delta/1","store":"s","epoch":"e","seq":0,"time":"t","changes":[]}"#;
        assert!(matches!(
            DeltaMessage::parse(zero),
            Err(ContractError::Invalid(_))
        ));
        let other = br#"{"schema":"tagtally.delta/2","store":"s","epoch":"e","seq":1,"time":"t","changes":[]}"#;
        assert!(DeltaMessage::parse(other).is_err());
    }

    #[test]
    fn a_large_flush_becomes_consecutive_bounded_seqs_holding_every_change() {
        let changes: Vec<_> = (0..500)
            .map(|i| change("floor", format!("8061414112{i:04}"), i))
            .collect();
        let parts = encode_delta_split("s", "e", 99_998, "t", &changes, 1000);
        assert!(parts.len() > 10);
        let mut seen = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            assert!(p.len() <= 1000, "part {i}: {} bytes", p.len());
            let d = DeltaMessage::parse(p).unwrap();
            assert_eq!(d.seq, 99_998 + i as u64);
            assert!(!d.changes.is_empty());
            seen.extend(d.changes.into_iter().map(|c| c.into_owned()));
        }
        assert_eq!(seen, changes);
        // A small flush is one message, exactly the plain encoding.
        let one = encode_delta_split("s", "e", 1, "t", &changes[..2], 1000);
        assert_eq!(one.len(), 1);
        assert!(encode_delta_split("s", "e", 1, "t", &[], 1000).is_empty());
    }
}
