//! What `tagtally bench store` reports (one JSON document with `--json`): the daemon's CPU and memory, the read rate the emulators produced, deltas, latency, the seq chain and the machine.

use serde::Serialize;

use super::latency::Summary;
use crate::bench::machine::Machine;

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct StoreReport {
    /// What was emulated and how the daemon was configured.
    pub setup: SetupFacts,
    /// The cold start before the measuring window.
    pub warmup: WarmupFacts,
    /// Length of the steady-state measuring window, in seconds.
    pub window_secs: f64,
    /// The daemon process.
    pub daemon: DaemonFacts,
    /// Reads the emulated readers put on the wire during the window.
    pub reads: ReadFacts,
    /// Delta messages the subscriber received.
    pub deltas: DeltaFacts,
    /// Read → delta at the subscriber, for probes completed in the window.
    pub latency: LatencyFacts,
    /// The seq chain over the whole run.
    pub seq: SeqFacts,
    /// Where it ran.
    pub machine: Machine,
    /// Load average (1, 5, 15 min) when the window started and ended.
    pub load_average: [Option<[f64; 3]>; 2],
    /// CPU of this benchmark process (emulators, subscriber and the embedded broker) over the
    /// window, in % of one core: what the daemon competed with on this machine.
    pub bench_process_cpu_percent: f64,
}

/// What was emulated and how the daemon was configured.
#[derive(Clone, Debug, Serialize)]
pub struct SetupFacts {
    /// Emulated LLRP readers.
    pub readers: u16,
    /// Tags of the population (probes not included).
    pub tags: u32,
    /// Population reads per second asked of each reader.
    pub target_reads_per_sec_per_reader: f64,
    /// Inventory rounds per second of each emulated reader.
    pub inventory_rounds_per_sec: f64,
    /// Per-round read probability of a population tag.
    pub read_probability: f64,
    /// Time between two probe tags, in milliseconds.
    pub probe_every_ms: u64,
    /// `embedded rumqttd` or the broker given.
    pub broker: String,
    /// The daemon's flush interval (the config default), in milliseconds.
    pub flush_interval_ms: u64,
    /// `arrive-reads`, `arrive-window` and `depart-after` of the population's zones, and the door's `depart-after`.
    pub presence: String,
}

/// The cold start.
#[derive(Clone, Debug, Serialize)]
pub struct WarmupFacts {
    /// From starting the daemon until every population tag was present (or the warm-up limit).
    pub secs: f64,
    /// Tags present when the window started (population and probes).
    pub tags_present: u64,
    /// True when every population tag had arrived before the window.
    pub all_present: bool,
}

/// The daemon process.
#[derive(Clone, Debug, Serialize)]
pub struct DaemonFacts {
    /// CPU time (user + system) over the window, in % of one core.
    pub cpu_percent_of_one_core: f64,
    /// The same in seconds.
    pub cpu_secs: f64,
    /// `VmHWM` at the end of the window: the peak over the whole run, cold start included.
    pub peak_rss_bytes: Option<u64>,
    /// The largest `VmRSS` sampled (every second) during the window.
    pub steady_rss_bytes: Option<u64>,
    /// `VmRSS` when the window started.
    pub rss_at_window_start: Option<u64>,
    /// `VmRSS` when the window ended.
    pub rss_at_window_end: Option<u64>,
    /// `RssAnon` when the window ended: the resident set without the mapped binary and libraries.
    pub anon_rss_at_window_end: Option<u64>,
    /// Reads per second as the daemon's `status` saw them at the end of the window.
    pub status_reads_per_sec: Option<f64>,
    /// Tags present at the end of the window.
    pub tags_present_at_end: Option<u64>,
    /// Polls of its control socket (`status`) that got no answer after its readers were up.
    pub status_failures: u64,
    /// How it ended: its exit status after SIGTERM.
    pub exit: String,
}

/// Reads put on the wire by the emulators during the window.
#[derive(Clone, Debug, Serialize)]
pub struct ReadFacts {
    /// All readers together, per second.
    pub per_sec: f64,
    /// The slowest reader, per second.
    pub per_reader_min: f64,
    /// The fastest reader, per second.
    pub per_reader_max: f64,
    /// Reads in the window.
    pub in_window: u64,
    /// Reads over the whole run.
    pub total: u64,
    /// Inventory rounds the emulators had to skip (machine too slow for the asked rate).
    pub rounds_skipped: u64,
    /// Reads dropped by a full emulator report buffer (daemon not keeping up).
    pub overflowed: u64,
}

/// Delta messages received.
#[derive(Clone, Debug, Serialize)]
pub struct DeltaFacts {
    /// Received during the window (duplicates included).
    pub in_window: u64,
    /// The same per second.
    pub per_sec: f64,
    /// (zone, SKU) changes they carried, per second.
    pub changes_per_sec: f64,
    /// Received over the whole run.
    pub total: u64,
    /// Snapshot messages over the whole run.
    pub snapshots: u64,
    /// Delta messages that did not parse.
    pub invalid: u64,
}

/// Latency facts.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyFacts {
    /// Percentiles of read → delta received, per probe.
    #[serde(flatten)]
    pub summary: Summary,
    /// The budget: flush interval + 50 ms, in milliseconds.
    pub budget_p99_ms: f64,
    /// Probes completed in the window whose arrival never reached the subscriber.
    pub unmatched: usize,
    /// Arrivals received before their completing read was written (should be 0).
    pub inverted: usize,
}

/// The seq chain.
#[derive(Clone, Debug, Serialize)]
pub struct SeqFacts {
    /// Lowest seq received.
    pub first: u64,
    /// Highest seq received.
    pub last: u64,
    /// The daemon's last committed seq when the window ended (from `stock`).
    pub committed_at_window_end: Option<u64>,
    /// Seqs missing from 1 to the highest seq committed or received.
    pub gaps: u64,
    /// The first missing seqs, if any.
    pub missing: Vec<u64>,
    /// Deltas received more than once (at-least-once delivery).
    pub duplicates: u64,
    /// Distinct epochs seen (1 unless the state was wiped).
    pub epochs: usize,
}
