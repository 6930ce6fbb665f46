//! Command-line grammar (clap) and dispatch to each command's module.

mod epc_decode;
mod hq_tail;

use clap::{Args, Parser, Subcommand};
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
    /// GS1 EPC tools.
    Epc {
        #[command(subcommand)]
        command: EpcCommand,
    },
    /// Reference HQ consumer: every store's deltas, gaps, duplicates, per-SKU totals.
    HqTail(Box<hq_tail::HqTailArgs>),
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

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Epc {
            command: EpcCommand::Decode(args),
        } => epc_decode::run(&args),
        Command::HqTail(args) => hq_tail::run(&args),
    }
}
