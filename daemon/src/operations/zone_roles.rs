//! Each configured zone's role (SPEC §4), as book stock, replenishment and `tagtally stock` read it.

use tagtally_config::{Config, ZoneRole};

use crate::control::StockZone;

/// The configured zones and their roles, in config order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneRoles {
    zones: Vec<(String, ZoneRole)>,
}

impl ZoneRoles {
    /// The roles of `config`'s zones.
    pub fn from_config(config: &Config) -> Self {
        ZoneRoles {
            zones: config
                .zones
                .iter()
                .map(|zone| (zone.name.clone(), zone.role))
                .collect(),
        }
    }

    /// The role of `zone`; a zone no longer configured (counts restored from an older layout)
    /// is `other`, the default.
    pub fn role_of(&self, zone: &str) -> ZoneRole {
        self.zones
            .iter()
            .find(|(name, _)| name == zone)
            .map_or(ZoneRole::Other, |(_, role)| *role)
    }

    /// Every zone with its role, for the stock table.
    pub fn views(&self) -> Vec<StockZone> {
        self.zones
            .iter()
            .map(|(zone, role)| StockZone {
                zone: zone.clone(),
                role: role.as_str().to_owned(),
            })
            .collect()
    }

    /// Whether any zone has `role`.
    pub fn any(&self, role: ZoneRole) -> bool {
        self.zones.iter().any(|(_, r)| *r == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_config_and_unknown_zones_are_other() {
        let config = Config::from_str(
            "store = \"s\"\n[[zone]]\nname = \"floor\"\nrole = \"sales-floor\"\n\
             [[zone]]\nname = \"gate\"\nrole = \"exit\"\n\
             [[reader]]\nname = \"r\"\nkind = \"llrp\"\naddress = \"h\"\nantennas = { 1 = \"floor\" }\n\
             [mqtt]\nurl = \"mqtt://b\"\n",
            "t.toml",
        )
        .unwrap();
        let roles = ZoneRoles::from_config(&config);
        assert_eq!(roles.role_of("floor"), ZoneRole::SalesFloor);
        assert_eq!(roles.role_of("gate"), ZoneRole::Exit);
        assert_eq!(roles.role_of("retired"), ZoneRole::Other);
        assert!(roles.any(ZoneRole::Exit));
        assert!(!roles.any(ZoneRole::Stockroom));
        let views = roles.views();
        assert_eq!(views[0].zone, "floor");
        assert_eq!(views[0].role, "sales-floor");
    }
}
