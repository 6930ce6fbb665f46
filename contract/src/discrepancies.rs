//! `tagtally.discrepancies/1`: where book stock and the count disagree (SPEC §10), retained under `discrepancies`, split into parts like a snapshot.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::schema_name::DiscrepanciesSchema;
use crate::size::encode_in_parts;

/// One SKU whose count differs from its book count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy<'a> {
    /// The SKU.
    #[serde(borrow)]
    pub sku: Cow<'a, str>,
    /// The book count (0 for a SKU counted but not on the books).
    pub book: u64,
    /// Counted over every zone but `exit` zones.
    pub counted: u64,
    /// `counted - book`: negative when items are missing, positive when there are more than the books say.
    pub difference: i64,
    /// A zone holding it, or any zone when it is missing, is stale: the count may be behind.
    pub stale: bool,
}

/// One part of the discrepancies (topic `discrepancies` for part 1, `discrepancies/{k}` for part k; retained).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscrepanciesPart<'a> {
    /// Always `tagtally.discrepancies/1`.
    pub schema: DiscrepanciesSchema,
    /// The store name.
    #[serde(borrow)]
    pub store: Cow<'a, str>,
    /// The epoch of the counts compared.
    #[serde(borrow)]
    pub epoch: Cow<'a, str>,
    /// The seq of the last delta the compared counts include.
    pub seq: u64,
    /// When compared, RFC 3339 UTC.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// The book stock compared: its `expected_id` (HQ's) or the id of a local import.
    #[serde(borrow)]
    pub book_id: Cow<'a, str>,
    /// The book stock's `as_of`.
    #[serde(borrow)]
    pub book_as_of: Cow<'a, str>,
    /// Unique per comparison; the same in all its parts.
    #[serde(borrow)]
    pub discrepancies_id: Cow<'a, str>,
    /// This part's number, from 1.
    pub part: u32,
    /// How many parts there are.
    pub parts: u32,
    /// SKUs on the books, in every part.
    pub book_skus: u64,
    /// Every discrepancy in all parts, in every part.
    pub total: u64,
    /// This part's discrepancies, largest absolute difference first (then by SKU).
    #[serde(borrow)]
    pub items: Vec<Discrepancy<'a>>,
    /// Stale zones at the time; the same in every part.
    #[serde(borrow)]
    pub stale_zones: Vec<Cow<'a, str>>,
}

/// Everything of a discrepancies message but its items and part numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscrepanciesHeader<'a> {
    /// The store name.
    pub store: &'a str,
    /// The epoch.
    pub epoch: &'a str,
    /// The seq of the counts compared.
    pub seq: u64,
    /// RFC 3339 UTC.
    pub time: &'a str,
    /// The book stock's id.
    pub book_id: &'a str,
    /// The book stock's `as_of`.
    pub book_as_of: &'a str,
    /// Unique per comparison.
    pub discrepancies_id: &'a str,
    /// SKUs on the books.
    pub book_skus: u64,
    /// Stale zones.
    pub stale_zones: &'a [&'a str],
}

impl<'a> DiscrepanciesPart<'a> {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and checks a payload.
    pub fn parse(payload: &'a [u8]) -> Result<DiscrepanciesPart<'a>, ContractError> {
        let d: DiscrepanciesPart<'a> = serde_json::from_slice(payload)?;
        if d.parts == 0 || d.part == 0 || d.part > d.parts {
            return Err(ContractError::Invalid(format!(
                "discrepancies part {} of {} does not exist",
                d.part, d.parts
            )));
        }
        Ok(d)
    }
}

/// Encodes the discrepancies as parts of at most `max_payload` bytes each (part 1 first). Always
/// at least one part (an empty list says the books and the count agree).
pub fn encode_discrepancies_parts(
    header: &DiscrepanciesHeader<'_>,
    items: &[Discrepancy<'_>],
    max_payload: usize,
) -> Vec<Vec<u8>> {
    let total = u64::try_from(items.len()).unwrap_or(u64::MAX);
    encode_in_parts(items, max_payload, |part, parts, items| {
        DiscrepanciesPart {
            schema: DiscrepanciesSchema,
            store: Cow::Borrowed(header.store),
            epoch: Cow::Borrowed(header.epoch),
            seq: header.seq,
            time: Cow::Borrowed(header.time),
            book_id: Cow::Borrowed(header.book_id),
            book_as_of: Cow::Borrowed(header.book_as_of),
            discrepancies_id: Cow::Borrowed(header.discrepancies_id),
            part,
            parts,
            book_skus: header.book_skus,
            total,
            items: items.to_vec(),
            stale_zones: header
                .stale_zones
                .iter()
                .map(|z| Cow::Borrowed(*z))
                .collect(),
        }
        .encode()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> DiscrepanciesHeader<'static> {
        DiscrepanciesHeader {
            store: "paris-01",
            epoch: "e",
            seq: 7,
            time: "2026-01-01T00:00:00.000Z",
            book_id: "b-1",
            book_as_of: "2026-01-01T00:00:00Z",
            discrepancies_id: "0190a0b0-0000-7000-8000-000000000001",
            book_skus: 1000,
            stale_zones: &["backroom"],
        }
    }

    fn items(n: u64) -> Vec<Discrepancy<'static>> {
        (0..n)
            .map(|i| Discrepancy {
                sku: Cow::Owned(format!("806141411{i:05}")),
                book: i,
                counted: 0,
                difference: -i64::try_from(i).unwrap(),
                stale: i % 2 == 0,
            })
            .collect()
    }

    #[test]
    fn a_short_list_is_one_part_in_spec_order() {
        let parts = encode_discrepancies_parts(&header(), &items(2)[1..], 100_000);
        assert_eq!(parts.len(), 1);
        assert_eq!(
            String::from_utf8(parts[0].clone()).unwrap(),
            r#"{"schema":"tagtally.discrepancies/1","store":"paris-01","epoch":"e","seq":7,"time":"2026-01-01T00:00:00.000Z","book_id":"b-1","book_as_of":"2026-01-01T00:00:00Z","discrepancies_id":"0190a0b0-0000-7000-8000-000000000001","part":1,"parts":1,"book_skus":1000,"total":1,"items":[{"sku":"80614141100001","book":1,"counted":0,"difference":-1,"stale":false}],"stale_zones":["backroom"]}"#
        );
        let empty = encode_discrepancies_parts(&header(), &[], 100);
        let parsed = DiscrepanciesPart::parse(&empty[0]).unwrap();
        assert_eq!((parsed.part, parsed.parts, parsed.total), (1, 1, 0));
    }

    #[test]
    fn a_long_list_splits_into_bounded_parts_holding_every_item_in_order() {
        let all = items(300);
        let parts = encode_discrepancies_parts(&header(), &all, 4000);
        assert!(parts.len() >= 4, "{}", parts.len());
        let mut seen = Vec::new();
        for (i, bytes) in parts.iter().enumerate() {
            assert!(bytes.len() <= 4000, "{}", bytes.len());
            let part = DiscrepanciesPart::parse(bytes).unwrap();
            assert_eq!((part.part, part.parts), (i as u32 + 1, parts.len() as u32));
            assert_eq!(part.total, 300);
            seen.extend(part.items);
        }
        assert_eq!(seen, all);
    }

    #[test]
    fn a_part_that_does_not_exist_is_refused() {
        let mut bytes = encode_discrepancies_parts(&header(), &items(1), 1000).remove(0);
        let text = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("\"part\":1", "\"part\":2");
        bytes = text.into_bytes();
        assert!(DiscrepanciesPart::parse(&bytes).is_err());
    }
}
