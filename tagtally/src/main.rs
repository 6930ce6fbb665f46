//! The `tagtally` binary: command-line entry point dispatching to the daemon and the technician tools.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::run(args)
}
