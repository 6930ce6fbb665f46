//! Replenishment (SPEC §10): which SKUs to bring from the stockroom to the sales floor, and how many.

use std::collections::BTreeMap;

use tagtally_config::ZoneRole;

use super::zone_roles::ZoneRoles;
use crate::control::StockCount;

/// One SKU to bring out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickLine {
    /// The SKU.
    pub sku: String,
    /// Counted over the `sales-floor` zones.
    pub on_floor: u64,
    /// Counted over the `stockroom` zones.
    pub in_stockroom: u64,
    /// Its minimum on the floor.
    pub min: u64,
    /// How many to bring: the shortfall, at most what the stockroom holds.
    pub to_bring: u64,
}

/// The pick list from the committed stock table: every SKU whose `sales-floor` count is below its
/// minimum (`min_of`) while a `stockroom` zone holds some; most to bring first, then by SKU.
pub fn pick_list(
    counts: &[StockCount],
    roles: &ZoneRoles,
    min_of: impl Fn(&str) -> u32,
) -> Vec<PickLine> {
    // Per SKU: (on the floor, in the stockroom); only SKUs the stockroom holds can be picked.
    let mut per_sku: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for count in counts {
        match roles.role_of(&count.zone) {
            ZoneRole::SalesFloor => per_sku.entry(&count.sku).or_default().0 += count.count,
            ZoneRole::Stockroom => per_sku.entry(&count.sku).or_default().1 += count.count,
            _ => {}
        }
    }
    let mut lines: Vec<PickLine> = per_sku
        .into_iter()
        .filter_map(|(sku, (on_floor, in_stockroom))| {
            let min = u64::from(min_of(sku));
            let short = min.saturating_sub(on_floor);
            (short > 0 && in_stockroom > 0).then(|| PickLine {
                sku: sku.to_owned(),
                on_floor,
                in_stockroom,
                min,
                to_bring: short.min(in_stockroom),
            })
        })
        .collect();
    lines.sort_by(|a, b| b.to_bring.cmp(&a.to_bring).then_with(|| a.sku.cmp(&b.sku)));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagtally_config::Config;

    fn roles() -> ZoneRoles {
        let config = Config::from_str(
            "store = \"s\"\n[[zone]]\nname = \"floor\"\nrole = \"sales-floor\"\n\
             [[zone]]\nname = \"floor-2\"\nrole = \"sales-floor\"\n\
             [[zone]]\nname = \"back\"\nrole = \"stockroom\"\n\
             [[zone]]\nname = \"fit\"\nrole = \"fitting-room\"\n\
             [[reader]]\nname = \"r\"\nkind = \"llrp\"\naddress = \"h\"\nantennas = { 1 = \"floor\" }\n\
             [mqtt]\nurl = \"mqtt://b\"\n",
            "t.toml",
        )
        .unwrap();
        ZoneRoles::from_config(&config)
    }

    fn count(zone: &str, sku: &str, count: u64) -> StockCount {
        StockCount {
            zone: zone.into(),
            sku: sku.into(),
            count,
        }
    }

    #[test]
    fn short_on_the_floor_and_held_in_the_stockroom_is_picked_up_to_what_is_there() {
        let counts = [
            count("back", "empty-floor", 5),
            count("floor", "enough", 2),
            count("back", "enough", 9),
            count("floor", "short", 1),
            count("floor-2", "short", 1),
            count("back", "short", 1),
            count("floor", "nothing-back", 0),
            count("fit", "only-fitting", 3),
            count("back", "big-min", 2),
        ];
        let min_of = |sku: &str| match sku {
            "short" => 4,
            "big-min" => 10,
            _ => 2,
        };
        let lines = pick_list(&counts, &roles(), min_of);
        let got: Vec<(&str, u64, u64, u64)> = lines
            .iter()
            .map(|l| (l.sku.as_str(), l.on_floor, l.in_stockroom, l.to_bring))
            .collect();
        assert_eq!(
            got,
            [
                ("big-min", 0, 2, 2),
                ("empty-floor", 0, 5, 2),
                ("short", 2, 1, 1),
            ]
        );
    }
}
