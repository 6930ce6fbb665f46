//! Zone trust as the daemon publishes it (SPEC §10): the engine's per-zone and per-antenna watch in
//! the contract's terms, with times on the published (wall) clock.

use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::{coarse_rate, AntennaTrustEntry, ZoneTrustEntry};
use tagtally_reader_drivers::{Micros, ReaderId};

use crate::engine::{AntennaTrust, Engine};

/// Engine times to published times: both clocks advance together, so an engine time `t` was published
/// time `published - (timeline - t)`.
#[derive(Clone, Copy, Debug)]
pub struct TrustClock {
    /// The engine's now.
    pub timeline: Micros,
    /// The published time of that now.
    pub published: Micros,
}

impl TrustClock {
    fn rfc3339(self, t: u64) -> String {
        let ago = self.timeline.0.saturating_sub(t);
        rfc3339_from_micros(self.published.0.saturating_sub(ago))
    }
}

/// Every zone with antennas, in zone order.
pub fn zone_entries(engine: &Engine, clock: TrustClock) -> Vec<ZoneTrustEntry> {
    engine
        .zone_trust()
        .into_iter()
        .map(|z| ZoneTrustEntry {
            zone: z.zone.to_string(),
            antennas: u32::try_from(z.antennas).unwrap_or(u32::MAX),
            healthy: u32::try_from(z.healthy).unwrap_or(u32::MAX),
            last_read: z.last_read.map(|t| clock.rfc3339(t)),
            reads_per_sec: coarse_rate(z.reads_per_sec),
            baseline_per_sec: z.baseline_per_sec.map(coarse_rate),
        })
        .collect()
}

/// Every watched antenna's trust, keyed by reader and port.
pub fn antenna_entries(
    engine: &Engine,
    clock: TrustClock,
) -> Vec<(ReaderId, u16, AntennaTrustEntry)> {
    engine
        .antenna_trust()
        .into_iter()
        .map(|a: AntennaTrust| {
            let entry = AntennaTrustEntry {
                state: a.state.as_str().to_owned(),
                sentinels: u32::try_from(a.sentinels).unwrap_or(u32::MAX),
                last_sentinel_read: a.last_sentinel_read.map(|t| clock.rfc3339(t)),
                baseline_per_sec: a.baseline_per_sec.map(coarse_rate),
            };
            (a.reader, a.antenna, entry)
        })
        .collect()
}
