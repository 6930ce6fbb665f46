//! The stock engine: turns tag reads into per-zone, per-SKU counts and net deltas (SPEC §3); pure, time is passed in.
//!
//! # Shape
//!
//! * [`Engine::observe`] takes one read. A read of a present tag in its own zone is the hot path: one probe
//!   of the [tag table](tag_table), a last-seen store and a window-counter bump, nothing allocated or decoded.
//!   Everything else (first sightings, candidates, bleed from other zones, moves) leaves the hot path.
//! * [`Engine::reader_up`] / [`Engine::reader_down`] drive [coverage]: absence is only inferred while a zone
//!   is covered, and a tag's departure clock runs from the later of its last read and the start of coverage.
//! * [`Engine::heard`] is the evidence behind coverage: the reader was heard (a read batch, a keepalive, any
//!   frame) at `now`. A zone counts as watched only up to the last time one of its up readers was heard.
//! * [`Engine::flush`] decides departures, then returns the net [`Delta`] since the previous flush: changed
//!   counts and the durable tag-state changes behind them, for the store to commit in one transaction.
//! * [`Engine::restore`] loads the tag state the store kept, before any read.
//!
//! # Time
//!
//! The engine never reads a clock. Every call carries `now`, the daemon's clock when the read or event
//! reached it; reader timestamps are not used for presence, since reader clocks drift and reset on reboot.
//! Time never runs backwards inside the engine: an earlier `now` is taken as the latest one seen.
//!
//! # Semantics, precisely
//!
//! * Arrival, per [presence]: `arrive-reads` reads by one zone within `arrive-window`, counting reads since
//!   the tag last stopped being present.
//! * Zone, per [zone_choice]: a present tag moves only to a zone that has clearly led its zone, at every read
//!   of the tag, for that zone's `move-hysteresis`, with its zone watched (a reader of it heard) until the end
//!   of that time; decided when a read arrives.
//! * Departure, decided at each flush: a tag leaves when its zone is covered and some up reader covering the
//!   zone was *heard* at least `depart-after` past both the tag's last read (by any zone) and the start of the
//!   zone's coverage. Evidence, not `now`: a reader that went silent but is not yet declared down (a half-open
//!   link takes three keepalive periods to find) drains nothing, however late the flush. The price is latency:
//!   a departure waits for the next sign of life of a covering reader after its due time, which is at once
//!   while tags are read, but up to one keepalive period (LLRP `keepalive`, 10 s by default) for a reader whose
//!   field just emptied and sends nothing else. Tags in a zone that is no longer configured (found in
//!   restored state) leave at the first flush.

mod candidates;
mod checked_config;
mod config;
mod counters;
mod counts;
mod coverage;
mod delta;
mod departure;
mod operations;
mod presence;
mod sku_intern;
mod tag_table;
mod zone_choice;
mod zone_trust;

use std::sync::Arc;
use std::time::Duration;

use crate::{Micros, ReaderId, TagRead};
use tagtally_protocol::hex::Hex;
use thiserror::Error;

pub use candidates::DEFAULT_MIN_CANDIDATES;
pub use checked_config::CheckedEngineConfig;
pub use config::{
    AntennaZone, EngineConfig, EngineConfigError, PresenceParams, SentinelTag, SkuPrefix,
    ZoneConfig,
};
pub use counters::EngineCounters;
pub use delta::{CountCell, CountChange, Delta, Placement, Snapshot, TagChange};
pub use departure::{Departure, DepartureReason};
pub use operations::{CountError, CountOutcome};
pub use sku_intern::UNKNOWN_SKU;
pub use zone_choice::{LeadRule, CLEAR_RSSI_MARGIN_CDBM, MIN_SLOT_MICROS};
pub use zone_trust::{AntennaTrust, AntennaTrustState, ZoneTrustReport};

use candidates::{CandidateRead, Candidates};
use counts::Counts;
use coverage::Coverage;
use sku_intern::SkuInterner;
use tag_table::{
    is_sparse, Resident, ResidentKey, ShortEpc, TagKey, TagTable, FLAG_ARRIVED, FLAG_BLEED,
};
use zone_choice::{slot_of, Bleed, WindowStat};
use zone_trust::{WatchedAntenna, ZoneTrust};

/// Reads probed ahead in [`Engine::observe_batch`] (measured: 8-16 is best with 200 000 tags).
const PROBE_AHEAD: usize = 16;

/// Marks an antenna that maps to no zone.
const NO_ZONE: u16 = u16::MAX;

/// A zone's name and parameters in engine units.
#[derive(Clone, Debug)]
struct Zone {
    name: Arc<str>,
    arrive_reads: u16,
    arrive_window: u64,
    depart_after: u64,
    move_hysteresis: u64,
    rssi_margin_cdbm: i32,
    /// Found in restored state but no longer configured: its tags leave at the next flush.
    retired: bool,
}

