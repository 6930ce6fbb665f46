//! Store operations on the engine (SPEC §10): applying a cycle count to a zone, and selling a tag.
//!
//! Both change presence at once, outside the read rules, and leave their changes for the next
//! [`Engine::flush`] like any other: a count applied and flushed together is one committed delta.
//!
//! * A count of zone Z with the set of EPCs seen: a seen tag already in Z stays (its departure clock
//!   restarts); a seen tag of another zone moves into Z, unless a fixed reader read it within Z's
//!   `move-hysteresis` (then the fixed reader's evidence is fresher than the handheld's and it stays);
//!   a seen tag not present arrives in Z. Every tag present in Z and not seen departs with reason
//!   `count`. A seen EPC that decodes as no GS1 scheme and that `[[sku-map]]` does not map is counted
//!   in `not_decoded` and never creates stock (a present one is still taken as seen, so it stays).
//! * A sale: the tag departs with reason `sale`; read again later, it arrives again by the normal rule.

use crate::{Micros, MAX_EPC_BYTES};
use hashbrown::HashSet;
use thiserror::Error;

use super::departure::DepartureReason;
use super::tag_table::{TagKey, FLAG_ARRIVED, FLAG_BLEED};
use super::zone_choice::WindowStat;
use super::Engine;

/// What applying a count did, as the `count` message reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountOutcome {
    /// Distinct EPCs seen.
    pub seen: u64,
    /// Seen tags that were not present and now count in the zone.
    pub arrived: u64,
    /// Seen tags that counted in another zone and moved into this one.
    pub moved_in: u64,
    /// Tags of the zone that the count did not find.
    pub departed: u64,
    /// Seen EPCs that decode as nothing (and no `[[sku-map]]` prefix maps): never stock.
    pub not_decoded: u64,
    /// Seen tags left in another zone because a fixed reader read them there within `move-hysteresis`.
    pub kept_elsewhere: u64,
    /// The EPCs the count found present in the zone (confirmed in place, moved in, arrived),
    /// sorted: the count's result as one EPCIS event (SPEC §12). At most `seen` of them.
    pub present: Vec<Vec<u8>>,
}

/// Why a count cannot be applied.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CountError {
    /// The zone is not configured.
    #[error("zone `{zone}` is not configured")]
    UnknownZone {
        /// The zone as given.
        zone: String,
    },
    /// An EPC longer than 496 bits (callers check lengths; this keeps the engine whole regardless).
    #[error("an epc of {bytes} bytes is longer than an epc can be")]
    EpcTooLong {
        /// Its length.
        bytes: usize,
    },
}

impl Engine {
    /// The index of a configured (not retired) zone.
    pub fn zone_index(&self, name: &str) -> Option<u16> {
        let i = self
            .state
            .zones
            .iter()
            .position(|z| !z.retired && *z.name == *name)?;
        // Zone indexes fit a u16 (checked at construction).
        Some(i as u16)
    }

