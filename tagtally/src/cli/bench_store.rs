//! `tagtally bench store`: the full-load run of SPEC §8 (16 emulated LLRP readers at 1 200 reads/s over 200 000 tags by default) against the real daemon, and its report.
//!
//! Progress goes to stderr, the report to stdout (one JSON document with `--json`). Exit codes:
//! 2 for settings the emulator cannot meet, 69 when the broker, the subscriber or the daemon is
//! unavailable (the daemon's log is kept and named), 74 for local I/O.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tagtally::exit;
use tagtally_config::BrokerUrl;
use tagtally_tooling::bench::store::report::StoreReport;
use tagtally_tooling::bench::store::{self, StoreSetup};

use super::daemon::{json_line, print};
use super::human::human_bytes;
use super::table::{Align, Table};

/// Arguments of `tagtally bench store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Emulated LLRP readers.
    #[arg(long, value_name = "N", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub readers: u16,
    /// Tags in the store, split evenly over the readers.
    #[arg(long, value_name = "N", default_value_t = 200_000,
          value_parser = clap::value_parser!(u32).range(1..=2_000_000))]
    pub tags: u32,
    /// Reads per second each reader produces (on average; tags are read at random).
    #[arg(long, value_name = "READS", default_value_t = 1200.0)]
    pub rate: f64,
    /// Inventory rounds per second of each emulated reader. Not a whole number by default, so the
    /// rounds (and the probe reads the latency is timed from) drift across the daemon's 1 s flush
    /// phase instead of landing at the same few offsets all run long.
    #[arg(long, value_name = "ROUNDS", default_value_t = 9.7)]
    pub rounds: f64,
    /// Length of the steady-state measuring window.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Longest cold start to wait for before measuring (the run starts measuring as soon as every tag is present).
    #[arg(long, value_name = "DURATION", default_value = "240s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// Time between two probe tags (the latency samples, and the store's churn).
    #[arg(long, value_name = "DURATION", default_value = "250ms", value_parser = humantime::parse_duration)]
    pub probe_every: Duration,
    /// Use this MQTT broker (mqtt://HOST[:PORT], e.g. a local mosquitto) instead of the embedded one.
    #[arg(long, value_name = "URL")]
    pub broker: Option<String>,
    /// The daemon to measure: a `tagtally` binary, e.g. the gateway build (`--no-default-features`,
    /// which has no `bench` of its own); default this binary.
    #[arg(long, value_name = "PATH")]
    pub daemon: Option<PathBuf>,
    /// Keep the run's directory (config, state database, daemon log) and print where it is.
    #[arg(long)]
    pub keep_dir: bool,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `tagtally bench store`.
pub fn run(args: &StoreArgs) -> ExitCode {
    match store_command(args) {
        Ok(code) | Err(code) => code,
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("tagtally: {message}");
    exit::code(exit::USAGE)
}

fn store_command(args: &StoreArgs) -> Result<ExitCode, ExitCode> {
    if args.duration.is_zero() || args.probe_every.is_zero() {
        return Err(usage(
            "--duration and --probe-every must be longer than zero",
        ));
    }
    let broker = match &args.broker {
        None => None,
        Some(url) => {
            let url = BrokerUrl::parse(url).map_err(|e| usage(&format!("--broker: {e}")))?;
            if url.tls {
                return Err(usage(
                    "--broker: the benchmark's subscriber speaks plain mqtt:// only",
                ));
            }
            Some(url.address)
        }
    };
    let exe = match &args.daemon {
        Some(path) => path.clone(),
        None => std::env::current_exe().map_err(|e| {
            eprintln!("tagtally: cannot find this binary to run the daemon: {e}");
            exit::code(exit::IO_ERR)
        })?,
    };
    let setup = StoreSetup {
        readers: args.readers,
        tags: args.tags,
        rate: args.rate,
        rounds_per_sec: args.rounds,
        duration: args.duration,
        warmup: args.warmup,
        probe_every: args.probe_every,
        broker,
        exe,
        keep_dir: args.keep_dir,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("tagtally: cannot start the async runtime: {e}");
            exit::code(exit::IO_ERR)
        })?;
    let result = runtime.block_on(store::run(&setup, |line| eprintln!("bench store: {line}")));
    runtime.shutdown_timeout(Duration::from_secs(1));
    let report = result.map_err(|error| {
        eprintln!("tagtally bench store: {error}");
        exit::code(error.exit_code())
    })?;
    let text = if args.json {
        json_line(&report)
    } else {
        human_report(&report)
    };
    print(&text)?;
    Ok(exit::code(exit::OK))
}

