//! Command-line grammar (clap) and dispatch to each command's module.

#[cfg(feature = "tooling")]
mod bench;
#[cfg(all(feature = "tooling", feature = "hq"))]
mod bench_hq;
#[cfg(feature = "tooling")]
mod bench_store;
mod check_config;
mod count;
mod daemon;
#[cfg(feature = "tooling")]
mod demo;
mod departures;
mod epc_decode;
mod epcis;
mod expected;
mod generate;
#[cfg(feature = "hq")]
mod hq;
#[cfg(feature = "tooling")]
mod hq_tail;
mod human;
mod llrp_probe;
mod malloc_tunables;
mod metrics;
mod operation;
mod readers;
mod reconcile;
mod replenish;
mod run;
mod sale;
#[cfg(feature = "tooling")]
mod sim_llrp;
#[cfg(feature = "tooling")]
mod sim_serial;
mod status;
mod stock;
mod table;
mod tail;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// tagtally: trustworthy per-zone, per-SKU RFID stock counts for a retail store.
#[derive(Debug, Parser)]
#[command(name = "tagtally", version = long_version(), about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The daemon, in the foreground: readers in, counts to HQ over MQTT; logs to stderr.
    Run(RunArgs),
    /// A whole demo store in one process: broker, emulated readers, the daemon, and HQ's live view.
    #[cfg(feature = "tooling")]
    Demo(demo::DemoArgs),
    /// Validate the configuration; every problem is printed as FILE:LINE:COL: message.
    CheckConfig(CheckConfigArgs),
    /// Daemon health: uptime, readers, reads/s, tags present, outbox, MQTT, stale zones.
    Status(ControlArgs),
    /// Per reader and antenna: link state, reads/s, last read, errors, reconnects.
    Readers(ControlArgs),
    /// Current per-zone, per-SKU counts.
    Stock(StockArgs),
    /// Live stream of reads, arrivals, departures and moves (until Ctrl-C).
    Tail(TailArgs),
    /// Cycle counts of a zone: with a handheld reader, or from a handheld app's export (SPEC §10).
    Count {
        #[command(subcommand)]
        command: CountCommand,
    },
    /// Tags sold at the till: each present one leaves the stock at the next flush (SPEC §10).
    Sale(SaleArgs),
    /// Book stock: what the store's books say it holds, per SKU (SPEC §10).
    Expected {
        #[command(subcommand)]
        command: ExpectedCommand,
    },
    /// Book stock against the count: every SKU that differs, largest difference first.
    Reconcile(ControlArgs),
    /// The pick list: what to bring from the stockroom to the sales floor, most first.
    Replenish(ControlArgs),
    /// The daemon's Prometheus metrics, printed or written as a node_exporter textfile.
    Metrics(metrics::MetricsArgs),
    /// Committed arrivals, moves and departures of a time range as a GS1 EPCIS 2.0 document.
    Epcis(EpcisArgs),
    /// GS1 EPC tools.
    Epc {
        #[command(subcommand)]
        command: EpcCommand,
    },
    /// Reference HQ consumer: every store's deltas, gaps, duplicates, per-SKU totals.
    #[cfg(feature = "tooling")]
    HqTail(Box<hq_tail::HqTailArgs>),
    /// The HQ service (the chain's stock of record on PostgreSQL) and its queries.
    #[cfg(feature = "hq")]
    Hq {
        #[command(subcommand)]
        command: hq::HqCommand,
    },
    /// LLRP reader tools.
    Llrp {
        #[command(subcommand)]
        command: LlrpCommand,
    },
    /// Benchmarks of the daemon's own code paths (SPEC §8).
    #[cfg(feature = "tooling")]
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Reader emulators for tests, demos and commissioning.
    #[cfg(feature = "tooling")]
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
    /// Man pages and shell completions from this grammar (for packaging).
    #[command(hide = true)]
    Generate {
        #[command(subcommand)]
        command: generate::GenerateCommand,
    },
}

#[derive(Debug, Subcommand)]
enum LlrpCommand {
    /// Connect to a reader and print model, firmware, antennas, power table and ROSpecs; changes nothing.
    Probe(LlrpProbeArgs),
}

#[cfg(feature = "tooling")]
#[derive(Debug, Subcommand)]
enum SimCommand {
    /// An emulated LLRP reader on a TCP port; prints LISTENING <host:port> once ready.
    Llrp(SimLlrpArgs),
    /// A ThingMagic (Mercury) serial module.
    Thingmagic(SimSerialArgs),
    /// An R2000 "0xA0" serial module.
    R2000(SimSerialArgs),
}

