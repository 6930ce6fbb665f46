//! Request filters: which counts `stock` returns and which events `tail` streams.

use super::model::{Stock, StockCount, StockZone, TailEvent, TailKind};
use super::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// The arguments of `epcis`: events of flushes from `since` (inclusive) to `until` (exclusive;
/// the daemon's now when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpcisRange {
    /// The earliest flush time included.
    pub since: Timestamp,
    /// The first flush time no longer included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

/// The optional filters of `stock`: both given means that one (zone, SKU) pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockFilter {
    /// Only counts in this zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Only counts of this SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

impl StockFilter {
    /// Whether `count` passes the filter.
    pub fn matches(&self, count: &StockCount) -> bool {
        self.zone.as_ref().is_none_or(|zone| *zone == count.zone)
            && self.sku.as_ref().is_none_or(|sku| *sku == count.sku)
    }

    /// The zones the zone filter passes.
    pub fn zones_of(&self, zones: &[StockZone]) -> Vec<StockZone> {
        zones
            .iter()
            .filter(|z| self.zone.as_ref().is_none_or(|zone| *zone == z.zone))
            .cloned()
            .collect()
    }

    /// `stock` with only the counts that pass, for backends that hold the whole table.
    pub fn apply(&self, stock: &Stock) -> Stock {
        Stock {
            store: stock.store.clone(),
            epoch: stock.epoch.clone(),
            seq: stock.seq,
            counts: stock
                .counts
                .iter()
                .filter(|count| self.matches(count))
                .cloned()
                .collect(),
            zones: self.zones_of(&stock.zones),
        }
    }
}

/// The optional filters of `tail`; an event must pass every one that is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailFilter {
    /// Only these kinds of event; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<TailKind>,
    /// Only events in this zone (a move matches its origin and its destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Only reads by this reader (arrivals, departures and moves have no reader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// Only events of tags with this SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Only tags whose EPC starts with these hex digits (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epc: Option<String>,
}

impl TailFilter {
    /// Whether `event` passes the filter. The EPC prefix must already be lower-case, as
    /// [`super::protocol::parse_request`] leaves it.
    pub fn matches(&self, event: &TailEvent) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&event.kind()))
            && self
                .zone
                .as_ref()
                .is_none_or(|zone| event.touches_zone(zone))
            && self
                .reader
                .as_ref()
                .is_none_or(|reader| event.reader() == Some(reader.as_str()))
            && self
                .sku
                .as_ref()
                .is_none_or(|sku| event.sku() == Some(sku.as_str()))
            && self
                .epc
                .as_ref()
                .is_none_or(|prefix| event.epc().starts_with(prefix.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::timestamp::Timestamp;

    fn count(zone: &str, sku: &str, count: u64) -> StockCount {
        StockCount {
            zone: zone.into(),
            sku: sku.into(),
            count,
        }
    }

    #[test]
    fn stock_filter_keeps_matching_pairs_and_the_header() {
        let stock = Stock {
            store: "s".into(),
            epoch: "e".into(),
            seq: 9,
            counts: vec![count("a", "x", 1), count("a", "y", 2), count("b", "x", 3)],
            zones: Vec::new(),
        };
        let by_sku = StockFilter {
            zone: None,
            sku: Some("x".into()),
        };
        assert_eq!(
            by_sku.apply(&stock).counts,
            vec![count("a", "x", 1), count("b", "x", 3)]
        );
        let both = StockFilter {
            zone: Some("a".into()),
            sku: Some("y".into()),
        };
        let only = both.apply(&stock);
        assert_eq!((only.seq, only.counts), (9, vec![count("a", "y", 2)]));
        assert_eq!(StockFilter::default().apply(&stock), stock);
    }

    #[test]
    fn tail_filter_checks_every_given_field() {
        let read = TailEvent::Read {
            time: Timestamp::now(),
            reader: "r1".into(),
            antenna: 1,
            zone: "floor".into(),
            epc: "3074abcd".into(),
            sku: None,
            rssi: None,
        };
        let arrival = TailEvent::Arrival {
            time: Timestamp::now(),
            epc: "3074abcd".into(),
            zone: "floor".into(),
            sku: "x".into(),
        };
        let reads_of_r1 = TailFilter {
            reader: Some("r1".into()),
            ..TailFilter::default()
        };
        assert!(reads_of_r1.matches(&read) && !reads_of_r1.matches(&arrival));
        let arrivals = TailFilter {
            kinds: vec![TailKind::Arrival],
            epc: Some("3074".into()),
            ..TailFilter::default()
        };
        assert!(arrivals.matches(&arrival) && !arrivals.matches(&read));
        let sku_x = TailFilter {
            sku: Some("x".into()),
            ..TailFilter::default()
        };
        assert!(sku_x.matches(&arrival) && !sku_x.matches(&read));
        let other_zone = TailFilter {
            zone: Some("backroom".into()),
            ..TailFilter::default()
        };
        assert!(!other_zone.matches(&read) && !other_zone.matches(&arrival));
    }
}
