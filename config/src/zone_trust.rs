//! Zone trust (SPEC §10): `[zone-trust] suspect-after`, and the `sentinels` key of a reader.

use crate::duration::Interval;
use crate::error::{ConfigProblem, ErrorSink};
use crate::zone::Zone;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

/// `suspect-after` when not given, unless the shortest `depart-after` calls for less.
pub const DEFAULT_SUSPECT_AFTER: Duration = Duration::from_secs(60);
/// Shortest `suspect-after`: the watch decides in quarters of it, once per flush.
pub const MIN_SUSPECT_AFTER: Duration = Duration::from_secs(1);
/// Most sentinel tags per antenna (a handful is what anyone fixes in a field).
pub const MAX_SENTINELS_PER_ANTENNA: usize = 16;
/// Longest sentinel EPC: 496 bits.
pub const MAX_SENTINEL_EPC_BYTES: usize = 62;

/// Zone trust as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneTrust {
    /// How long an antenna may stay silent where it should read before its zone goes stale
    /// (`suspect-after`; default the shorter of a minute and half the shortest `depart-after`).
    pub suspect_after: Duration,
}

/// `[zone-trust]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct ZoneTrustSpec {
    #[serde(default)]
    pub suspect_after: Option<Spanned<Interval>>,
}

impl ZoneTrustSpec {
    /// Resolves the default and checks the value against every zone's `depart-after`: an antenna must
    /// be found silent before any tag of its field could depart.
    pub(crate) fn build(&self, zones: &[Zone], sink: &mut ErrorSink) -> Option<ZoneTrust> {
        let shortest = zones.iter().min_by_key(|zone| zone.presence.depart_after);
        let Some(written) = &self.suspect_after else {
            let half = shortest.map_or(DEFAULT_SUSPECT_AFTER, |z| z.presence.depart_after / 2);
            return Some(ZoneTrust {
                suspect_after: DEFAULT_SUSPECT_AFTER.min(half).max(MIN_SUSPECT_AFTER),
            });
        };
        let value = written.get_ref().0;
        if value < MIN_SUSPECT_AFTER {
            sink.at(
                written.span(),
                ConfigProblem::TooShort {
                    key: "suspect-after",
                    value,
                    min: MIN_SUSPECT_AFTER,
                },
            );
            return None;
        }
        if let Some(zone) = shortest.filter(|z| z.presence.depart_after <= value) {
            sink.at(
                written.span(),
                ConfigProblem::SuspectAfterNotBelowDepartAfter {
                    suspect_after: value,
                    zone: zone.name.clone(),
                    depart_after: zone.presence.depart_after,
                },
            );
            return None;
        }
        Some(ZoneTrust {
            suspect_after: value,
        })
    }
}

/// A reader's `sentinels = { 2 = ["EPC", ...] }` as written.
pub(crate) type SentinelsSpec = Spanned<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>;

/// Checks a reader's sentinels: each antenna one of its `antennas`, each EPC hex of whole bytes,
/// at most [`MAX_SENTINELS_PER_ANTENNA`] per antenna. `None` when anything was wrong.
pub(crate) fn build_sentinels(
    spec: &SentinelsSpec,
    reader: &str,
    antennas: &[u16],
    sink: &mut ErrorSink,
) -> Option<BTreeMap<u16, Vec<Vec<u8>>>> {
    let mut sentinels = BTreeMap::new();
    let mut all_good = true;
    for (antenna, epcs) in spec.get_ref() {
        let number = antenna.get_ref().parse::<u16>().ok();
        let Some(number) = number.filter(|n| antennas.contains(n)) else {
            sink.at(
                antenna.span(),
                ConfigProblem::SentinelAntennaUnknown {
                    reader: reader.to_owned(),
                    antenna: antenna.get_ref().clone(),
                },
            );
            all_good = false;
            continue;
        };
        if epcs.len() > MAX_SENTINELS_PER_ANTENNA {
            sink.at(
                epcs[MAX_SENTINELS_PER_ANTENNA].span(),
                ConfigProblem::TooMany {
                    what: "sentinels on one antenna",
                    count: epcs.len(),
                    max: MAX_SENTINELS_PER_ANTENNA,
                },
            );
            all_good = false;
            continue;
        }
        let mut parsed = Vec::with_capacity(epcs.len());
        for epc in epcs {
            match parse_epc(epc.get_ref()) {
                Ok(bytes) => parsed.push(bytes),
                Err(reason) => {
                    sink.at(
                        epc.span(),
                        ConfigProblem::BadSentinelEpc {
                            epc: epc.get_ref().clone(),
                            reason,
                        },
                    );
                    all_good = false;
                }
            }
        }
        sentinels.insert(number, parsed);
    }
    all_good.then_some(sentinels)
}

/// A sentinel EPC's bytes from its hex digits.
fn parse_epc(text: &str) -> Result<Vec<u8>, &'static str> {
    if text.is_empty() {
        return Err("it is empty");
    }
    if text.len() > MAX_SENTINEL_EPC_BYTES * 2 {
        return Err("it is longer than the 124 hex digits of a 496-bit EPC");
    }
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("it is not hex (0-9, a-f)");
    }
    if !text.len().is_multiple_of(2) {
        return Err("it has an odd number of hex digits; an EPC is whole bytes");
    }
    Ok((0..text.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epcs_are_whole_bytes_of_hex() {
        assert_eq!(parse_epc("E2801160"), Ok(vec![0xE2, 0x80, 0x11, 0x60]));
        assert_eq!(parse_epc("e28011"), Ok(vec![0xE2, 0x80, 0x11]));
        assert!(parse_epc("E28").is_err());
        assert!(parse_epc("").is_err());
        assert!(parse_epc("E2801G").is_err());
        assert!(parse_epc(&"00".repeat(63)).is_err());
        assert!(parse_epc(&"00".repeat(62)).is_ok());
    }
}
