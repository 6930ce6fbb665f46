//! `tagtally bench store`: the full-load run of SPEC §8 — the real daemon as a child process, fed by emulated LLRP readers over loopback TCP, publishing to an MQTT broker, with HQ's subscriber recording every delta.
//!
//! # What runs where
//!
//! In this process: the emulated readers ([`LlrpSim`], one TCP port each, see [`plan`]), the
//! embedded broker (rumqttd, with the `demo-broker` feature) unless `--broker` names one, and the
//! subscriber on its own thread ([`subscriber`]). In a child process: `tagtally run -c CONFIG`,
//! this very binary, with a generated config ([`daemon_config`]) and a fresh state database in a
//! temporary directory. Only the child is measured.
//!
//! # Phases
//!
//! 1. **Cold start.** The daemon connects to every reader; every population tag is first sighted,
//!    then arrives (`arrive-reads` reads within `arrive-window`). The run waits, polling the
//!    daemon's `status`, until every population tag is present or `--warmup` has passed, then
//!    lets two flush intervals go by so the last arrivals are committed and published.
//! 2. **Window** (`--duration`). Daemon CPU is `utime + stime` of `/proc/<pid>/stat` at both
//!    ends ([`process_cpu`](crate::bench::process_cpu)); `VmRSS` is sampled every second (the
//!    steady RSS is the largest sample); `VmHWM` at the end is the peak of the whole run, cold
//!    start included. Reads per second are what the emulators wrote (their `reads_sent`
//!    counters), deltas and changes per second what the subscriber received.
//! 3. **Stop.** SIGTERM; the daemon drains its outbox and exits. The subscriber waits (bounded)
//!    for the seq the daemon had committed at the end of the window; then the seq chain is checked
//!    for gaps from seq 1 (the state database is new, so its epoch starts at 1).
//!
//! Latency is measured on probe tags ([`latency`]): each probe's arrival-completing read, stamped
//! by the emulator when written to the daemon's socket, against the first delta carrying the
//! probe's arrival, stamped by the subscriber on receipt.

pub mod daemon_config;
pub mod daemon_process;
pub mod latency;
pub mod plan;
pub mod report;
pub mod scratch_dir;
pub mod subscriber;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tagtally_config::HostPort;
use tagtally_sim::llrp::{ProbeRead, ProbeTap};
use tagtally_sim::LlrpSim;
use thiserror::Error;
use tokio::sync::mpsc;

use crate::bench::machine::{load_average, Machine};
use crate::bench::process_cpu::process_cpu_time;
use crate::bench::rss::{anon_rss_bytes_of, peak_rss_bytes_of, rss_bytes_of};
use tagtally::control::{ControlClient, Status, StockFilter};
use tagtally::exit;

use daemon_config::{ARRIVE_READS, ARRIVE_WINDOW, DEPART_AFTER, DOOR, DOOR_DEPART_AFTER};
use daemon_process::DaemonProcess;
use plan::{PlanError, PlanSetup, PROBE_DWELL};
use report::{
    DaemonFacts, DeltaFacts, LatencyFacts, ReadFacts, SeqFacts, SetupFacts, StoreReport,
    WarmupFacts,
};
use scratch_dir::ScratchDir;
use subscriber::{Recorded, Subscriber, SubscriberError};

/// How long the daemon may take to open its control socket and bring every reader up.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the daemon may take to stop after SIGTERM (it drains its outbox for up to 10 s).
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How long the subscriber may take to receive the last committed delta after the stop.
const LAST_DELTA_TIMEOUT: Duration = Duration::from_secs(15);
/// How often the daemon's status and memory are polled.
const POLL: Duration = Duration::from_millis(500);
/// Probes are scheduled this far beyond the longest possible run.
const PROBE_MARGIN: Duration = Duration::from_secs(60);
/// At most this many missing seqs are listed.
const MISSING_LISTED: usize = 20;

/// What to run.
#[derive(Clone, Debug)]
pub struct StoreSetup {
    /// Emulated readers.
    pub readers: u16,
    /// Population tags over all readers.
    pub tags: u32,
    /// Population reads per second per reader.
    pub rate: f64,
    /// Inventory rounds per second per reader.
    pub rounds_per_sec: f64,
    /// The measuring window.
    pub duration: Duration,
    /// The longest cold start to wait for.
    pub warmup: Duration,
    /// Time between two probe tags.
    pub probe_every: Duration,
    /// An external broker; `None` starts the embedded one.
    pub broker: Option<HostPort>,
    /// The `tagtally` binary to run as the daemon.
    pub exe: PathBuf,
    /// Keep the temporary directory (config, database, daemon log).
    pub keep_dir: bool,
}

