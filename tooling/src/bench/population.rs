//! A synthetic store for benchmarks: distinct SGTIN-96 tags over a few thousand GTINs, read in a seeded random order as LLRP RO_ACCESS_REPORT bytes.
//!
//! Shared by `tagtally bench ingest` and the criterion benches, so both measure the same input.
//! Everything is deterministic for a given seed: two runs read the same tags in the same order.

use tagtally_protocol::epc::{Digits, Sgtin96};
use tagtally_protocol::llrp::{EncodeError, Message, ProtocolVersion, TagReportData};
use thiserror::Error;

/// Tags per RO_ACCESS_REPORT, like a reader's periodic report under load.
pub const TAGS_PER_REPORT: usize = 100;

/// Distinct GTINs in a default population: a store's few thousand products.
pub const DEFAULT_GTINS: u32 = 5_000;

/// Antenna ports the synthetic reads come from (1..=ANTENNAS).
pub const ANTENNAS: u16 = 4;

/// The GS1 company prefix of every synthetic tag (7 digits: SGTIN partition 5).
pub const COMPANY_PREFIX: u64 = 614_141;

/// Item references must fit partition 5's 6 digits (and its 20 bits).
const MAX_GTINS: u32 = 999_999;

/// Why a population cannot be built or encoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PopulationError {
    /// A population needs at least one tag.
    #[error("a population needs at least one tag")]
    NoTags,
    /// The GTIN count is outside what partition 5 can number.
    #[error("{gtins} gtins requested, a population has 1 to {MAX_GTINS}")]
    BadGtinCount { gtins: u32 },
    /// A report did not encode (cannot happen for 100 EPC-96 reads; reported rather than assumed).
    #[error("cannot encode report {report}: {source}")]
    Encode {
        report: u32,
        #[source]
        source: EncodeError,
    },
}

/// `tags` distinct SGTIN-96 tags: tag `i` has serial `i` and item reference `i % gtins`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Population {
    tags: u32,
    gtins: u32,
}

impl Population {
    /// `tags` tags over [`DEFAULT_GTINS`] GTINs (fewer when there are fewer tags).
    pub fn new(tags: u32) -> Result<Self, PopulationError> {
        Self::with_gtins(tags, DEFAULT_GTINS.min(tags.max(1)))
    }

    /// `tags` tags over `gtins` GTINs.
    pub fn with_gtins(tags: u32, gtins: u32) -> Result<Self, PopulationError> {
        if tags == 0 {
            return Err(PopulationError::NoTags);
        }
        if gtins == 0 || gtins > MAX_GTINS {
            return Err(PopulationError::BadGtinCount { gtins });
        }
        Ok(Population { tags, gtins })
    }

    /// Number of distinct tags.
    pub fn tags(&self) -> u32 {
        self.tags
    }

    /// Number of distinct GTINs the tags spread over.
    pub fn gtins(&self) -> u32 {
        self.gtins
    }

    /// The EPC of tag `tag`: SGTIN-96, filter 3 (retail item), partition 5, company prefix
    /// [`COMPANY_PREFIX`], item reference `tag % gtins`, serial `tag`.
    pub fn epc(&self, tag: u32) -> [u8; 12] {
        sgtin96(u64::from(tag % self.gtins), tag)
    }

    /// `reads` tag indices in a random order fixed by `seed`: each tag once per `tags` reads, the
    /// same shuffled order repeated when `reads` is larger than the population.
    pub fn read_order(&self, reads: u64, seed: u64) -> impl Iterator<Item = u32> + '_ {
        let order = shuffled(self.tags, seed);
        (0..reads).map(move |i| {
            // `i % tags` < tags <= u32::MAX, and `order` holds exactly `tags` entries.
            order[(i % u64::from(self.tags)) as usize]
        })
    }

    /// Concatenated RO_ACCESS_REPORTs of [`TAGS_PER_REPORT`] reads each, reading the tags in `order`.
    /// Each read carries its antenna (1..=[`ANTENNAS`]), a PeakRSSI and a FirstSeenTimestampUTC of
    /// `first_seen_utc_us` plus the read's position, like a reader whose clock is right.
    pub fn reports(
        &self,
        order: impl IntoIterator<Item = u32>,
        first_seen_utc_us: u64,
    ) -> Result<Vec<u8>, PopulationError> {
        let mut bytes = Vec::new();
        let mut batch: Vec<TagReportData> = Vec::with_capacity(TAGS_PER_REPORT);
        let mut report = 0u32;
        let mut flush =
            |batch: &mut Vec<TagReportData>, report: &mut u32| -> Result<(), PopulationError> {
                let tags = std::mem::replace(batch, Vec::with_capacity(TAGS_PER_REPORT));
                Message::RoAccessReport(tags)
                    .encode(ProtocolVersion::V1_0_1, *report, &mut bytes)
                    .map_err(|source| PopulationError::Encode {
                        report: *report,
                        source,
                    })?;
                *report = report.wrapping_add(1);
                Ok(())
            };
        for (position, tag) in (0u64..).zip(order) {
            let mut read = TagReportData::new(&self.epc(tag));
            read.antenna_id = Some(1 + (tag % u32::from(ANTENNAS)) as u16);
            read.peak_rssi_dbm = Some(-50 - (tag % 20) as i8);
            read.first_seen_utc_us = Some(first_seen_utc_us + position);
            batch.push(read);
            if batch.len() == TAGS_PER_REPORT {
                flush(&mut batch, &mut report)?;
            }
        }
        if !batch.is_empty() {
            flush(&mut batch, &mut report)?;
        }
        Ok(bytes)
    }
}

