//! Binary records of the tag table, in postcard: a present tag's zone and SKU, by name so a config change cannot re-point them.

use serde::{Deserialize, Serialize};

/// What the store keeps of a present tag (schema version 1).
///
/// Names rather than indices: zones may be reordered or removed and SKU rules may change between runs; the
/// engine reconciles names against the current configuration at restore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord<'a> {
    /// Zone name.
    #[serde(borrow)]
    pub zone: &'a str,
    /// SKU string.
    #[serde(borrow)]
    pub sku: &'a str,
}

impl<'a> TagRecord<'a> {
    /// The postcard bytes.
    pub fn encode(&self) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_allocvec(self)
    }

    /// Decodes postcard bytes; trailing bytes are an error, not ignored.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, postcard::Error> {
        let (record, rest) = postcard::take_from_bytes(bytes)?;
        if !rest.is_empty() {
            return Err(postcard::Error::DeserializeBadEncoding);
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage_is_an_error() {
        let r = TagRecord {
            zone: "floor",
            sku: "80614141123458",
        };
        let bytes = r.encode().unwrap();
        assert_eq!(TagRecord::decode(&bytes).unwrap(), r);
        assert!(TagRecord::decode(&bytes[..3]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(TagRecord::decode(&longer).is_err());
        assert!(TagRecord::decode(&[0xFF, 0xFF, 0xFF]).is_err());
    }
}
