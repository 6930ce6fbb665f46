//! `role` of a `[[zone]]`: what the area is for, which decides how book stock and replenishment read its counts (SPEC §4, §10).

use serde::Deserialize;

/// What a zone is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneRole {
    /// Where customers pick items: replenishment keeps its minimum here.
    SalesFloor,
    /// Where stock waits: replenishment picks from here.
    Stockroom,
    /// Fitting rooms: stock, neither picked from nor replenished.
    FittingRoom,
    /// A gate or exit: what is read there is leaving, so it is not counted against book stock.
    Exit,
    /// Anything else (a window, a back office). The default.
    #[default]
    Other,
}

impl ZoneRole {
    /// Every role, in the order the config reference lists them.
    pub const ALL: [ZoneRole; 5] = [
        ZoneRole::SalesFloor,
        ZoneRole::Stockroom,
        ZoneRole::FittingRoom,
        ZoneRole::Exit,
        ZoneRole::Other,
    ];

    /// The role as written in the config and shown in payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneRole::SalesFloor => "sales-floor",
            ZoneRole::Stockroom => "stockroom",
            ZoneRole::FittingRoom => "fitting-room",
            ZoneRole::Exit => "exit",
            ZoneRole::Other => "other",
        }
    }

    /// Whether its counts are stock on hand, compared with book stock (all but `exit`).
    pub fn counts_as_on_hand(self) -> bool {
        self != ZoneRole::Exit
    }
}

impl std::fmt::Display for ZoneRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
