//! `tagtally.replenish/1`: the pick list of what to bring from the stockroom to the sales floor (SPEC §10), retained under `replenish`, split into parts like a snapshot.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::schema_name::ReplenishSchema;
use crate::size::encode_in_parts;

/// One SKU to bring out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickItem<'a> {
    /// The SKU.
    #[serde(borrow)]
    pub sku: Cow<'a, str>,
    /// Counted over the `sales-floor` zones.
    pub on_floor: u64,
    /// Counted over the `stockroom` zones.
    pub in_stockroom: u64,
    /// Its minimum on the floor.
    pub min: u64,
    /// How many to bring: the shortfall, at most what the stockroom holds.
    pub to_bring: u64,
}

/// One part of the pick list (topic `replenish` for part 1, `replenish/{k}` for part k; retained).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplenishPart<'a> {
    /// Always `tagtally.replenish/1`.
    pub schema: ReplenishSchema,
    /// The store name.
    #[serde(borrow)]
    pub store: Cow<'a, str>,
    /// The epoch of the counts.
    #[serde(borrow)]
    pub epoch: Cow<'a, str>,
    /// The seq of the last delta the counts include.
    pub seq: u64,
    /// When made, RFC 3339 UTC.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// Unique per list; the same in all its parts.
    #[serde(borrow)]
    pub replenish_id: Cow<'a, str>,
    /// This part's number, from 1.
    pub part: u32,
    /// How many parts there are.
    pub parts: u32,
    /// SKUs on the whole list.
    pub total: u64,
    /// This part's SKUs, most to bring first (then by SKU).
    #[serde(borrow)]
    pub items: Vec<PickItem<'a>>,
}

/// Everything of a pick list but its items and part numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplenishHeader<'a> {
    /// The store name.
    pub store: &'a str,
    /// The epoch.
    pub epoch: &'a str,
    /// The seq of the counts.
    pub seq: u64,
    /// RFC 3339 UTC.
    pub time: &'a str,
    /// Unique per list.
    pub replenish_id: &'a str,
}

impl<'a> ReplenishPart<'a> {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and checks a payload.
    pub fn parse(payload: &'a [u8]) -> Result<ReplenishPart<'a>, ContractError> {
        let r: ReplenishPart<'a> = serde_json::from_slice(payload)?;
        if r.parts == 0 || r.part == 0 || r.part > r.parts {
            return Err(ContractError::Invalid(format!(
                "replenish part {} of {} does not exist",
                r.part, r.parts
            )));
        }
        Ok(r)
    }
}

/// Encodes the pick list as parts of at most `max_payload` bytes each (part 1 first). Always at
/// least one part (an empty list says nothing needs bringing out).
pub fn encode_replenish_parts(
    header: &ReplenishHeader<'_>,
    items: &[PickItem<'_>],
    max_payload: usize,
) -> Vec<Vec<u8>> {
    let total = u64::try_from(items.len()).unwrap_or(u64::MAX);
    encode_in_parts(items, max_payload, |part, parts, items| {
        ReplenishPart {
            schema: ReplenishSchema,
            store: Cow::Borrowed(header.store),
            epoch: Cow::Borrowed(header.epoch),
            seq: header.seq,
            time: Cow::Borrowed(header.time),
            replenish_id: Cow::Borrowed(header.replenish_id),
            part,
            parts,
            total,
            items: items.to_vec(),
        }
        .encode()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_splits_into_bounded_parts_in_order() {
        let header = ReplenishHeader {
            store: "paris-01",
            epoch: "e",
            seq: 3,
            time: "2026-01-01T00:00:00.000Z",
            replenish_id: "r",
        };
        let items: Vec<PickItem<'static>> = (0..200u64)
            .map(|i| PickItem {
                sku: Cow::Owned(format!("806141411{i:05}")),
                on_floor: 0,
                in_stockroom: i + 1,
                min: 1,
                to_bring: 1,
            })
            .collect();
        let parts = encode_replenish_parts(&header, &items, 3000);
        assert!(parts.len() > 2);
        let mut seen = Vec::new();
        for (i, bytes) in parts.iter().enumerate() {
            assert!(bytes.len() <= 3000);
            let part = ReplenishPart::parse(bytes).unwrap();
            assert_eq!((part.part, part.total), (i as u32 + 1, 200));
            seen.extend(part.items);
        }
        assert_eq!(seen, items);
        let empty = encode_replenish_parts(&header, &[], 3000);
        assert_eq!(ReplenishPart::parse(&empty[0]).unwrap().total, 0);
    }
}
