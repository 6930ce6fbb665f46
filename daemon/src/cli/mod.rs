//! Command-line grammar (clap) and dispatch to each command's module.

mod check_config;
mod epc_decode;
mod llrp_probe;
mod sim_llrp;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// tagtally: trustworthy per-zone, per-SKU RFID stock counts for a retail store.
#[derive(Debug, Parser)]
#[command(name = "tagtally", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the configuration; every problem is printed as FILE:LINE:COL: message.
    CheckConfig(CheckConfigArgs),
    /// GS1 EPC tools.
    Epc {
        #[command(subcommand)]
        command: EpcCommand,
    },
    /// LLRP reader tools.
    Llrp {
        #[command(subcommand)]
        command: LlrpCommand,
    },
    /// Reader emulators, for tests, demos and commissioning without hardware.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Debug, Subcommand)]
enum LlrpCommand {
    /// Connect to a reader and print model, firmware, antennas, power table and ROSpecs; changes nothing.
    Probe(LlrpProbeArgs),
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// An emulated LLRP reader on a TCP port; prints LISTENING <host:port> once ready.
    Llrp(SimLlrpArgs),
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

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::CheckConfig(args) => check_config::run(&args),
        Command::Epc {
            command: EpcCommand::Decode(args),
        } => epc_decode::run(&args),
        Command::Llrp {
            command: LlrpCommand::Probe(args),
        } => llrp_probe::run(&args),
        Command::Sim {
            command: SimCommand::Llrp(args),
        } => sim_llrp::run(&args),
    }
}
