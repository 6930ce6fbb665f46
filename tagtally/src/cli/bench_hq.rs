//! `tagtally bench hq`: SPEC §8's HQ row (1 000 stores at 1 delta/s, a snapshot per store every
//! 15 min, 2 instances, one PostgreSQL) against `tagtally hq run` child processes; see
//! `tagtally_hq::bench` for what it does and how it times.
//!
//! Progress goes to stderr, the report to stdout (one JSON document with `--json`). Exit codes:
//! 2 for bad settings, 69 when PostgreSQL, mosquitto or an instance is unavailable, the
//! database never caught up, or a SPEC §8 budget was missed (each named on stderr and in the
//! report), 65 when a store's database content differs from its truth (that before a budget).

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use tagtally::exit;
use tagtally_hq::bench::{self, HqBenchReport, HqBenchSetup, Percentiles};
use tagtally_tooling::bench::machine::{load_average, Machine};

use super::daemon::{json_line, print};

/// Arguments of `tagtally bench hq`.
#[derive(Debug, Args)]
pub struct HqBenchArgs {
    /// Emulated stores.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub stores: u32,
    /// Deltas per second each store publishes.
    #[arg(long, value_name = "PER_SEC", default_value_t = 1.0)]
    pub rate: f64,
    /// Length of the measured steady window.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Each store's periodic snapshot interval.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = humantime::parse_duration)]
    pub snapshot_interval: Duration,
    /// How long every instance is down before the catch-up is timed ("0s": no outage).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub outage: Duration,
    /// `tagtally hq run` instances on one shared subscription.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub instances: u32,
    /// (zone, SKU) pairs each store holds at the start (its snapshot's size).
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub pairs: u32,
    /// No duplicates, lost deltas, restarts or wipes in the steady window.
    #[arg(long)]
    pub no_faults: bool,
    /// Keep the run's directory (instance configs and logs) and print where it is.
    #[arg(long)]
    pub keep_dir: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `tagtally bench hq`.
pub fn run(args: &HqBenchArgs) -> ExitCode {
    match hq_command(args) {
        Ok(code) | Err(code) => code,
    }
}

fn hq_command(args: &HqBenchArgs) -> Result<ExitCode, ExitCode> {
    if !(args.rate > 0.0 && args.rate <= 100.0) || args.duration.is_zero() {
        eprintln!("tagtally: --rate must be above 0 and at most 100, --duration longer than zero");
        return Err(exit::code(exit::USAGE));
    }
    if args.snapshot_interval < Duration::from_secs(1) {
        eprintln!("tagtally: --snapshot-interval must be at least 1s");
        return Err(exit::code(exit::USAGE));
    }
    let program = std::env::current_exe().map_err(|error| {
        eprintln!("tagtally: cannot find this binary to run `hq run`: {error}");
        exit::code(exit::IO_ERR)
    })?;
    let setup = HqBenchSetup {
        program,
        stores: args.stores as usize,
        rate: args.rate,
        duration: args.duration,
        snapshot_interval: args.snapshot_interval,
        outage: args.outage,
        instances: args.instances as usize,
        pairs: args.pairs,
        faults: !args.no_faults,
        keep_dir: args.keep_dir,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("tagtally: cannot start the async runtime: {error}");
            exit::code(exit::IO_ERR)
        })?;
    let load_before = load_average();
    let result = runtime.block_on(bench::run(&setup, &|line| eprintln!("bench hq: {line}")));
    let load_after = load_average();
    runtime.shutdown_timeout(Duration::from_secs(1));
    let report = result.map_err(|error| {
        eprintln!("tagtally bench hq: {error}");
        exit::code(exit::UNAVAILABLE)
    })?;
    let machine = Machine::read();
    let missed = report.budgets_missed();
    let text = if args.json {
        json_line(&json!({
            "report": report,
            "budgets": {
                "p99_ms": bench::BUDGET_P99_MS,
                "catch_up_deltas_per_sec": bench::BUDGET_CATCH_UP_PER_SEC,
                "missed": missed,
            },
            "load": bench::load_description(&setup),
            "machine": machine,
            "load_average": [load_before, load_after],
        }))
    } else {
        human_report(&setup, &report, &machine, [load_before, load_after])
    };
    print(&text)?;
    for budget in &missed {
        eprintln!("tagtally bench hq: budget missed: {budget}");
    }
    Ok(exit::code(if !report.differences.is_empty() {
        exit::DATA_ERR
    } else if !missed.is_empty() {
        exit::UNAVAILABLE
    } else {
        exit::OK
    }))
}

fn latency(name: &str, p: &Percentiles) -> String {
    format!(
        "{name}: p50 {} ms, p90 {} ms, p99 {} ms, max {} ms ({} samples)\n",
        p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms, p.samples
    )
}

fn load_text(load: Option<[f64; 3]>) -> String {
    load.map_or_else(
        || "unknown".to_owned(),
        |[one, five, fifteen]| format!("{one:.2} {five:.2} {fifteen:.2}"),
    )
}

fn human_report(
    setup: &HqBenchSetup,
    report: &HqBenchReport,
    machine: &Machine,
    load: [Option<[f64; 3]>; 2],
) -> String {
    let steady = &report.steady;
    let mut out = format!(
        "bench hq: {}; {} instances of `tagtally hq run`, one PostgreSQL (durable), mosquitto\n\
         machine: {} cpus, {}, kernel {}; load average {} at the start, {} at the end\n\n\
         steady window {:.1} s: {} deltas published, {:.0} deltas/s committed\n",
        bench::load_description(setup),
        report.instances,
        machine.cpus,
        machine.cpu_model.as_deref().unwrap_or("unknown cpu"),
        machine.kernel.as_deref().unwrap_or("unknown"),
        load_text(load[0]),
        load_text(load[1]),
        steady.seconds,
        steady.deltas_published,
        steady.deltas_committed_per_sec,
    );
    out.push_str(&latency("  publish -> commit", &steady.delta_latency));
    out.push_str(&latency(
        "  snapshot publish -> applied",
        &steady.snapshot_latency,
    ));
    out.push_str(&format!(
        "  faults: {} lost deltas, {} duplicates, {} restarts, {} wipes; {} published deltas never committed as deltas (superseded)\n",
        steady.lost, steady.duplicated, steady.restarts, steady.wipes, steady.deltas_not_committed
    ));
    if let Some(outage) = &report.outage {
        out.push_str(&format!(
            "\noutage {:.0} s: {} deltas queued; caught up in {:.1} s at {:.0} deltas/s ({} committed)\n",
            outage.seconds,
            outage.backlog_deltas,
            outage.catch_up_seconds,
            outage.catch_up_deltas_per_sec,
            outage.catch_up_deltas
        ));
    }
    out.push_str(&format!(
        "\ncheck: {} of {} stores equal their truth; {} refusals, {} retried transactions\n",
        report.stores_equal, report.stores, report.refusals, report.batch_failures
    ));
    out.push_str(&format!(
        "broker links: {} lost, {} reconnects on purpose, {} messages left with the broker beyond read-ahead-bytes\n",
        report.connections_lost, report.reconnects_on_purpose, report.messages_left_with_broker
    ));
    for line in &report.differences {
        out.push_str(&format!("  {line}\n"));
    }
    let missed = report.budgets_missed();
    if missed.is_empty() {
        out.push_str("budgets (SPEC §8): met\n");
    }
    for budget in missed {
        out.push_str(&format!("budget MISSED (SPEC §8): {budget}\n"));
    }
    if let Some(dir) = &report.kept_dir {
        out.push_str(&format!("run directory kept: {dir}\n"));
    }
    out
}