/// An SGTIN-96: filter 3, partition 5 (7-digit company prefix, 6-digit item reference), serial
/// `serial`, built by the one SGTIN encoder.
fn sgtin96(item_ref: u64, serial: u32) -> [u8; 12] {
    let company = Digits::new(COMPANY_PREFIX, 7);
    let item = Digits::new(item_ref, 6);
    let (Some(company), Some(item)) = (company, item) else {
        unreachable!("item references are below MAX_GTINS")
    };
    match Sgtin96::new(3, company, item, u64::from(serial)) {
        Ok(sgtin) => sgtin.to_bytes(),
        Err(e) => unreachable!("partition 5 fields in range: {e}"),
    }
}

/// `0..n` in a random order (Fisher-Yates over xorshift64): a cheap, seeded, dependency-free
/// shuffle; the order only has to defeat caches and prefetchers, not be unpredictable.
fn shuffled(n: u32, seed: u64) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n).collect();
    let mut x = seed | 1;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use tagtally_protocol::epc::{self, ReportValue, Sku};
    use tagtally_protocol::llrp::{FrameLimits, Frames, TagReports};

    #[test]
    fn epcs_are_distinct() {
        let population = Population::new(20_000).unwrap();
        let epcs: HashSet<[u8; 12]> = (0..population.tags()).map(|t| population.epc(t)).collect();
        assert_eq!(epcs.len(), 20_000);
    }

    #[test]
    fn epcs_are_valid_sgtin96_with_the_expected_gtin() {
        let population = Population::new(20_000).unwrap();
        assert_eq!(population.gtins(), DEFAULT_GTINS);
        let mut gtins = HashSet::new();
        for tag in [0, 1, 4_999, 5_000, 12_345, 19_998] {
            let epc = population.epc(tag);
            let Sku::Gtin(gtin) = epc::sku(&epc) else {
                panic!("tag {tag} is not an SGTIN: {epc:02x?}");
            };
            let decoded = epc::decode(&epc);
            let report = decoded.report();
            let field = |name: &str| {
                report
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| match value {
                        ReportValue::Text(text) => text.clone(),
                        ReportValue::Number(number) => number.to_string(),
                    })
            };
            assert_eq!(field("scheme").as_deref(), Some("sgtin-96"));
            assert_eq!(field("company_prefix").as_deref(), Some("0614141"));
            assert_eq!(
                field("item_ref").as_deref(),
                Some(format!("{:06}", tag % DEFAULT_GTINS).as_str())
            );
            assert_eq!(field("serial").as_deref(), Some(tag.to_string().as_str()));
            assert_eq!(field("gtin"), Some(gtin.to_string()));
            gtins.insert(gtin);
        }
        // Tags 0 and 5 000 share item reference 0; the other four are distinct products.
        assert_eq!(gtins.len(), 5);
    }

    #[test]
    fn the_population_spreads_over_all_its_gtins() {
        let population = Population::with_gtins(10_000, 250).unwrap();
        let gtins: HashSet<String> = (0..population.tags())
            .map(|t| epc::sku(&population.epc(t)).to_string())
            .collect();
        assert_eq!(gtins.len(), 250);
    }

    #[test]
    fn read_order_is_a_seeded_permutation_repeated() {
        let population = Population::new(1_000).unwrap();
        let first: Vec<u32> = population.read_order(2_500, 7).collect();
        let distinct: HashSet<u32> = first[..1_000].iter().copied().collect();
        assert_eq!(distinct.len(), 1_000);
        assert_eq!(first[..500], first[1_000..1_500]);
        assert_ne!(first[..1_000], (0..1_000).collect::<Vec<u32>>()[..]);
        assert_eq!(first, population.read_order(2_500, 7).collect::<Vec<u32>>());
        assert_ne!(first, population.read_order(2_500, 8).collect::<Vec<u32>>());
    }

    #[test]
    fn reports_hold_every_read_in_order_in_reports_of_100() {
        let population = Population::new(250).unwrap();
        let order: Vec<u32> = population.read_order(250, 3).collect();
        let bytes = population
            .reports(order.iter().copied(), 1_700_000_000_000_000)
            .unwrap();
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        for frame in Frames::new(&bytes, FrameLimits::default()) {
            let message = frame.unwrap();
            let reports = TagReports::from_message(&message).expect("an RO_ACCESS_REPORT");
            let mut size = 0;
            for report in reports {
                let report = report.unwrap();
                assert!(report
                    .antenna_id
                    .is_some_and(|a| (1..=ANTENNAS).contains(&a)));
                assert!(report.peak_rssi_dbm.is_some());
                assert!(report.first_seen_utc_us.is_some());
                seen.push(report.epc.to_vec());
                size += 1;
            }
            sizes.push(size);
        }
        assert_eq!(sizes, [100, 100, 50]);
        let expected: Vec<Vec<u8>> = order.iter().map(|&t| population.epc(t).to_vec()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert_eq!(Population::new(0), Err(PopulationError::NoTags));
        assert_eq!(
            Population::with_gtins(10, 0),
            Err(PopulationError::BadGtinCount { gtins: 0 })
        );
        assert_eq!(
            Population::with_gtins(10, 1_000_000),
            Err(PopulationError::BadGtinCount { gtins: 1_000_000 })
        );
        assert_eq!(Population::new(3).unwrap().gtins(), 3);
    }
}