/// Why the run could not be measured.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store cannot be emulated as asked.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// No broker given and none built in.
    #[error("this build has no embedded broker (built without the demo-broker feature): pass --broker mqtt://HOST:PORT")]
    NoEmbeddedBroker,
    /// The embedded broker did not start.
    #[error("embedded broker: {0}")]
    Broker(String),
    /// An emulated reader could not listen.
    #[error("cannot start emulated reader {reader}: {source}")]
    Emulator {
        reader: u16,
        #[source]
        source: std::io::Error,
    },
    /// The subscriber did not get going.
    #[error(transparent)]
    Subscriber(#[from] SubscriberError),
    /// The temporary directory or a file in it.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The daemon did not start, or died.
    #[error("the daemon {what} (log {log}):\n{tail}")]
    Daemon {
        what: String,
        log: PathBuf,
        tail: String,
    },
}

impl StoreError {
    /// SPEC §5 exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            StoreError::Plan(_) => exit::USAGE,
            StoreError::Emulator { .. } | StoreError::Io { .. } => exit::IO_ERR,
            StoreError::NoEmbeddedBroker
            | StoreError::Broker(_)
            | StoreError::Subscriber(_)
            | StoreError::Daemon { .. } => exit::UNAVAILABLE,
        }
    }
}

/// A sample of everything counted at one instant.
#[derive(Clone, Debug)]
struct Mark {
    at: Instant,
    daemon_cpu: Option<Duration>,
    bench_cpu: Option<Duration>,
    reads_per_reader: Vec<u64>,
    rounds_skipped: u64,
    reads_overflowed: u64,
    rss: Option<u64>,
    load: Option<[f64; 3]>,
}

fn mark(pid: u32, sims: &[LlrpSim]) -> Mark {
    Mark {
        at: Instant::now(),
        daemon_cpu: process_cpu_time(pid),
        bench_cpu: process_cpu_time(std::process::id()),
        reads_per_reader: sims.iter().map(|s| s.stats().reads_sent).collect(),
        rounds_skipped: sims.iter().map(|s| s.stats().rounds_skipped).sum(),
        reads_overflowed: sims.iter().map(|s| s.stats().reads_overflowed).sum(),
        rss: rss_bytes_of(pid),
        load: load_average(),
    }
}

/// The daemon's status over the control socket, or why it did not answer.
async fn status(socket: &Path) -> Result<Status, String> {
    let socket = socket.to_path_buf();
    tokio::task::spawn_blocking(move || {
        ControlClient::connect(&socket)
            .and_then(|mut client| client.status())
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()))
}

/// The seq of the last delta the daemon committed and published to its control socket.
async fn committed_seq(socket: &Path) -> Option<u64> {
    let socket = socket.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let filter = StockFilter {
            zone: Some(DOOR.to_owned()),
            sku: None,
        };
        Some(
            ControlClient::connect(&socket)
                .ok()?
                .stock(&filter)
                .ok()?
                .seq,
        )
    })
    .await
    .ok()
    .flatten()
}

#[cfg(feature = "demo-broker")]
async fn embedded_broker() -> Result<HostPort, StoreError> {
    let addr = tokio::task::spawn_blocking(crate::demo::broker::start)
        .await
        .map_err(|e| StoreError::Broker(e.to_string()))?
        .map_err(|e| StoreError::Broker(e.to_string()))?;
    Ok(HostPort {
        host: addr.ip().to_string(),
        port: addr.port(),
    })
}

