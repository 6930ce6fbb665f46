//! `tagtally bench ingest`: times the daemon's ingest path on a capture or a synthetic store and prints the rates, and their ratios to the reference loop over the same bytes (SPEC §5, §8).
//!
//! `tagtally bench store` (the full-load run) and `tagtally bench hq` (the HQ service) are
//! registered here too; they live in `bench_store.rs` and `bench_hq.rs`.
//!
//! Exit codes: 65 when the input file is not a usable LLRP stream (or makes the session drop the
//! link), 74 when it cannot be read, 78 for a bad `-c` config, 69 when the LLRP session cannot be
//! brought up against the built-in reader (a defect, not a user error; it should never happen).
//!
//! `peak_rss_bytes` is `VmHWM` from `/proc/self/status`: the process's high-water mark, which
//! includes the input bytes held in memory (≈ 31 bytes per synthetic read) and the cold-start
//! burst of every tag arriving in one flush interval (candidate table, delta) besides the
//! engine; `end_rss_bytes` (`VmRSS` after the run) shows what remains.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;
use tagtally::engine::PresenceParams;
use tagtally::exit;
use tagtally::plan;
use tagtally_config::{Config, FileChecks};
use tagtally_tooling::bench::capture::{self, InputError};
use tagtally_tooling::bench::ingest::{
    self, IngestError, IngestReport, IngestSetup, PassTiming, CHUNK_BYTES,
    FIRST_SIGHTING_RATIO_BUDGET, KNOWN_RATIO_BUDGET,
};
use tagtally_tooling::bench::population::{Population, ANTENNAS};
use tagtally_tooling::bench::rss;

use super::daemon::{json_line, print};
use super::human::human_bytes;
use super::table::{Align, Table};

/// Largest `--tags` and `--reads`: the synthetic stream is held in memory (≈ 31 bytes per read).
const MAX_SYNTHETIC: u32 = 20_000_000;

/// Seed of the synthetic read order: fixed, so runs are comparable.
const ORDER_SEED: u64 = 7;

/// `tagtally bench` commands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time LLRP report bytes → LLRP session → engine, first sightings and known tags apart.
    Ingest(IngestArgs),
    /// A store at full load against the real daemon: CPU, memory, read → broker latency, seq chain.
    Store(super::bench_store::StoreArgs),
    /// The HQ service (SPEC §8, §11): a fleet of emulated stores against `tagtally hq run`
    /// instances, PostgreSQL and mosquitto; publish → commit latency, throughput, catch-up.
    #[cfg(feature = "hq")]
    Hq(super::bench_hq::HqBenchArgs),
}

/// Arguments of `tagtally bench ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// A file of concatenated LLRP messages (e.g. a capture of a reader's stream) instead of a synthetic store.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tags", "reads"])]
    pub input: Option<PathBuf>,
    /// Distinct SGTIN-96 tags of the synthetic store.
    #[arg(long, value_name = "N", default_value_t = 200_000,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SYNTHETIC)))]
    pub tags: u32,
    /// Reads per pass of the synthetic store (default: one per tag).
    #[arg(long, value_name = "M",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SYNTHETIC)))]
    pub reads: Option<u32>,
    /// Timed passes: pass 1 (first sightings) and passes 2..K (every tag known).
    #[arg(long, value_name = "K", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub passes: u32,
    /// Take the presence rules from this config's `[presence]` (default: the SPEC defaults).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `bench` command.
pub fn run(command: &BenchCommand) -> ExitCode {
    match command {
        BenchCommand::Ingest(args) => match ingest_command(args) {
            Ok(code) | Err(code) => code,
        },
        BenchCommand::Store(args) => super::bench_store::run(args),
        #[cfg(feature = "hq")]
        BenchCommand::Hq(args) => super::bench_hq::run(args),
    }
}

/// Resident memory: the peak (`VmHWM`) and what remains at the end (`VmRSS`).
struct Memory {
    peak: Option<u64>,
    end: Option<u64>,
}

/// What was fed, for the output.
struct Source {
    description: String,
    json: serde_json::Value,
    reads_per_pass: u64,
}

fn ingest_command(args: &IngestArgs) -> Result<ExitCode, ExitCode> {
    let presence = presence_params(args)?;
    let (stream, max_antenna, source) = match &args.input {
        Some(path) => from_file(path)?,
        None => synthetic(args)?,
    };
    let setup = IngestSetup {
        presence,
        passes: args.passes,
        max_antenna,
    };
    let report = ingest::run(&stream, &setup).map_err(|error| fail_ingest(&error))?;
    if report.first_pass.reads != source.reads_per_pass {
        // The framing pass and the session disagree about the stream: not a number to publish.
        eprintln!(
            "tagtally: the session delivered {} reads in pass 1, the input holds {}",
            report.first_pass.reads, source.reads_per_pass
        );
        return Err(exit::code(exit::DATA_ERR));
    }
    let (peak, end) = rss::peak_and_current_rss_bytes();
    let memory = Memory { peak, end };
    let text = if args.json {
        json_line(&json_report(&source, &setup, &report, &memory))
    } else {
        human_report(&source, &setup, &report, &memory)
    };
    print(&text)?;
    Ok(exit::code(exit::OK))
}

