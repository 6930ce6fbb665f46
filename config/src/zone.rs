//! `[[zone]]`: a named area of the store, its role, and optional overrides of any `[presence]` key.

use crate::duration::Interval;
use crate::name::Name;
use crate::presence::{ArriveReads, Presence, PresenceSpec, RssiMarginDb};
use crate::zone_role::ZoneRole;
use serde::Deserialize;
use toml::Spanned;

/// A zone with the presence rules in force for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// The zone's name (`[a-z0-9_-]{1,64}`), as it appears in payloads.
    pub name: String,
    /// What the zone is for (`role`, default `other`).
    pub role: ZoneRole,
    /// `[presence]` with this zone's overrides applied.
    pub presence: Presence,
}

/// One `[[zone]]` table as written. The override keys repeat [`PresenceSpec`]'s because serde's
/// `flatten` would lose both `deny_unknown_fields` and the values' spans.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct ZoneSpec {
    pub name: Spanned<Name>,
    #[serde(default)]
    pub role: ZoneRole,
    #[serde(default)]
    pub arrive_reads: Option<ArriveReads>,
    #[serde(default)]
    pub arrive_window: Option<Interval>,
    #[serde(default)]
    pub depart_after: Option<Interval>,
    #[serde(default)]
    pub move_hysteresis: Option<Interval>,
    #[serde(default)]
    pub rssi_margin_db: Option<RssiMarginDb>,
}

impl ZoneSpec {
    /// The zone with `defaults` (the resolved `[presence]`) under its overrides.
    pub(crate) fn resolve(&self, defaults: Presence) -> Zone {
        let overrides = PresenceSpec {
            arrive_reads: self.arrive_reads,
            arrive_window: self.arrive_window,
            depart_after: self.depart_after,
            move_hysteresis: self.move_hysteresis,
            rssi_margin_db: self.rssi_margin_db,
        };
        Zone {
            name: self.name.get_ref().0.clone(),
            role: self.role,
            presence: overrides.apply_to(defaults),
        }
    }
}