fn bytes(value: Option<u64>) -> String {
    value.map_or_else(
        || "unknown".to_owned(),
        |b| format!("{} ({b} B)", human_bytes(b)),
    )
}

fn human_report(r: &StoreReport) -> String {
    let s = &r.setup;
    let mut out = format!(
        "bench store: {} emulated LLRP readers × {} reads/s over {} tags ({} rounds/s, read probability {:.4}), broker {}\n\
         presence: {}; flush-interval {} ms\n\
         cold start: {:.1} s until {} tags present{}; window {:.1} s\n\n",
        s.readers,
        s.target_reads_per_sec_per_reader,
        s.tags,
        s.inventory_rounds_per_sec,
        s.read_probability,
        s.broker,
        s.presence,
        s.flush_interval_ms,
        r.warmup.secs,
        r.warmup.tags_present,
        if r.warmup.all_present { "" } else { " (NOT every tag arrived)" },
        r.window_secs,
    );
    let mut t = Table::headless(&[Align::Left, Align::Left]);
    let mut row = |name: &str, value: String| t.row(vec![name.into(), value.into()]);
    row(
        "daemon cpu",
        format!(
            "{:.2} % of one core ({:.2} s)",
            r.daemon.cpu_percent_of_one_core, r.daemon.cpu_secs
        ),
    );
    row("daemon peak rss (VmHWM)", bytes(r.daemon.peak_rss_bytes));
    row(
        "daemon steady rss (max VmRSS)",
        bytes(r.daemon.steady_rss_bytes),
    );
    row(
        "reads produced",
        format!(
            "{:.0}/s (per reader {:.0}..{:.0}/s); daemon status {}/s",
            r.reads.per_sec,
            r.reads.per_reader_min,
            r.reads.per_reader_max,
            r.daemon
                .status_reads_per_sec
                .map_or_else(|| "?".to_owned(), |v| format!("{v:.0}"))
        ),
    );
    row(
        "deltas",
        format!(
            "{:.2}/s, {:.2} changes/s ({} in the window, {} in all)",
            r.deltas.per_sec, r.deltas.changes_per_sec, r.deltas.in_window, r.deltas.total
        ),
    );
    let l = &r.latency;
    row(
        "read → delta at hq",
        format!(
            "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} probes (budget p99 {:.0} ms){}",
            l.summary.p50_ms,
            l.summary.p90_ms,
            l.summary.p99_ms,
            l.summary.max_ms,
            l.summary.samples,
            l.budget_p99_ms,
            if l.unmatched > 0 {
                format!("; {} probes never arrived", l.unmatched)
            } else {
                String::new()
            }
        ),
    );
    row(
        "seq chain",
        format!(
            "{}..{}, {} gaps{}, {} duplicates",
            r.seq.first,
            r.seq.last,
            r.seq.gaps,
            if r.seq.missing.is_empty() {
                String::new()
            } else {
                format!(" (missing {:?})", r.seq.missing)
            },
            r.seq.duplicates
        ),
    );
    row("daemon", r.daemon.exit.clone());
    row(
        "machine",
        format!(
            "{} cpus, {}, kernel {}; load {:?} → {:?}; this process {:.1} % of a core",
            r.machine.cpus,
            r.machine.cpu_model.as_deref().unwrap_or("?"),
            r.machine.kernel.as_deref().unwrap_or("?"),
            r.load_average[0].unwrap_or_default(),
            r.load_average[1].unwrap_or_default(),
            r.bench_process_cpu_percent
        ),
    );
    out.push_str(&t.render(false));
    out
}