fn presence_params(args: &IngestArgs) -> Result<PresenceParams, ExitCode> {
    let Some(path) = &args.config else {
        return Ok(PresenceParams::default());
    };
    // Only `[presence]` is used: the MQTT secrets need not be readable to benchmark.
    let config = Config::load_with(path, &FileChecks::Skip).map_err(|errors| {
        for error in &errors {
            eprintln!("{error}");
        }
        exit::code(exit::CONFIG)
    })?;
    Ok(plan::presence_params(&config.presence))
}

fn from_file(path: &Path) -> Result<(Vec<u8>, u16, Source), ExitCode> {
    let (bytes, summary) = capture::load(path).map_err(|error| {
        eprintln!("tagtally: {error}");
        exit::code(match error {
            InputError::Unreadable { .. } => exit::IO_ERR,
            InputError::Content { .. } => exit::DATA_ERR,
        })
    })?;
    let source = Source {
        description: format!(
            "{}: {} llrp messages, {} reports, {} tag reads{}",
            path.display(),
            summary.messages,
            summary.reports,
            summary.tag_reads,
            match summary.malformed_tag_reports {
                0 => String::new(),
                n => format!(" ({n} malformed tag reports, dropped)"),
            }
        ),
        json: json!({
            "file": path.display().to_string(),
            "bytes": bytes.len(),
            "messages": summary.messages,
            "reports": summary.reports,
            "malformed_tag_reports": summary.malformed_tag_reports,
        }),
        reads_per_pass: summary.tag_reads,
    };
    // Antenna 0 stands for "not given"; the synthetic reader's ports are mapped at least.
    Ok((bytes, summary.max_antenna.max(ANTENNAS), source))
}

fn synthetic(args: &IngestArgs) -> Result<(Vec<u8>, u16, Source), ExitCode> {
    let fail = |error: &dyn std::fmt::Display| {
        eprintln!("tagtally: {error}");
        exit::code(exit::USAGE)
    };
    let population = Population::new(args.tags).map_err(|error| fail(&error))?;
    let reads = u64::from(args.reads.unwrap_or(args.tags));
    // Read times lie just behind the virtual clock's start, as in a report that just arrived.
    let first_seen = ingest::START_UTC_US.saturating_sub(reads);
    let stream = population
        .reports(population.read_order(reads, ORDER_SEED), first_seen)
        .map_err(|error| fail(&error))?;
    let source = Source {
        description: format!(
            "synthetic: {} SGTIN-96 tags over {} GTINs, {reads} reads per pass in random order, reports of {}",
            population.tags(),
            population.gtins(),
            tagtally_tooling::bench::population::TAGS_PER_REPORT,
        ),
        json: json!({
            "synthetic": true,
            "gtins": population.gtins(),
            "bytes": stream.len(),
        }),
        reads_per_pass: reads,
    };
    Ok((stream, ANTENNAS, source))
}