#[cfg(not(feature = "demo-broker"))]
async fn embedded_broker() -> Result<HostPort, StoreError> {
    Err(StoreError::NoEmbeddedBroker)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs the whole measurement (see the module doc); `progress` gets one line per phase.
pub async fn run(setup: &StoreSetup, progress: impl Fn(&str)) -> Result<StoreReport, StoreError> {
    let longest = setup.warmup + setup.duration + PROBE_MARGIN;
    let probes = u32::try_from(longest.as_nanos() / setup.probe_every.as_nanos().max(1))
        .unwrap_or(u32::MAX)
        .min(plan::MAX_PROBES);
    let plan = plan::plan(&PlanSetup {
        readers: setup.readers,
        tags: setup.tags,
        rate_per_reader: setup.rate,
        rounds_per_sec: setup.rounds_per_sec,
        probe_every: setup.probe_every,
        probes,
    })?;
    let (broker, broker_name) = match &setup.broker {
        Some(broker) => (broker.clone(), format!("mqtt://{broker}")),
        None => {
            let broker = embedded_broker().await?;
            let name = format!("embedded rumqttd on {broker}");
            (broker, name)
        }
    };
    let (tap_tx, mut tap_rx) = mpsc::unbounded_channel::<ProbeRead>();
    let mut sims = Vec::with_capacity(plan.scenarios.len());
    for (reader, scenario) in (0u16..).zip(plan.scenarios.iter().cloned()) {
        let sim = LlrpSim::start("127.0.0.1:0", scenario)
            .await
            .map_err(|source| StoreError::Emulator { reader, source })?;
        let epcs: Vec<_> = plan
            .probes
            .iter()
            .filter(|p| p.reader == reader)
            .map(|p| p.epc)
            .collect();
        sim.tap_probes(ProbeTap::new(epcs, tap_tx.clone()));
        sims.push(sim);
    }
    drop(tap_tx);
    let probe_skus: HashMap<String, usize> = plan
        .probes
        .iter()
        .enumerate()
        .map(|(i, p)| (p.sku.clone(), i))
        .collect();
    let subscriber_broker = broker.clone();
    let subscriber =
        tokio::task::spawn_blocking(move || Subscriber::start(&subscriber_broker, probe_skus))
            .await
            .map_err(|e| StoreError::Broker(e.to_string()))??;

    let mut dir = ScratchDir::create().map_err(io_error(&std::env::temp_dir()))?;
    if setup.keep_dir {
        dir.keep();
    }
    let config_path = dir.path().join("tagtally.toml");
    let addrs: Vec<SocketAddr> = sims.iter().map(LlrpSim::addr).collect();
    let text = daemon_config::config_text(dir.path(), &broker.to_string(), &addrs);
    std::fs::write(&config_path, text).map_err(io_error(&config_path))?;
    let socket = dir.path().join("control.sock");
    let log = dir.path().join("daemon.log");
    let mut daemon =
        DaemonProcess::spawn(&setup.exe, &config_path, &log).map_err(io_error(&setup.exe))?;
    let pid = daemon.pid();
    let spawned = Instant::now();
    progress(&format!(
        "daemon pid {pid} started; {} readers × {} tags, {} reads/s each; broker {broker_name}",
        setup.readers,
        setup.tags / u32::from(setup.readers.max(1)),
        setup.rate
    ));

    let died = |daemon: &mut DaemonProcess, what: &str| {
        let status = daemon.exited();
        let mut keep = dir_keep_hint(daemon.log_path());
        keep.push_str(&daemon.log_tail(4_000));
        StoreError::Daemon {
            what: format!(
                "{what}{}",
                status.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
            log: daemon.log_path().to_path_buf(),
            tail: keep,
        }
    };

    // Polls of the control socket that got no answer after the readers were up.
    let mut status_failures = 0u64;
    // Readers up.
    let deadline = spawned + START_TIMEOUT;
    loop {
        if daemon.exited().is_some() {
            dir.keep();
            return Err(died(&mut daemon, "exited during start-up"));
        }
        if let Ok(s) = status(&socket).await {
            if s.readers_up >= u32::from(setup.readers) {
                break;
            }
        }
        if Instant::now() >= deadline {
            dir.keep();
            return Err(died(
                &mut daemon,
                &format!(
                    "did not bring all {} readers up within {START_TIMEOUT:?}",
                    setup.readers
                ),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    progress(&format!(
        "all readers up after {:.1} s; waiting for every tag to arrive (at most {:?})",
        spawned.elapsed().as_secs_f64(),
        setup.warmup
    ));

    // Cold start: until every population tag is present.
    let warmup_deadline = spawned + setup.warmup;
    let mut present = 0;
    let mut last_report = Instant::now();
    loop {
        if daemon.exited().is_some() {
            dir.keep();
            return Err(died(&mut daemon, "exited during the cold start"));
        }
        let status_error = match status(&socket).await {
            Ok(s) => {
                present = s.tags_present;
                None
            }
            Err(error) => {
                status_failures += 1;
                Some(error)
            }
        };
        if present >= u64::from(setup.tags) || Instant::now() >= warmup_deadline {
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            progress(&format!(
                "  {:.0} s: {present} of {} tags present{}",
                spawned.elapsed().as_secs_f64(),
                setup.tags,
                status_error
                    .as_deref()
                    .map(|e| format!(" (status does not answer: {e})"))
                    .unwrap_or_default()
            ));
            last_report = Instant::now();
        }
        tokio::time::sleep(POLL).await;
    }
    let warmup_secs = spawned.elapsed().as_secs_f64();
    let all_present = present >= u64::from(setup.tags);
    // Let the last arrivals' flush commit and publish before the window opens.
    tokio::time::sleep(tagtally_config::DEFAULT_FLUSH_INTERVAL * 2).await;
    let tags_present = status(&socket).await.map_or(present, |s| s.tags_present);
    progress(&format!(
        "cold start over after {warmup_secs:.1} s ({tags_present} tags present{}); measuring for {:?}",
        if all_present { "" } else { ", NOT all arrived" },
        setup.duration
    ));

    // The window.
    let start = mark(pid, &sims);
    let mut steady_rss = start.rss;
    let mut sampler = tokio::time::interval(Duration::from_secs(1));
    sampler.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let window_end = start.at + setup.duration;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(window_end.into()) => break,
            _ = sampler.tick() => {
                if daemon.exited().is_some() {
                    dir.keep();
                    return Err(died(&mut daemon, "exited during the measuring window"));
                }
                steady_rss = steady_rss.max(rss_bytes_of(pid));
            }
        }
    }
    let end = mark(pid, &sims);
    let anon_rss = anon_rss_bytes_of(pid);
    steady_rss = steady_rss.max(end.rss);
    // The kernel syncs its per-thread RSS counters lazily; never report a peak below a sample.
    let peak_rss = peak_rss_bytes_of(pid).max(steady_rss);
    let end_status = status(&socket).await;
    if let Err(error) = &end_status {
        status_failures += 1;
        progress(&format!(
            "status does not answer at the end of the window: {error}"
        ));
    }
    let end_status = end_status.ok();
    let committed = committed_seq(&socket).await;

    // Stop, then collect.
    progress("stopping the daemon (SIGTERM)");
    let (exit_status, clean) = tokio::task::block_in_place(|| daemon.stop(STOP_GRACE));
    let exit = match (exit_status, clean) {
        (Some(s), true) if s.success() => "stopped cleanly after SIGTERM".to_owned(),
        (Some(s), true) => format!("exited with {s} after SIGTERM"),
        (None, true) => "ended with an unknown status".to_owned(),
        (_, false) => format!("did not stop within {STOP_GRACE:?} of SIGTERM; killed"),
    };
    let recorded = tokio::task::spawn_blocking(move || {
        if let Some(seq) = committed {
            subscriber.wait_for_seq(seq, LAST_DELTA_TIMEOUT);
        }
        subscriber.stop()
    })
    .await
    .map_err(|e| StoreError::Broker(e.to_string()))?;
    drop(sims);
    let mut probe_reads = Vec::new();
    while let Ok(read) = tap_rx.try_recv() {
        probe_reads.push(read);
    }

    let window = end.at.saturating_duration_since(start.at).as_secs_f64();
    let per_sec = |n: u64| if window > 0.0 { n as f64 / window } else { 0.0 };
    let cpu_percent = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) if window > 0.0 => b.saturating_sub(a).as_secs_f64() / window * 100.0,
        _ => 0.0,
    };
    let reader_reads: Vec<u64> = start
        .reads_per_reader
        .iter()
        .zip(&end.reads_per_reader)
        .map(|(a, b)| b - a)
        .collect();
    let in_window = reader_reads.iter().sum::<u64>();
    let latency = {
        let epcs: Vec<_> = plan.probes.iter().map(|p| p.epc).collect();
        let samples = latency::samples(
            &epcs,
            &probe_reads,
            &recorded.probe_changes,
            usize::from(ARRIVE_READS),
            (start.at, end.at),
        );
        LatencyFacts {
            summary: latency::summary(&samples.latencies),
            budget_p99_ms: (tagtally_config::DEFAULT_FLUSH_INTERVAL.as_secs_f64() * 1e3) + 50.0,
            unmatched: samples.unmatched,
            inverted: samples.inverted,
        }
    };
    let deltas_in_window: Vec<_> = recorded
        .deltas
        .iter()
        .filter(|d| d.received >= start.at && d.received < end.at)
        .collect();
    Ok(StoreReport {
        setup: SetupFacts {
            readers: setup.readers,
            tags: setup.tags,
            target_reads_per_sec_per_reader: setup.rate,
            inventory_rounds_per_sec: setup.rounds_per_sec,
            read_probability: plan.read_probability,
            probe_every_ms: setup.probe_every.as_millis() as u64,
            broker: broker_name,
            flush_interval_ms: tagtally_config::DEFAULT_FLUSH_INTERVAL.as_millis() as u64,
            presence: format!(
                "arrive-reads {ARRIVE_READS}, arrive-window {ARRIVE_WINDOW}, depart-after {DEPART_AFTER}; \
                 door: depart-after {DOOR_DEPART_AFTER}, probes dwell {PROBE_DWELL:?}"
            ),
        },
        warmup: WarmupFacts {
            secs: warmup_secs,
            tags_present,
            all_present,
        },
        window_secs: window,
        daemon: DaemonFacts {
            cpu_percent_of_one_core: cpu_percent(start.daemon_cpu, end.daemon_cpu),
            cpu_secs: match (start.daemon_cpu, end.daemon_cpu) {
                (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64(),
                _ => 0.0,
            },
            peak_rss_bytes: peak_rss,
            steady_rss_bytes: steady_rss,
            rss_at_window_start: start.rss,
            rss_at_window_end: end.rss,
            anon_rss_at_window_end: anon_rss,
            status_reads_per_sec: end_status.as_ref().map(|s| s.reads_per_sec),
            tags_present_at_end: end_status.as_ref().map(|s| s.tags_present),
            status_failures,
            exit,
        },
        reads: ReadFacts {
            per_sec: per_sec(in_window),
            per_reader_min: reader_reads.iter().copied().min().map_or(0.0, per_sec),
            per_reader_max: reader_reads.iter().copied().max().map_or(0.0, per_sec),
            in_window,
            total: end.reads_per_reader.iter().sum(),
            rounds_skipped: end.rounds_skipped,
            overflowed: end.reads_overflowed,
        },
        deltas: DeltaFacts {
            in_window: deltas_in_window.len() as u64,
            per_sec: per_sec(deltas_in_window.len() as u64),
            changes_per_sec: per_sec(deltas_in_window.iter().map(|d| d.changes as u64).sum()),
            total: recorded.deltas.len() as u64,
            snapshots: recorded.snapshots,
            invalid: recorded.invalid,
        },
        latency,
        seq: seq_facts(&recorded, committed),
        machine: Machine::read(),
        load_average: [start.load, end.load],
        bench_process_cpu_percent: cpu_percent(start.bench_cpu, end.bench_cpu),
    })
}

fn dir_keep_hint(log: &Path) -> String {
    format!(
        "(the run's directory is kept: {})\n",
        log.parent().unwrap_or(log).display()
    )
}

/// The seq chain: every seq from 1 to the highest committed or received must have arrived.
fn seq_facts(recorded: &Recorded, committed: Option<u64>) -> SeqFacts {
    let seqs: BTreeSet<u64> = recorded.deltas.iter().map(|d| d.seq).collect();
    let last = seqs.last().copied().unwrap_or(0);
    let top = last.max(committed.unwrap_or(0));
    let missing: Vec<u64> = (1..=top).filter(|s| !seqs.contains(s)).collect();
    SeqFacts {
        first: seqs.first().copied().unwrap_or(0),
        last,
        committed_at_window_end: committed,
        gaps: missing.len() as u64,
        missing: missing.into_iter().take(MISSING_LISTED).collect(),
        duplicates: (recorded.deltas.len() - seqs.len()) as u64,
        epochs: recorded.epochs.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::subscriber::DeltaSeen;
    use super::*;

    #[test]
    fn the_seq_chain_counts_holes_from_one_and_up_to_the_committed_seq() {
        let at = Instant::now();
        let seen = |seq| DeltaSeen {
            seq,
            received: at,
            changes: 1,
        };
        let recorded = Recorded {
            deltas: vec![seen(1), seen(2), seen(2), seen(4)],
            ..Recorded::default()
        };
        let facts = seq_facts(&recorded, Some(6));
        assert_eq!((facts.first, facts.last, facts.gaps), (1, 4, 3));
        assert_eq!(facts.missing, vec![3, 5, 6]);
        assert_eq!(facts.duplicates, 1);
        let whole = Recorded {
            deltas: (1..=5).map(seen).collect(),
            ..Recorded::default()
        };
        assert_eq!(seq_facts(&whole, Some(5)).gaps, 0);
    }
}