    /// Applies a count of `zone` that saw `seen` (duplicates allowed), as the module doc says. Nothing
    /// changes when it returns an error.
    pub fn apply_count<'a>(
        &mut self,
        zone: &str,
        seen: impl IntoIterator<Item = &'a [u8]>,
        now: Micros,
    ) -> Result<CountOutcome, CountError> {
        let z = self
            .zone_index(zone)
            .ok_or_else(|| CountError::UnknownZone {
                zone: zone.to_owned(),
            })?;
        let seen: HashSet<&[u8]> = seen.into_iter().collect();
        if let Some(long) = seen.iter().find(|epc| epc.len() > MAX_EPC_BYTES) {
            return Err(CountError::EpcTooLong { bytes: long.len() });
        }
        let now = self.advance(now);
        let hysteresis = self.state.zones[usize::from(z)].move_hysteresis;
        let mut outcome = CountOutcome {
            seen: seen.len() as u64,
            ..CountOutcome::default()
        };
        let mut found: HashSet<TagKey> = HashSet::with_capacity(seen.len());
        for epc in &seen {
            let key = TagKey::new(epc);
            let decoded = self.skus.decodes(epc);
            if !decoded {
                outcome.not_decoded += 1;
            }
            match self.tags.placement(&key) {
                Some((home, _)) if home == z => {
                    self.refresh(&key, now);
                    outcome.present.push(epc.to_vec());
                    found.insert(key);
                }
                // Never moved by a count: it could only count as `unknown`.
                Some(_) if !decoded => {}
                Some((home, sku)) => {
                    if self.read_elsewhere_lately(&key, now, hysteresis) {
                        outcome.kept_elsewhere += 1;
                    } else {
                        self.move_now(&key, (home, sku), z, now);
                        outcome.moved_in += 1;
                        outcome.present.push(epc.to_vec());
                        found.insert(key);
                    }
                }
                None if !decoded => {}
                None => {
                    let sku = self.skus.classify(epc);
                    self.arrive_now(key.clone(), z, sku, now);
                    outcome.arrived += 1;
                    outcome.present.push(epc.to_vec());
                    found.insert(key);
                }
            }
        }
        let missing: Vec<TagKey> = self
            .tags
            .iter_short()
            .filter(|r| r.zone == z)
            .map(|r| TagKey::Short(r.key))
            .chain(
                self.tags
                    .long
                    .iter()
                    .filter(|r| r.zone == z)
                    .map(|r| TagKey::Long(r.key.clone())),
            )
            .filter(|key| !found.contains(key))
            .collect();
        for key in missing {
            if self.depart_now(&key, DepartureReason::Count) {
                outcome.departed += 1;
            }
        }
        outcome.present.sort_unstable();
        Ok(outcome)
    }

    /// Sells a tag at `now`: it departs with reason `sale` if present. False when it was not present
    /// (counted in `sales_not_present`).
    pub fn sell(&mut self, epc: &[u8], now: Micros) -> bool {
        self.advance(now);
        let sold = self.depart_now(&TagKey::new(epc), DepartureReason::Sale);
        if !sold {
            self.state.counters.sales_not_present += 1;
        }
        sold
    }

    /// Did a fixed reader read the tag within `hysteresis` before `now`?
    fn read_elsewhere_lately(&mut self, key: &TagKey, now: u64, hysteresis: u64) -> bool {
        let Some(r) = self.tags.get_mut(key) else {
            return false;
        };
        let last_seen = r.last_seen();
        // 0: not read since the daemon started.
        last_seen != 0 && now.saturating_sub(last_seen) < hysteresis
    }

    /// A present tag was seen by a count in its own zone: its departure clock restarts.
    fn refresh(&mut self, key: &TagKey, now: u64) {
        if let Some(mut r) = self.tags.get_mut(key) {
            *r.last_seen_mut() = now;
        }
    }

    /// Moves a present tag from `from` to zone `to` at once (a count found it there).
    fn move_now(&mut self, key: &TagKey, from: (u16, u32), to: u16, now: u64) {
        let Some(mut r) = self.tags.get_mut(key) else {
            return;
        };
        let flags = *r.flags_mut();
        *r.flags_mut() &= !FLAG_BLEED;
        *r.zone_mut() = to;
        *r.stat_mut() = WindowStat::EMPTY;
        *r.last_seen_mut() = now;
        let state = &mut self.state;
        state.bleed.remove(key);
        state.counts.decrement(from);
        state.counts.increment((to, from.1));
        state.counters.moves += 1;
        if flags & FLAG_ARRIVED == 0 {
            state
                .placement_at_last_flush
                .entry(key.clone())
                .or_insert(Some(from));
        }
    }

    /// A tag that was not present counts in `zone` at once (a count found it there).
    fn arrive_now(&mut self, key: TagKey, zone: u16, sku: u32, now: u64) {
        self.candidates.forget(&key);
        let state = &mut self.state;
        state.counters.arrivals += 1;
        state.counts.increment((zone, sku));
        let flags = if state.placement_at_last_flush.contains_key(&key) {
            0
        } else {
            state.arrived_since_flush += 1;
            FLAG_ARRIVED
        };
        self.tags
            .insert(key, zone, sku, WindowStat::EMPTY, now, flags);
    }

    /// A present tag leaves at once for `reason`; false when it was not present.
    fn depart_now(&mut self, key: &TagKey, reason: DepartureReason) -> bool {
        let Some((zone, sku, flags)) = self.tags.remove(key) else {
            return false;
        };
        let state = &mut self.state;
        state.counts.decrement((zone, sku));
        state.counters.departures += 1;
        match reason {
            DepartureReason::Sale => state.counters.departures_sale += 1,
            DepartureReason::Count => state.counters.departures_count += 1,
            DepartureReason::Unseen => {}
        }
        state.bleed.remove(key);
        // A tag that arrived in this interval was absent at the last flush: no change to record.
        if flags & FLAG_ARRIVED == 0 {
            state
                .placement_at_last_flush
                .entry(key.clone())
                .or_insert(Some((zone, sku)));
        }
        state.departed.push((key.clone(), zone, sku, reason));
        true
    }
}