fn fail_ingest(error: &IngestError) -> ExitCode {
    eprintln!("tagtally: {error}");
    exit::code(match error {
        IngestError::LinkLost { .. } => exit::DATA_ERR,
        IngestError::TooFewPasses { .. } => exit::USAGE,
        IngestError::Engine(_) => exit::CONFIG,
        IngestError::Handshake(_) => exit::UNAVAILABLE,
    })
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// One line of the ratio block: the ratio on both clocks and whether it meets SPEC §8.
fn ratio_line(name: &str, wall: f64, cpu: f64, budget: f64) -> String {
    let verdict = if wall >= budget { "met" } else { "missed" };
    format!("{name}: {wall:.2} wall, {cpu:.2} thread cpu (budget >= {budget}: {verdict})\n")
}

fn json_report(
    source: &Source,
    setup: &IngestSetup,
    report: &IngestReport,
    memory: &Memory,
) -> serde_json::Value {
    let known = report.known();
    let minimal = report.minimal();
    let minimal_per_pass: Vec<_> = report
        .minimal_passes
        .iter()
        .zip(2u32..)
        .map(|(pass, number)| {
            json!({
                "after_pass": number,
                "reads": pass.reads,
                "wall_ns": pass.wall.as_nanos() as u64,
                "cpu_ns": pass.cpu.as_nanos() as u64,
            })
        })
        .collect();
    let per_pass: Vec<_> = std::iter::once(&report.first_pass)
        .chain(&report.known_passes)
        .zip(1u32..)
        .map(|(pass, number)| {
            json!({
                "pass": number,
                "reads": pass.reads,
                "wall_ns": pass.wall.as_nanos() as u64,
                "cpu_ns": pass.cpu.as_nanos() as u64,
            })
        })
        .collect();
    json!({
        "first_pass_reads_per_sec": report.first_pass.reads_per_sec().round() as u64,
        "reads_per_sec": known.reads_per_sec().round() as u64,
        "ns_per_read": round(known.ns_per_read()),
        "first_pass_cpu_reads_per_sec": report.first_pass.cpu_reads_per_sec().round() as u64,
        "cpu_reads_per_sec": known.cpu_reads_per_sec().round() as u64,
        "cpu_ns_per_read": round(known.cpu_ns_per_read()),
        "tags": report.tags,
        "reads": report.timed_reads(),
        "reads_per_pass": source.reads_per_pass,
        "passes": setup.passes,
        "warmup_passes": report.warmup_passes,
        "arrive_reads": setup.presence.arrive_reads,
        "peak_rss_bytes": memory.peak,
        "peak_rss_source": "VmHWM of /proc/self/status",
        "end_rss_bytes": memory.end,
        "tag_table_bytes": report.tag_table_bytes,
        "candidates": report.candidates,
        "frames_dropped": report.frames_dropped,
        "chunk_bytes": CHUNK_BYTES,
        "minimal_loop_reads_per_sec": minimal.reads_per_sec().round() as u64,
        "minimal_loop_cpu_reads_per_sec": minimal.cpu_reads_per_sec().round() as u64,
        "minimal_loop_table_bytes": report.minimal_table_bytes,
        "known_ratio": round3(report.known_ratio()),
        "first_sighting_ratio": round3(report.first_sighting_ratio()),
        "known_cpu_ratio": round3(report.known_cpu_ratio()),
        "first_sighting_cpu_ratio": round3(report.first_sighting_cpu_ratio()),
        "known_ratio_budget": KNOWN_RATIO_BUDGET,
        "first_sighting_ratio_budget": FIRST_SIGHTING_RATIO_BUDGET,
        "input": source.json,
        "per_pass": per_pass,
        "minimal_loop_per_pass": minimal_per_pass,
    })
}

fn rate_cell(reads_per_sec: f64) -> String {
    format!("{:.2} M/s", reads_per_sec / 1e6)
}

fn timing_row(table: &mut Table, name: String, timing: &PassTiming) {
    table.row(vec![
        name.into(),
        timing.reads.to_string().into(),
        rate_cell(timing.reads_per_sec()).into(),
        format!("{:.1}", timing.ns_per_read()).into(),
        rate_cell(timing.cpu_reads_per_sec()).into(),
        format!("{:.1}", timing.cpu_ns_per_read()).into(),
    ]);
}

fn human_report(
    source: &Source,
    setup: &IngestSetup,
    report: &IngestReport,
    memory: &Memory,
) -> String {
    let mut out = format!(
        "ingest: llrp bytes in {} KiB chunks -> LlrpSession -> Engine::observe_batch, one thread\n{}\n",
        CHUNK_BYTES / 1024,
        source.description
    );
    if report.warmup_passes > 0 {
        out.push_str(&format!(
            "warm-up: {} untimed pass(es) after pass 1 so every tag arrives (arrive-reads {})\n",
            report.warmup_passes, setup.presence.arrive_reads
        ));
    }
    out.push('\n');
    let mut table = Table::new(&[
        ("pass", Align::Left),
        ("reads", Align::Right),
        ("wall", Align::Right),
        ("ns/read", Align::Right),
        ("thread cpu", Align::Right),
        ("cpu ns/read", Align::Right),
    ]);
    timing_row(&mut table, "1 first sightings".into(), &report.first_pass);
    timing_row(
        &mut table,
        format!("2..{} known tags", setup.passes),
        &report.known(),
    );
    for (timing, pass) in report.known_passes.iter().zip(2u32..) {
        timing_row(&mut table, format!("  pass {pass}"), timing);
    }
    timing_row(
        &mut table,
        "minimal loop (reference)".into(),
        &report.minimal(),
    );
    out.push_str(&table.render(false));
    out.push('\n');
    out.push_str(
        "against the minimal loop (tlv walk, epc hash and probe, no validation; after each of passes 2..):\n",
    );
    out.push_str(&ratio_line(
        "  known tags",
        report.known_ratio(),
        report.known_cpu_ratio(),
        KNOWN_RATIO_BUDGET,
    ));
    out.push_str(&ratio_line(
        "  first sightings",
        report.first_sighting_ratio(),
        report.first_sighting_cpu_ratio(),
        FIRST_SIGHTING_RATIO_BUDGET,
    ));
    out.push('\n');
    let mut facts = Table::headless(&[Align::Left, Align::Left]);
    facts.row(vec!["tags present".into(), report.tags.to_string().into()]);
    facts.row(vec![
        "reads timed".into(),
        report.timed_reads().to_string().into(),
    ]);
    let bytes = |value: Option<u64>| value.map_or_else(|| "unknown".to_owned(), human_bytes);
    facts.row(vec!["peak rss (VmHWM)".into(), bytes(memory.peak).into()]);
    facts.row(vec!["rss at the end".into(), bytes(memory.end).into()]);
    facts.row(vec![
        "tag table".into(),
        human_bytes(report.tag_table_bytes as u64).into(),
    ]);
    if report.candidates > 0 {
        facts.row(vec![
            "not arrived".into(),
            report.candidates.to_string().into(),
        ]);
    }
    if report.frames_dropped > 0 {
        facts.row(vec![
            "dropped by the session".into(),
            report.frames_dropped.to_string().into(),
        ]);
    }
    out.push_str(&facts.render(false));
    out
}
