//! [`CheckedEngineConfig`]: an [`EngineConfig`] that passed its checks, already in the engine's units — what [`Engine::new`](super::Engine::new) builds from, so building an engine cannot fail.
//!
//! The daemon's config plan calls [`EngineConfig::check`] once, when `check-config`, `run` or a
//! reload loads the config; the engine task then builds engines from the result and never
//! re-validates.

use super::config::{EngineConfig, EngineConfigError};
use super::sku_intern::SkuInterner;
use super::{micros, Zone, NO_ZONE};

/// A checked [`EngineConfig`] (see the module doc).
#[derive(Clone, Debug)]
pub struct CheckedEngineConfig {
    /// The zones in config order, in engine units.
    pub(super) zones: Vec<Zone>,
    /// `[reader][antenna]` → zone index or `NO_ZONE`.
    pub(super) antenna_zones: Vec<Vec<u16>>,
    /// `[reader]` → the zones its antennas map to.
    pub(super) reader_zones: Vec<Vec<u16>>,
    /// The SKU rules with `[[sku-map]]`'s prefixes parsed.
    pub(super) skus: SkuInterner,
    /// The config as given.
    pub(super) config: EngineConfig,
}

impl CheckedEngineConfig {
    /// The config as it was given.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}

impl EngineConfig {
    /// Checks the zones (distinct names, at most `u16::MAX - 1`, `arrive-reads` ≥ 1), the antenna
    /// map (each antenna once, to a declared zone) and the `[[sku-map]]` prefixes (hex).
    pub fn check(self) -> Result<CheckedEngineConfig, EngineConfigError> {
        let max_zones = usize::from(NO_ZONE);
        if self.zones.len() > max_zones {
            return Err(EngineConfigError::TooManyZones {
                count: self.zones.len(),
                max: max_zones,
            });
        }
        let mut zones: Vec<Zone> = Vec::with_capacity(self.zones.len());
        for z in &self.zones {
            if zones.iter().any(|known| *known.name == *z.name) {
                return Err(EngineConfigError::DuplicateZone {
                    name: z.name.clone(),
                });
            }
            if z.presence.arrive_reads == 0 {
                return Err(EngineConfigError::ZeroArriveReads {
                    zone: z.name.clone(),
                });
            }
            zones.push(Zone {
                name: z.name.as_str().into(),
                arrive_reads: z.presence.arrive_reads,
                arrive_window: micros(z.presence.arrive_window),
                depart_after: micros(z.presence.depart_after),
                move_hysteresis: micros(z.presence.move_hysteresis),
                rssi_margin_cdbm: z.presence.rssi_margin_cdbm,
                retired: false,
            });
        }
        let mut antenna_zones: Vec<Vec<u16>> = Vec::new();
        let mut reader_zones: Vec<Vec<u16>> = Vec::new();
        for a in &self.antennas {
            let Some(zone) = zones.iter().position(|z| *z.name == *a.zone) else {
                return Err(EngineConfigError::UnknownZone {
                    reader: a.reader.0,
                    antenna: a.antenna,
                    zone: a.zone.clone(),
                });
            };
            // Cannot truncate: zones.len() <= NO_ZONE was checked above.
            let zone = zone as u16;
            let r = usize::from(a.reader.0);
            if antenna_zones.len() <= r {
                antenna_zones.resize(r + 1, Vec::new());
                reader_zones.resize(r + 1, Vec::new());
            }
            let ports = &mut antenna_zones[r];
            let port = usize::from(a.antenna);
            if ports.len() <= port {
                ports.resize(port + 1, NO_ZONE);
            }
            if ports[port] != NO_ZONE {
                return Err(EngineConfigError::DuplicateAntenna {
                    reader: a.reader.0,
                    antenna: a.antenna,
                });
            }
            ports[port] = zone;
            if !reader_zones[r].contains(&zone) {
                reader_zones[r].push(zone);
            }
        }
        let skus = SkuInterner::new(&self.sku_map)?;
        Ok(CheckedEngineConfig {
            zones,
            antenna_zones,
            reader_zones,
            skus,
            config: self,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{AntennaZone, PresenceParams, SkuPrefix, ZoneConfig};
    use crate::ReaderId;

    fn zone(name: &str) -> ZoneConfig {
        ZoneConfig {
            name: name.into(),
            presence: PresenceParams::default(),
        }
    }

    fn antenna(reader: u16, antenna: u16, zone: &str) -> AntennaZone {
        AntennaZone {
            reader: ReaderId(reader),
            antenna,
            zone: zone.into(),
        }
    }

    fn layout() -> EngineConfig {
        EngineConfig {
            zones: vec![zone("floor"), zone("backroom")],
            antennas: vec![
                antenna(0, 1, "floor"),
                antenna(0, 2, "backroom"),
                antenna(2, 1, "floor"),
            ],
            sku_map: vec![SkuPrefix {
                epc_prefix: "E28".into(),
                sku: "legacy".into(),
            }],
            ..EngineConfig::default()
        }
    }

    #[test]
    fn a_good_layout_is_kept_in_engine_units() {
        let checked = layout().check().expect("a good layout");
        assert_eq!(checked.zones.len(), 2);
        assert_eq!(checked.antenna_zones[0], [NO_ZONE, 0, 1]);
        assert!(checked.antenna_zones[1].is_empty(), "reader 1 maps nothing");
        assert_eq!(checked.antenna_zones[2], [NO_ZONE, 0]);
        assert_eq!(checked.reader_zones, [vec![0, 1], vec![], vec![0]]);
        assert_eq!(checked.config(), &layout());
    }

    #[test]
    fn every_refusal_names_what_is_wrong() {
        let refusal = |config: EngineConfig| config.check().expect_err("refused");
        let mut twice = layout();
        twice.zones.push(zone("floor"));
        assert_eq!(
            refusal(twice),
            EngineConfigError::DuplicateZone {
                name: "floor".into()
            }
        );
        let mut zero = layout();
        zero.zones[1].presence.arrive_reads = 0;
        assert_eq!(
            refusal(zero),
            EngineConfigError::ZeroArriveReads {
                zone: "backroom".into()
            }
        );
        let mut undeclared = layout();
        undeclared.antennas.push(antenna(1, 4, "attic"));
        assert_eq!(
            refusal(undeclared),
            EngineConfigError::UnknownZone {
                reader: 1,
                antenna: 4,
                zone: "attic".into()
            }
        );
        let mut mapped_twice = layout();
        mapped_twice.antennas.push(antenna(0, 2, "floor"));
        assert_eq!(
            refusal(mapped_twice),
            EngineConfigError::DuplicateAntenna {
                reader: 0,
                antenna: 2
            }
        );
        let mut not_hex = layout();
        not_hex.sku_map[0].epc_prefix = "E2G".into();
        assert_eq!(
            refusal(not_hex),
            EngineConfigError::BadSkuPrefix {
                prefix: "E2G".into()
            }
        );
        let too_many = EngineConfig {
            zones: (0..=usize::from(NO_ZONE))
                .map(|i| zone(&i.to_string()))
                .collect(),
            ..EngineConfig::default()
        };
        assert_eq!(
            refusal(too_many),
            EngineConfigError::TooManyZones {
                count: usize::from(NO_ZONE) + 1,
                max: usize::from(NO_ZONE)
            }
        );
    }
}