/// Arguments of `tagtally sim thingmagic|r2000`.
#[cfg(feature = "tooling")]
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("port").required(true).args(["pty", "listen"])))]
pub struct SimSerialArgs {
    /// Serve on a new pseudo-terminal; prints `PTY <path>` (again after each re-plug).
    #[arg(long)]
    pub pty: bool,
    /// With --pty: keep a symlink here pointing at the current pseudo-terminal.
    #[arg(long, value_name = "PATH", requires = "pty")]
    pub link: Option<PathBuf>,
    /// Serve on a TCP port like a serial-over-TCP bridge; prints `LISTENING <host:port>`.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The scenario file (tags, read rate, faults); see docs/SIMULATOR.md.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
}

/// Arguments of `tagtally llrp probe`.
#[derive(Debug, Args)]
pub struct LlrpProbeArgs {
    /// The reader: HOST or HOST:PORT (default port 5084).
    #[arg(value_name = "HOST[:PORT]", value_parser = llrp_probe::parse_address)]
    pub address: tagtally_config::HostPort,
    /// Longest wait for the connection and for each answer.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// Print one JSON document instead of readable lines.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tagtally sim llrp`.
#[cfg(feature = "tooling")]
#[derive(Debug, Args)]
pub struct SimLlrpArgs {
    /// Address to listen on, e.g. 127.0.0.1:5084 (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// Scenario file (TOML, see docs/SIMULATOR.md); without it the reader sees no tags.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum EpcCommand {
    /// Decode EPCs given as hex arguments, or one per line on stdin.
    Decode(EpcDecodeArgs),
}

/// Arguments of `tagtally epc decode`.
#[derive(Debug, Args)]
pub struct EpcDecodeArgs {
    /// Print one JSON object per input instead of a readable block.
    #[arg(long)]
    pub json: bool,
    /// EPCs in hex (e.g. 3074257BF7194E4000001A85); read from stdin when none are given.
    pub hex: Vec<String>,
}

/// Arguments of `tagtally check-config`.
#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// The config file to check.
    #[arg(short, long, value_name = "FILE", default_value = tagtally_config::DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Print one JSON document on stdout instead of readable lines.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tagtally run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The config file.
    #[arg(short, long, value_name = "FILE", default_value = tagtally_config::DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
}

/// How `status`, `readers`, `stock` and `tail` reach the daemon, and their output form.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The config file whose `control-socket` to use.
    #[arg(short, long, value_name = "FILE", default_value = tagtally_config::DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Talk to this control socket instead of the config's (the config is then not read).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Print JSON (one document, or one line per event for `tail`) instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tagtally stock`.
#[derive(Debug, Args)]
pub struct StockArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// Only this zone.
    #[arg(long)]
    pub zone: Option<String>,
    /// Only this SKU.
    #[arg(long)]
    pub sku: Option<String>,
    /// Departures per SKU and reason instead (unseen = unexplained: the shrink signal).
    #[arg(long, conflicts_with_all = ["zone", "sku"])]
    pub departures: bool,
    /// The window of --departures.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = humantime::parse_duration)]
    pub window: std::time::Duration,
}

/// Arguments of `tagtally epcis`.
#[derive(Debug, Args)]
pub struct EpcisArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// Events of flushes from this time on: RFC 3339 (2026-12-03T20:00:00Z) or a duration ago (2h).
    #[arg(long, value_name = "TIME", value_parser = epcis::parse_instant)]
    pub since: epcis::Instant,
    /// Events of flushes before this time (default: now); same forms as --since.
    #[arg(long, value_name = "TIME", value_parser = epcis::parse_instant)]
    pub until: Option<epcis::Instant>,
}

/// Arguments of `tagtally tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// Only these kinds: read, arrival, departure, move (repeat or separate with commas).
    #[arg(long, value_delimiter = ',', value_parser = tail::parse_kind)]
    pub kind: Vec<tagtally::control::TailKind>,
    /// Only events in this zone (moves: from or to it).
    #[arg(long)]
    pub zone: Option<String>,
    /// Only reads by this reader.
    #[arg(long)]
    pub reader: Option<String>,
    /// Only tags of this SKU.
    #[arg(long)]
    pub sku: Option<String>,
    /// Only EPCs starting with these hex digits.
    #[arg(long, value_name = "HEX", value_parser = tail::parse_epc_prefix)]
    pub epc: Option<String>,
}