/// Everything but the tag table, so the hot path can borrow both at once.
#[derive(Debug)]
struct State {
    zones: Vec<Zone>,
    coverage: Coverage,
    counts: Counts,
    /// Tags present in a zone that other zones also read.
    bleed: hashbrown::HashMap<TagKey, Bleed>,
    /// Each tag whose placement changed since the last flush, with its placement at that flush;
    /// except tags that were absent at that flush and are present now, which carry [`FLAG_ARRIVED`]
    /// in the tag table instead (a cold start arrives a whole store in one interval).
    placement_at_last_flush: hashbrown::HashMap<TagKey, Option<(u16, u32)>>,
    /// Tags that carry [`FLAG_ARRIVED`] (some may have left again since): sizes the next flush's output.
    arrived_since_flush: usize,
    counters: EngineCounters,
    /// When set, each flush also keeps where every changed tag counted before (for `tail` events).
    record_origins: bool,
    /// The origins of the last flush's tag changes, aligned with its `tag_changes`.
    origins: Vec<Option<Placement>>,
    /// Tags that departed since the last flush, with zone, SKU and reason.
    departed: Vec<(TagKey, u16, u32, DepartureReason)>,
    /// The departures of the last flush, by name.
    last_departures: Vec<Departure>,
}

/// The stock engine (see the module doc).
#[derive(Debug)]
pub struct Engine {
    tags: TagTable,
    state: State,
    candidates: Candidates,
    skus: SkuInterner,
    /// Which antennas can be believed when silent; sentinel tags.
    trust: ZoneTrust,
    /// `[reader][antenna]` → zone index or `NO_ZONE`.
    antenna_zones: Vec<Vec<u16>>,
    slot_micros: u64,
    longest_arrive_window: u64,
    now: u64,
    /// `slot_of(now)`, cached because every read of one report shares its `now`.
    slot: u32,
}

/// One tag of the state the store kept.
#[derive(Clone, Copy, Debug)]
pub struct RestoredTag<'a> {
    /// The EPC.
    pub epc: &'a [u8],
    /// The zone it counted in.
    pub zone: &'a str,
    /// The SKU it counted as.
    pub sku: &'a str,
}

/// What [`Engine::restore`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreSummary {
    /// Tags restored as present.
    pub tags: u64,
    /// Tags whose SKU is different under the current configuration (published as changes at the next flush).
    pub reclassified: u64,
    /// Tags in zones no longer configured (they leave at the next flush).
    pub in_retired_zones: u64,
    /// Tags now configured as sentinels (they leave the stock at the next flush).
    pub sentinels: u64,
}

