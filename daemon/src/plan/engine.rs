//! The engine's view of the store layout, from a checked config: zones with their presence
//! parameters, the antenna → zone map by reader index, the SKU prefix map.

use tagtally_config::{Config, ReaderRole};
use tagtally_reader_drivers::ReaderId;

use crate::engine::{AntennaZone, EngineConfig, SentinelTag, SkuPrefix, ZoneConfig};

use super::presence::presence_params;

/// The engine's view of the store layout; `ReaderId` is the reader's index in the config (the
/// config bounds the number of readers to what a `ReaderId` numbers, `MAX_READERS`).
///
/// A handheld's antennas are left out: its reads never reach the engine (the engine task hands
/// them to count sessions), so it covers no zone and its silence or presence drains nothing.
pub fn engine_config(config: &Config) -> EngineConfig {
    let zones = config
        .zones
        .iter()
        .map(|zone| ZoneConfig {
            name: zone.name.clone(),
            presence: presence_params(&zone.presence),
        })
        .collect();
    let mut antennas = Vec::new();
    let mut sentinels = Vec::new();
    for (id, reader) in (0..=u16::MAX).map(ReaderId).zip(&config.readers) {
        if reader.role == ReaderRole::Handheld {
            continue;
        }
        for (&antenna, epcs) in &reader.sentinels {
            sentinels.extend(epcs.iter().map(|epc| SentinelTag {
                reader: id,
                antenna,
                epc: epc.clone(),
            }));
        }
        for (&antenna, zone) in &reader.antennas {
            antennas.push(AntennaZone {
                reader: id,
                antenna,
                zone: zone.clone(),
            });
        }
    }
    let sku_map = config
        .sku_map
        .iter()
        .map(|m| SkuPrefix {
            epc_prefix: m.epc_prefix.clone(),
            sku: m.sku.clone(),
        })
        .collect();
    EngineConfig {
        zones,
        antennas,
        sku_map,
        max_candidates: config.max_candidates,
        suspect_after: Some(config.zone_trust.suspect_after),
        sentinels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TEXT: &str = r#"
store = "paris-01"
[presence]
arrive-reads = 3
[[zone]]
name = "floor"
depart-after = "10m"
[[zone]]
name = "backroom"
[[reader]]
name = "r1"
kind = "llrp"
address = "10.0.0.21"
antennas = { 1 = "floor", 3 = "backroom" }
[[reader]]
name = "till"
kind = "thingmagic"
address = "127.0.0.1:7000"
antennas = { 1 = "floor" }
[[reader]]
name = "sled"
kind = "r2000"
address = "127.0.0.1:7001"
role = "handheld"
antennas = { 1 = "backroom" }
[[sku-map]]
epc-prefix = "E280"
sku = "legacy"
[mqtt]
url = "mqtt://127.0.0.1:1883"
"#;

    #[test]
    fn engine_sees_zones_antennas_by_reader_index_and_prefixes() {
        let config = Config::from_str(TEXT, "t.toml").expect("valid");
        let e = engine_config(&config);
        assert_eq!(e.zones.len(), 2);
        assert_eq!(e.zones[0].presence.arrive_reads, 3);
        assert_eq!(e.zones[0].presence.depart_after, Duration::from_secs(600));
        let pairs: Vec<(u16, u16, &str)> = e
            .antennas
            .iter()
            .map(|a| (a.reader.0, a.antenna, a.zone.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [(0, 1, "floor"), (0, 3, "backroom"), (1, 1, "floor")],
            "the handheld (reader 2) covers no zone"
        );
        assert_eq!(e.sku_map[0].sku, "legacy");
    }
}