/// `--version`: `tagtally 0.1.0 (commit 2db8d49a1b2c, features: demo-broker, x86_64-unknown-linux-gnu)`.
/// `tagtally count ...`.
#[derive(Debug, Subcommand)]
pub enum CountCommand {
    /// Opens a count of a zone fed by a handheld reader (a reader with role = "handheld").
    Start {
        #[command(flatten)]
        control: ControlArgs,
        /// The zone counted.
        #[arg(long)]
        zone: String,
        /// The handheld reader.
        #[arg(long)]
        reader: String,
    },
    /// Open counts, and counts that ended without being applied.
    Status {
        #[command(flatten)]
        control: ControlArgs,
    },
    /// Applies a count: what it saw is in the zone, what it did not see there departs.
    Finish {
        #[command(flatten)]
        control: ControlArgs,
        /// Which count (needed when several are open).
        #[arg(long)]
        zone: Option<String>,
    },
    /// Discards a count; nothing is applied.
    Cancel {
        #[command(flatten)]
        control: ControlArgs,
        /// Which count (needed when several are open).
        #[arg(long)]
        zone: Option<String>,
    },
    /// Applies a file of EPCs (hex, one per line) as a count of the zone, whole or not at all.
    Import {
        #[command(flatten)]
        control: ControlArgs,
        /// The zone counted.
        #[arg(long)]
        zone: String,
        /// The file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// `tagtally expected ...`.
#[derive(Debug, Subcommand)]
pub enum ExpectedCommand {
    /// Puts a CSV file of `sku,count` lines in force as the book stock, whole or not at all.
    Import {
        #[command(flatten)]
        control: ControlArgs,
        /// The book's date as the books give it (default: now).
        #[arg(long, value_name = "TEXT")]
        as_of: Option<String>,
        /// The file: `sku,count` per line, an optional `sku,count` header.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// The book stock in force.
    Show {
        #[command(flatten)]
        control: ControlArgs,
    },
}

/// `tagtally sale EPC...`.
#[derive(Debug, Args)]
pub struct SaleArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// The sold tags' EPCs, hex.
    #[arg(value_name = "EPC", required = true)]
    pub epcs: Vec<String>,
}

fn long_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| tagtally::build_info::build_info().long_version())
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run(args) => run::run(&args),
        #[cfg(feature = "tooling")]
        Command::Demo(args) => demo::run(&args),
        Command::CheckConfig(args) => check_config::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Readers(args) => readers::run(&args),
        Command::Stock(args) => stock::run(&args),
        Command::Tail(args) => tail::run(&args),
        Command::Count { command } => count::run(&command),
        Command::Sale(args) => sale::run(&args),
        Command::Expected {
            command:
                ExpectedCommand::Import {
                    control,
                    as_of,
                    file,
                },
        } => expected::import(&control, &file, as_of.as_deref()),
        Command::Expected {
            command: ExpectedCommand::Show { control },
        } => expected::show(&control),
        Command::Reconcile(args) => reconcile::run(&args),
        Command::Replenish(args) => replenish::run(&args),
        Command::Metrics(args) => metrics::run(&args),
        Command::Epcis(args) => epcis::run(&args),
        Command::Epc {
            command: EpcCommand::Decode(args),
        } => epc_decode::run(&args),
        #[cfg(feature = "tooling")]
        Command::HqTail(args) => hq_tail::run(&args),
        #[cfg(feature = "hq")]
        Command::Hq { command } => hq::run(&command),
        Command::Llrp {
            command: LlrpCommand::Probe(args),
        } => llrp_probe::run(&args),
        #[cfg(feature = "tooling")]
        Command::Sim {
            command: SimCommand::Llrp(args),
        } => sim_llrp::run(&args),
        #[cfg(feature = "tooling")]
        Command::Bench { command } => bench::run(&command),
        Command::Generate { command } => generate::run(&command),
        #[cfg(feature = "tooling")]
        Command::Sim {
            command: SimCommand::Thingmagic(args),
        } => sim_serial::run(sim_serial::Family::ThingMagic, &args),
        #[cfg(feature = "tooling")]
        Command::Sim {
            command: SimCommand::R2000(args),
        } => sim_serial::run(sim_serial::Family::R2000, &args),
    }
}
