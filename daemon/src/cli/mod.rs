//! Command-line grammar (clap) and dispatch to each command's module.

mod check_config;
mod epc_decode;
mod sim_serial;

use clap::{ArgGroup, Args, Parser, Subcommand};
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
    /// Reader emulators for tests, demos and commissioning.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// A ThingMagic (Mercury) serial module.
    Thingmagic(SimSerialArgs),
    /// An R2000 "0xA0" serial module.
    R2000(SimSerialArgs),
}

/// Arguments of `tagtally sim thingmagic|r2000`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("port").required(true).args(["pty", "listen"])))]
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
        Command::Sim {
            command: SimCommand::Thingmagic(args),
        } => sim_serial::run(sim_serial::Family::ThingMagic, &args),
        Command::Sim {
            command: SimCommand::R2000(args),
        } => sim_serial::run(sim_serial::Family::R2000, &args),
    }
}