/// Why restored state cannot be loaded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EngineRestoreError {
    /// The engine already saw reads or holds tags: restore comes first.
    #[error("restore must come before any read ({tags} tags present, {candidates} candidates)")]
    NotFresh { tags: usize, candidates: usize },
    /// The same EPC twice.
    #[error("tag {epc} appears twice in the restored state")]
    DuplicateTag { epc: String },
    /// An EPC longer than 496 bits.
    #[error("restored tag {epc} is {bytes} bytes long, more than an epc can be")]
    EpcTooLong { epc: String, bytes: usize },
    /// More zones than the engine's zone index can hold.
    #[error("restored state names too many zones (at most {max})")]
    TooManyZones { max: usize },
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Engine {
    /// An engine for a checked config, every reader down and no tag present.
    pub fn new(config: &CheckedEngineConfig) -> Self {
        let CheckedEngineConfig {
            zones,
            antenna_zones,
            reader_zones,
            skus,
            config,
        } = config.clone();
        let trust = zone_trust(&config, &antenna_zones, zones.len());
        let longest_arrive_window = zones.iter().map(|z| z.arrive_window).max().unwrap_or(0);
        Self {
            tags: TagTable::default(),
            state: State {
                coverage: Coverage::new(zones.len(), reader_zones),
                counts: Counts::new(zones.len()),
                zones,
                bleed: hashbrown::HashMap::default(),
                placement_at_last_flush: hashbrown::HashMap::default(),
                arrived_since_flush: 0,
                counters: EngineCounters::default(),
                record_origins: false,
                origins: Vec::new(),
                departed: Vec::new(),
                last_departures: Vec::new(),
            },
            candidates: Candidates::new(antenna_zones.len(), config.max_candidates),
            skus,
            trust,
            antenna_zones,
            slot_micros: longest_arrive_window.max(MIN_SLOT_MICROS),
            longest_arrive_window,
            now: 0,
            slot: 0,
        }
    }

    /// Moves the engine clock to `now` (never backwards) and returns it.
    #[inline]
    fn advance(&mut self, now: Micros) -> u64 {
        if now.0 > self.now {
            self.now = now.0;
            self.slot = slot_of(now.0, self.slot_micros);
        }
        self.now
    }

    /// Takes one read, seen by the daemon at `now`.
    #[inline]
    pub fn observe(&mut self, read: &TagRead, now: Micros) {
        self.observe_epc(
            read.reader,
            read.antenna,
            read.epc.as_bytes(),
            read.rssi_cdbm,
            now,
        );
    }

    /// Takes the reads of one report, all seen by the daemon at `now`; same result as [`Engine::observe`] on each.
    ///
    /// Faster for large tag populations: each chunk of reads is first probed read-only, so the CPU overlaps
    /// the cache misses of independent table probes instead of waiting for them one read at a time.
    pub fn observe_batch(&mut self, reads: &[TagRead], now: Micros) {
        for chunk in reads.chunks(PROBE_AHEAD) {
            // Each read's key and hash, computed once: the read-only probe below and the update
            // after it both use them.
            let mut keys = [None; PROBE_AHEAD];
            let mut present = 0u32;
            for (slot, read) in keys.iter_mut().zip(chunk) {
                if let Some(key) = ShortEpc::new(read.epc.as_bytes()) {
                    let hash = self.tags.hash_short(&key);
                    present += u32::from(self.tags.contains_short_hashed(hash, &key));
                    *slot = Some((hash, key));
                }
            }
            // The count itself is not needed; keeping it observable keeps the probes from being optimised away.
            std::hint::black_box(present);
            for (read, key) in chunk.iter().zip(&keys) {
                let epc = read.epc.as_bytes();
                let Some(zone) = self.take_read(read.reader, read.antenna, now) else {
                    continue;
                };
                let slot = self.slot;
                let now = self.now;
                let found = match key {
                    Some((hash, key)) => self.tags.short_mut_hashed(*hash, key).map(|tag| {
                        present_read(&mut self.state, tag, zone, slot, read.rssi_cdbm, now)
                    }),
                    None => self.tags.long_mut(epc).map(|tag| {
                        present_read(&mut self.state, tag, zone, slot, read.rssi_cdbm, now)
                    }),
                };
                if found.is_none() {
                    self.absent_read(epc, read.reader, read.antenna, zone, read.rssi_cdbm);
                }
            }
        }
    }

    /// Takes one read given by its parts (what a zero-copy report parser yields), seen by the daemon at `now`.
    #[inline]
    pub fn observe_epc(
        &mut self,
        reader: ReaderId,
        antenna: u16,
        epc: &[u8],
        rssi_cdbm: Option<i16>,
        now: Micros,
    ) {
        let Some(zone) = self.take_read(reader, antenna, now) else {
            return;
        };
        let slot = self.slot;
        let now = self.now;
        if let Some(key) = ShortEpc::new(epc) {
            if let Some(tag) = self.tags.short_mut(&key) {
                present_read(&mut self.state, tag, zone, slot, rssi_cdbm, now);
                return;
            }
        } else if let Some(tag) = self.tags.long_mut(epc) {
            present_read(&mut self.state, tag, zone, slot, rssi_cdbm, now);
            return;
        }
        self.absent_read(epc, reader, antenna, zone, rssi_cdbm);
    }

    /// What every read does before its tag is looked up: counts it, moves the clock, finds the
    /// zone of its antenna and tells zone trust the antenna reads. `None` for an unmapped antenna
    /// (counted).
    #[inline(always)]
    fn take_read(&mut self, reader: ReaderId, antenna: u16, now: Micros) -> Option<u16> {
        self.state.counters.reads += 1;
        let now = self.advance(now);
        let zone = self
            .antenna_zones
            .get(usize::from(reader.0))
            .and_then(|ports| ports.get(usize::from(antenna)))
            .copied()
            .unwrap_or(NO_ZONE);
        if zone == NO_ZONE {
            self.state.counters.unmapped_reads += 1;
            return None;
        }
        self.trust.read(reader, antenna, now);
        Some(zone)
    }

    /// A read of a tag that is not present: a sentinel's, or a candidate's.
    #[inline]
    fn absent_read(
        &mut self,
        epc: &[u8],
        reader: ReaderId,
        antenna: u16,
        zone: u16,
        rssi_cdbm: Option<i16>,
    ) {
        let now = self.now;
        if self.trust.sentinel_read(epc, reader, antenna, now) {
            // Fixed in an antenna's field to prove it reads: never stock.
            self.state.counters.sentinel_reads += 1;
            return;
        }
        self.candidate_read(epc, reader.0, zone, self.slot, rssi_cdbm, now);
    }

    /// A read of a tag that is not present: the first-sighting path.
    #[inline(never)]
    fn candidate_read(
        &mut self,
        epc: &[u8],
        reader: u16,
        zone: u16,
        slot: u32,
        rssi_cdbm: Option<i16>,
        now: u64,
    ) {
        let z = &self.state.zones[usize::from(zone)];
        let rule = (z.arrive_reads, z.arrive_window);
        let skus = &mut self.skus;
        let read = self.candidates.read(
            TagKey::new(epc),
            reader,
            zone,
            now,
            rule,
            || skus.classify(epc),
            &mut self.state.counters.stray_reads,
        );
        let CandidateRead::Arrived(key, sku) = read else {
            return;
        };
        self.state.counters.arrivals += 1;
        self.state.counts.increment((zone, sku));
        // A tag that left since the last flush and is back already has its placement at that flush
        // recorded; any other arriving tag was absent then, which its flag says.
        let flags = if self.state.placement_at_last_flush.contains_key(&key) {
            0
        } else {
            self.state.arrived_since_flush += 1;
            FLAG_ARRIVED
        };
        self.tags.insert(
            key,
            zone,
            sku,
            WindowStat::first(slot, rssi_cdbm),
            now,
            flags,
        );
    }

    /// A reader's link came up at `now`: the zones it covers are covered again from `now` on.
    pub fn reader_up(&mut self, reader: ReaderId, now: Micros) {
        let now = self.advance(now);
        self.state.coverage.reader_up(reader, now);
        self.trust.reader_up(reader, now);
    }

    /// A reader was heard at `now` (the daemon received a read batch or any valid frame from it): its zones
    /// are known to be watched until `now`. Ignored while the reader is down. Not implied by [`Engine::observe`],
    /// so the per-read path stays as it is: the caller says it once per batch.
    #[inline]
    pub fn heard(&mut self, reader: ReaderId, now: Micros) {
        let now = self.advance(now);
        self.state.coverage.heard(reader, now);
    }

    /// A reader's link went down: zones no other running reader covers go stale and stop draining.
    pub fn reader_down(&mut self, reader: ReaderId, now: Micros) {
        self.advance(now);
        self.state.coverage.reader_down(reader);
        self.trust.reader_down(reader);
    }

    /// Makes each following flush also keep where every changed tag counted before (see
    /// [`Engine::last_flush_origins`]); off by default, since only `tail` needs it.
    pub fn set_record_origins(&mut self, on: bool) {
        self.state.record_origins = on;
        if !on {
            self.state.origins = Vec::new();
        }
    }

    /// Where each tag of the last flush's `tag_changes` counted before it, in the same order (`None`:
    /// it was not present, i.e. an arrival). Empty unless [`Engine::set_record_origins`] is on.
    pub fn last_flush_origins(&self) -> &[Option<Placement>] {
        &self.state.origins
    }

    /// Every tag that departed in the interval the last flush closed, with its reason (also tags that
    /// arrived and left within it, which make no tag change).
    pub fn last_flush_departures(&self) -> &[Departure] {
        &self.state.last_departures
    }

    /// Decides departures at `now` and returns the net change since the previous flush, if any.
    pub fn flush(&mut self, now: Micros) -> Option<Delta> {
        let now = self.advance(now);
        // Before departures: an antenna silent for `suspect-after` must stop its zone draining first.
        let per_zone = self.state.counts.per_zone();
        let coverage = &mut self.state.coverage;
        self.trust.evaluate(
            now,
            |zone| per_zone.get(usize::from(zone)).copied().unwrap_or(0),
            |zone, suspect| coverage.set_suspect(zone, suspect, now),
        );
        let record_origins = self.state.record_origins;
        let mut out = TagChanges::with_capacity(
            self.state.arrived_since_flush + self.state.placement_at_last_flush.len(),
            record_origins,
        );
        self.sweep(now, &mut out);
        let mut changes: Vec<CountChange> = self
            .state
            .counts
            .take_changes()
            .into_iter()
            .map(|c| CountChange {
                zone: self.state.zones[usize::from(c.cell.0)].name.clone(),
                sku: self.skus.name(c.cell.1).clone(),
                delta: c.delta,
                count: c.count,
            })
            .collect();
        changes.sort_unstable_by(|a, b| (&a.zone, &a.sku).cmp(&(&b.zone, &b.sku)));
        let zones = &self.state.zones;
        let skus = &self.skus;
        // Why each tag that left did: a tag that departed twice in the interval (sold, read again,
        // sold again) left for the last reason.
        let reasons: hashbrown::HashMap<&TagKey, DepartureReason> = self
            .state
            .departed
            .iter()
            .map(|(key, _, _, reason)| (key, *reason))
            .collect();
        out.reserve(self.state.placement_at_last_flush.len());
        for (key, before) in self.state.placement_at_last_flush.drain() {
            let after = self.tags.placement(&key);
            if after == before {
                continue;
            }
            // Keys come from EPCs that fit an `Epc` (reads carry one, restore checks the length).
            let Some(epc) = key.to_epc() else {
                continue;
            };
            let departure = match after {
                Some(_) => None,
                None => reasons.get(&key).copied(),
            };
            out.push(
                TagChange {
                    epc,
                    placement: after.map(|p| placement(zones, skus, p)),
                    departure,
                },
                || before.map(|p| placement(zones, skus, p)),
            );
        }
        drop(reasons);
        shrink_if_sparse(&mut self.state.placement_at_last_flush);
        let (tag_changes, origins) = out.into_sorted();
        self.state.origins = origins;
        let departed = std::mem::take(&mut self.state.departed);
        self.state.last_departures = departed
            .into_iter()
            .filter_map(|(key, zone, sku, reason)| {
                let p = placement(zones, skus, (zone, sku));
                Some(Departure {
                    epc: key.to_epc()?,
                    zone: p.zone,
                    sku: p.sku,
                    reason,
                })
            })
            .collect();
        if changes.is_empty() && tag_changes.is_empty() {
            return None;
        }
        Some(Delta {
            time: Micros(now),
            changes,
            tag_changes,
        })
    }

    /// Departures, the tag changes of arrivals (into `out`), and forgetting what can no longer
    /// matter (idle bleed, stale candidates) along with the memory it held.
    fn sweep(&mut self, now: u64, out: &mut TagChanges) {
        // Candidates first: after a cold start their table is the largest thing to give back, and
        // it should be gone before the flush builds its output.
        self.state.counters.stray_reads += self
            .candidates
            .forget_stale(now, self.longest_arrive_window);
        self.candidates.shrink_if_sparse();

        let state = &mut self.state;
        let zones = &state.zones;
        let coverage = &state.coverage;
        let skus = &self.skus;
        let due = |zone: u16, last_seen: u64| -> bool {
            let Some(z) = zones.get(usize::from(zone)) else {
                return true;
            };
            if z.retired {
                return true;
            }
            // Evidence, not `now`: the zone must have been watched until the tag's departure time.
            match (coverage.covered_since(zone), coverage.watched_until(zone)) {
                (Some(since), Some(until)) => {
                    until >= last_seen.max(since).saturating_add(z.depart_after)
                }
                _ => false,
            }
        };
        // One pass over every tag: departures are decided, and arrivals of the interval (flagged)
        // become tag changes, since their placement at the last flush was "absent".
        let mut pass = SweepPass {
            due,
            zones,
            skus,
            departed: Vec::new(),
            out,
        };
        self.tags.retain_short(|r| pass.keep(r));
        self.tags.long.retain(|r| pass.keep(r));
        let departed = pass.departed;
        for (key, zone, sku, arrived) in departed {
            state.counts.decrement((zone, sku));
            state.counters.departures += 1;
            state
                .departed
                .push((key.clone(), zone, sku, DepartureReason::Unseen));
            state.bleed.remove(&key);
            // A tag that arrived and left within the interval was absent at both flushes: no change.
            if !arrived {
                state
                    .placement_at_last_flush
                    .entry(key)
                    .or_insert(Some((zone, sku)));
            }
        }
        state.arrived_since_flush = 0;
        self.tags.shrink_if_sparse();
        self.candidates.size_for(self.tags.len());
        let slot = self.slot;
        let tags = &mut self.tags;
        state.bleed.retain(|key, b| {
            if !b.is_idle(slot) {
                return true;
            }
            if let Some(mut r) = tags.get_mut(key) {
                *r.flags_mut() &= !FLAG_BLEED;
            }
            false
        });
        shrink_if_sparse(&mut state.bleed);
    }

    /// Loads the tag state the store kept; only before the first read.
    ///
    /// Tags start with no reads since the restart, so their departure clocks start with coverage. The counts
    /// rebuilt here are the baseline of the next delta; tags whose SKU the current configuration classifies
    /// differently, or whose zone is gone, show up as changes at the next flush.
    pub fn restore<'a>(
        &mut self,
        tags: impl IntoIterator<Item = RestoredTag<'a>>,
    ) -> Result<RestoreSummary, EngineRestoreError> {
        if !self.tags.is_empty() || !self.candidates.is_empty() {
            return Err(EngineRestoreError::NotFresh {
                tags: self.tags.len(),
                candidates: self.candidates.len(),
            });
        }
        let tags = tags.into_iter();
        self.tags.reserve_short(tags.size_hint().0);
        let mut summary = RestoreSummary::default();
        let mut reclassify: Vec<(TagKey, u16, u32, u32)> = Vec::new();
        let mut sentinels: Vec<(TagKey, u16, u32)> = Vec::new();
        for t in tags {
            if t.epc.len() > crate::MAX_EPC_BYTES {
                return Err(EngineRestoreError::EpcTooLong {
                    epc: format!("{:X}", Hex(t.epc)),
                    bytes: t.epc.len(),
                });
            }
            let key = TagKey::new(t.epc);
            if self.tags.placement(&key).is_some() {
                return Err(EngineRestoreError::DuplicateTag {
                    epc: format!("{:X}", Hex(t.epc)),
                });
            }
            let zone = self.zone_or_retired(t.zone)?;
            let sku = self.skus.intern_name(t.sku);
            let now_sku = self.skus.classify(t.epc);
            if now_sku != sku {
                reclassify.push((key.clone(), zone, sku, now_sku));
            }
            if self.state.zones[usize::from(zone)].retired {
                summary.in_retired_zones += 1;
            }
            self.state.counts.increment((zone, sku));
            if self.trust.is_sentinel(t.epc) {
                // Counted before it was configured as a sentinel: it leaves at the next flush.
                sentinels.push((key, zone, sku));
                continue;
            }
            self.tags.insert(key, zone, sku, WindowStat::EMPTY, 0, 0);
            summary.tags += 1;
        }
        self.state.counts.mark_flushed();
        self.state.placement_at_last_flush.clear();
        for (key, zone, sku) in sentinels {
            self.state.counts.decrement((zone, sku));
            self.state
                .placement_at_last_flush
                .insert(key, Some((zone, sku)));
            summary.sentinels += 1;
        }
        for (key, zone, old, new) in reclassify {
            if let Some(mut r) = self.tags.get_mut(&key) {
                *r.sku_mut() = new;
            }
            self.state.counts.decrement((zone, old));
            self.state.counts.increment((zone, new));
            self.state
                .placement_at_last_flush
                .insert(key, Some((zone, old)));
            summary.reclassified += 1;
        }
        self.candidates.size_for(self.tags.len());
        Ok(summary)
    }

    /// The index of a zone by name, adding it as retired when the configuration no longer has it.
    fn zone_or_retired(&mut self, name: &str) -> Result<u16, EngineRestoreError> {
        if let Some(i) = self.state.zones.iter().position(|z| *z.name == *name) {
            // Cannot truncate: zone count is kept below NO_ZONE.
            return Ok(i as u16);
        }
        let max = usize::from(NO_ZONE);
        if self.state.zones.len() >= max {
            return Err(EngineRestoreError::TooManyZones { max });
        }
        // Only the name and the flag of a retired zone matter: its tags leave at the next flush.
        self.state.zones.push(Zone {
            name: name.into(),
            arrive_reads: 1,
            arrive_window: 0,
            depart_after: 0,
            move_hysteresis: 0,
            rssi_margin_cdbm: CLEAR_RSSI_MARGIN_CDBM,
            retired: true,
        });
        self.state.coverage.add_uncovered_zone();
        self.trust.add_uncovered_zone();
        self.state.counts.add_zone();
        Ok((self.state.zones.len() - 1) as u16)
    }

    /// The current counts and stale zones.
    pub fn snapshot(&self) -> Snapshot {
        let mut counts: Vec<CountCell> = self
            .state
            .counts
            .iter()
            .map(|((zone, sku), count)| CountCell {
                zone: self.state.zones[usize::from(zone)].name.clone(),
                sku: self.skus.name(sku).clone(),
                count,
            })
            .collect();
        counts.sort_unstable_by(|a, b| (&a.zone, &a.sku).cmp(&(&b.zone, &b.sku)));
        Snapshot {
            counts,
            stale_zones: self.stale_zones(),
        }
    }

    /// Every watched antenna's trust, in config order (times on the engine's timeline).
    pub fn antenna_trust(&self) -> Vec<AntennaTrust> {
        let zones = &self.state.zones;
        self.trust
            .antennas(|z| zones[usize::from(z)].name.clone())
            .collect()
    }

    /// Each covered zone's trust: antennas, healthy ones, last read, rate against baseline.
    pub fn zone_trust(&self) -> Vec<ZoneTrustReport> {
        let zones = &self.state.zones;
        self.trust.zones(|z| zones[usize::from(z)].name.clone())
    }

    /// Configured zones that no running reader covers, or with a suspect antenna, in config order.
    pub fn stale_zones(&self) -> Vec<Arc<str>> {
        self.state
            .zones
            .iter()
            .enumerate()
            .filter(|(i, z)| !z.retired && self.state.coverage.covered_since(*i as u16).is_none())
            .map(|(_, z)| z.name.clone())
            .collect()
    }

    /// The count of one (zone, SKU) by name.
    pub fn count(&self, zone: &str, sku: &str) -> u32 {
        let Some(z) = self.state.zones.iter().position(|z| *z.name == *zone) else {
            return 0;
        };
        let Some(s) = self.skus.lookup(sku) else {
            return 0;
        };
        self.state.counts.get((z as u16, s))
    }

    /// Tags present.
    pub fn tags_present(&self) -> usize {
        self.tags.len()
    }

    /// The diagnostic counters.
    pub fn counters(&self) -> EngineCounters {
        let mut c = self.state.counters.clone();
        c.candidates = self.candidates.len() as u64;
        c.candidate_cap = self.candidates.cap() as u64;
        c.candidates_evicted = self.candidates.evicted_total();
        c.present_per_zone = self
            .state
            .zones
            .iter()
            .zip(self.state.counts.per_zone())
            .map(|(z, &n)| (z.name.clone(), n))
            .collect();
        c
    }

    /// Candidates first read by `reader` that were evicted at the candidate cap since start.
    pub fn candidates_evicted(&self, reader: ReaderId) -> u64 {
        self.candidates.evicted(reader.0)
    }

    /// Heap bytes held by the tag table (the per-tag cost; side tables are for the rare cases).
    pub fn tag_table_bytes(&self) -> usize {
        self.tags.allocation_bytes()
    }

    /// Heap bytes held by the side tables: candidates, bleed and changed placements (keys longer
    /// than 128 bits and spilled read times not included). Large only between a burst of first
    /// sightings and the flush after it.
    pub fn side_table_bytes(&self) -> usize {
        self.candidates.allocation_size()
            + self.state.bleed.allocation_size()
            + self.state.placement_at_last_flush.allocation_size()
    }
}

