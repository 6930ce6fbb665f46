//! Diagnostic counters of the engine (monotonic since start, except the gauges), for `tagtally status` and metrics.

/// What the engine has done since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineCounters {
    /// Reads handed to the engine.
    pub reads: u64,
    /// Reads from an antenna that maps to no zone.
    pub unmapped_reads: u64,
    /// Reads of tags that never arrived: ghosts, corrupted EPCs, tags passing by (counted when dropped
    /// or evicted).
    pub stray_reads: u64,
    /// Reads of sentinel tags (never stock; they prove an antenna reads).
    pub sentinel_reads: u64,
    /// Tags that started counting in a zone.
    pub arrivals: u64,
    /// Tags that left the count, for any reason.
    pub departures: u64,
    /// Of those, tags sold at the till (`cmd/sale`, `tagtally sale`).
    pub departures_sale: u64,
    /// Of those, tags a count did not find in their zone.
    pub departures_count: u64,
    /// Sold EPCs that were not in stock (sold twice, never arrived, unknown): nothing changed.
    pub sales_not_present: u64,
    /// Tags that moved from one zone to another.
    pub moves: u64,
    /// Gauge: tags seen but not (yet) counted.
    pub candidates: u64,
    /// Gauge: the most candidates held at once (see `candidates.rs`).
    pub candidate_cap: u64,
    /// Candidates evicted at the cap to make room (their reads are also stray reads).
    pub candidates_evicted: u64,
    /// Gauge: tags present, per zone, as (zone name, count) in config order.
    pub present_per_zone: Vec<(std::sync::Arc<str>, u32)>,
}
