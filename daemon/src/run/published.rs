//! What the engine task publishes for everyone else to read without asking it: the stock table
//! (after each committed batch) and a health summary (every flush tick), as `Arc`s in watch channels.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::control::{ReaderStatus, StockSnapshot};
use crate::store::{EpcisOutboxStats, OutboxStats};

use crate::engine::EngineCounters;
use crate::metrics::LatencyHistogram;

use super::clock::ClockStep;
use super::reader_board::ReaderTotals;

pub use super::held::DiskFull;

/// The daemon's health as of the last flush tick.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Every reader, in config order.
    pub readers: Vec<ReaderStatus>,
    /// Readers whose link is up.
    pub readers_up: u32,
    /// Readers whose link is not up.
    pub readers_down: u32,
    /// All readers' reads per second.
    pub reads_per_sec: f64,
    /// Tags counted in some zone.
    pub tags_present: u64,
    /// Zones no running reader covers, or with a suspect antenna.
    pub stale_zones: Vec<String>,
    /// Per zone with antennas: its trust (SPEC §10).
    pub zone_trust: Vec<tagtally_contract::ZoneTrustEntry>,
    /// The outbox after the last commit or ack.
    pub outbox: OutboxStats,
    /// The EPCIS outbox, with `[epcis] publish = true` only.
    pub epcis_outbox: Option<EpcisOutboxStats>,
    /// The last committed seq.
    pub last_seq: u64,
    /// Set while the state disk refuses writes for lack of space.
    pub disk_full: Option<DiskFull>,
    /// Every reader's counters since the start, in config order (as `readers`).
    pub reader_totals: Vec<ReaderTotals>,
    /// The engine's counters.
    pub engine: EngineCounters,
    /// How long state database commits took.
    pub commit_latency: LatencyHistogram,
    /// Wall-clock steps seen (published times re-anchored) since the start.
    pub clock_steps: u64,
    /// The last of them.
    pub last_clock_step: Option<ClockStep>,
}

/// The receiving ends, cloned into the control backend and the watchdog.
#[derive(Debug, Clone)]
pub struct Published {
    /// The latest stock table, with the seq it includes.
    pub stock: watch::Receiver<Arc<StockSnapshot>>,
    /// The latest health summary.
    pub health: watch::Receiver<Arc<Health>>,
    /// Liveness of the engine loop.
    pub progress: Arc<Progress>,
}

/// A heartbeat the engine loop bumps at every flush tick; the watchdog reads its age.
#[derive(Debug)]
pub struct Progress {
    origin: Instant,
    engine_beat_ms: AtomicU64,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            origin: Instant::now(),
            engine_beat_ms: AtomicU64::new(0),
        }
    }
}

impl Progress {
    /// The engine loop is alive now.
    pub fn engine_beat(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.engine_beat_ms.store(ms, Ordering::Relaxed);
    }

    /// Time since the engine loop last beat.
    pub fn engine_age(&self) -> std::time::Duration {
        let beat = std::time::Duration::from_millis(self.engine_beat_ms.load(Ordering::Relaxed));
        self.origin.elapsed().saturating_sub(beat)
    }
}