/// A read of a present tag: the hot path when `zone` is the tag's zone and nothing bleeds onto it.
#[inline(always)]
fn present_read<K: ResidentKey>(
    state: &mut State,
    tag: &mut Resident<K>,
    zone: u16,
    slot: u32,
    rssi_cdbm: Option<i16>,
    now: u64,
) {
    tag.last_seen = now;
    if tag.zone == zone {
        tag.stat.record(slot, rssi_cdbm);
        if tag.flags & FLAG_BLEED == 0 {
            return;
        }
    }
    bleed_read(state, tag, zone, slot, rssi_cdbm, now);
}

/// A read of a present tag by another zone, or by its zone while others bleed onto it: the lead rule.
#[inline(never)]
fn bleed_read<K: ResidentKey>(
    state: &mut State,
    tag: &mut Resident<K>,
    zone: u16,
    slot: u32,
    rssi_cdbm: Option<i16>,
    now: u64,
) {
    let key = tag.key.tag_key();
    let bleed = state.bleed.entry(key.clone()).or_default();
    if zone != tag.zone {
        bleed.record(zone, slot, rssi_cdbm);
        tag.flags |= FLAG_BLEED;
    }
    let zones = &state.zones;
    let home_watched = state.coverage.watched_until(tag.zone);
    let decision = bleed.evaluate(
        tag.stat.window(slot),
        home_watched,
        slot,
        now,
        |z| {
            zones.get(usize::from(z)).map_or(
                LeadRule {
                    arrive_reads: u16::MAX,
                    rssi_margin_cdbm: i32::MAX,
                },
                |z| LeadRule {
                    arrive_reads: z.arrive_reads,
                    rssi_margin_cdbm: z.rssi_margin_cdbm,
                },
            )
        },
        |z| {
            zones
                .get(usize::from(z))
                .map_or(u64::MAX, |z| z.move_hysteresis)
        },
    );
    let Some(to) = decision else {
        return;
    };
    let from = tag.zone;
    tag.stat = bleed.swap_home(from, tag.stat, to);
    tag.zone = to;
    state.counts.decrement((from, tag.sku));
    state.counts.increment((to, tag.sku));
    state.counters.moves += 1;
    // A tag that arrived in this interval was absent at the last flush, whatever zone it moved from.
    if tag.flags & FLAG_ARRIVED == 0 {
        state
            .placement_at_last_flush
            .entry(key)
            .or_insert(Some((from, tag.sku)));
    }
}

/// Where a tag counts, by name.
fn placement(zones: &[Zone], skus: &SkuInterner, (zone, sku): (u16, u32)) -> Placement {
    Placement {
        zone: zones[usize::from(zone)].name.clone(),
        sku: skus.name(sku).clone(),
    }
}

/// Gives a side table's memory back once it is mostly empty (see [`is_sparse`]): after a cold start
/// or a delivery, the candidate table alone held tens of megabytes that nothing would reuse soon.
fn shrink_if_sparse<K: Eq + std::hash::Hash, V>(map: &mut hashbrown::HashMap<K, V>) {
    if is_sparse(map.len(), map.capacity()) {
        map.shrink_to(map.len() * 2);
    }
}

/// One flush's pass over the tag table (see [`Engine::flush`]).
struct SweepPass<'a, D> {
    /// Is a tag in `zone`, last seen at the given time, due to depart.
    due: D,
    zones: &'a [Zone],
    skus: &'a SkuInterner,
    /// Tags that departed: key, zone, SKU, and whether they had arrived in this interval.
    departed: Vec<(TagKey, u16, u32, bool)>,
    out: &'a mut TagChanges,
}

impl<D: Fn(u16, u64) -> bool> SweepPass<'_, D> {
    /// Decides one tag; false when it departs. Clears its arrival flag and reports its arrival.
    fn keep<K: ResidentKey>(&mut self, r: &mut Resident<K>) -> bool {
        let arrived = r.flags & FLAG_ARRIVED != 0;
        r.flags &= !FLAG_ARRIVED;
        if (self.due)(r.zone, r.last_seen) {
            self.departed
                .push((r.key.tag_key(), r.zone, r.sku, arrived));
            return false;
        }
        if arrived {
            // Keys come from EPCs that fit an `Epc` (reads carry one).
            if let Some(epc) = r.key.to_epc() {
                self.out.push(
                    TagChange {
                        epc,
                        placement: Some(placement(self.zones, self.skus, (r.zone, r.sku))),
                        departure: None,
                    },
                    || None,
                );
            }
        }
        true
    }
}

/// A flush's tag changes as they are found, and (only when `tail` asks) where each counted before.
///
/// Built at its final size where possible and sorted in place: a cold start's flush carries one
/// change per tag of the store (≈ 100 bytes each), and a second copy of that list would be the
/// largest allocation of the whole run.
struct TagChanges {
    changes: Vec<TagChange>,
    origins: Option<Vec<Option<Placement>>>,
}

impl TagChanges {
    fn with_capacity(capacity: usize, record_origins: bool) -> Self {
        Self {
            changes: Vec::with_capacity(capacity),
            origins: record_origins.then(|| Vec::with_capacity(capacity)),
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.changes.reserve(additional);
        if let Some(origins) = &mut self.origins {
            origins.reserve(additional);
        }
    }

    /// Adds a change; `origin` is only evaluated when origins are recorded.
    fn push(&mut self, change: TagChange, origin: impl FnOnce() -> Option<Placement>) {
        self.changes.push(change);
        if let Some(origins) = &mut self.origins {
            origins.push(origin());
        }
    }

    /// The changes sorted by EPC, and their origins in the same order (empty when not recorded).
    fn into_sorted(self) -> (Vec<TagChange>, Vec<Option<Placement>>) {
        let by_epc = |a: &TagChange, b: &TagChange| a.epc.as_bytes().cmp(b.epc.as_bytes());
        match self.origins {
            None => {
                let mut changes = self.changes;
                changes.sort_unstable_by(by_epc);
                (changes, Vec::new())
            }
            Some(origins) => {
                let mut pairs: Vec<(TagChange, Option<Placement>)> =
                    self.changes.into_iter().zip(origins).collect();
                pairs.sort_unstable_by(|a, b| by_epc(&a.0, &b.0));
                pairs.into_iter().unzip()
            }
        }
    }
}

/// The zone-trust watch of every mapped antenna, with its sentinels (none when trust is off).
fn zone_trust(config: &EngineConfig, antenna_zones: &[Vec<u16>], zone_count: usize) -> ZoneTrust {
    let Some(suspect_after) = config.suspect_after else {
        return ZoneTrust::default();
    };
    let mut watched = Vec::new();
    for (r, ports) in antenna_zones.iter().enumerate() {
        for (port, &zone) in ports.iter().enumerate() {
            if zone == NO_ZONE {
                continue;
            }
            // Both fit: readers are numbered by u16 ids and ports are u16.
            let (reader, antenna) = (ReaderId(r as u16), port as u16);
            watched.push(WatchedAntenna {
                reader,
                antenna,
                zone,
                sentinels: config
                    .sentinels
                    .iter()
                    .filter(|s| s.reader == reader && s.antenna == antenna)
                    .map(|s| s.epc.clone())
                    .collect(),
            });
        }
    }
    ZoneTrust::new(zone_count, watched, micros(suspect_after))
}
