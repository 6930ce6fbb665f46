//! `tagtally check-config`: validates a config exactly as `tagtally run` loads it (SPEC §5).
//!
//! Every problem goes to stderr as `FILE:LINE:COL: message` (or `FILE: message` for problems of
//! the whole file) and the exit code is 78 (EX_CONFIG). A missing or unreadable config file is a
//! configuration problem too, so it also exits 78 rather than 74 (EX_IOERR): what the
//! technician has to fix is the config, and systemd shows the same code for both.

use super::CheckConfigArgs;
use std::process::ExitCode;
use tagtally::exit;
use tagtally_config::Config;

/// Runs `check-config`.
pub fn run(args: &CheckConfigArgs) -> ExitCode {
    match Config::load(&args.config) {
        Ok(config) => {
            println!(
                "ok: {} ({} zones, {} readers)",
                args.config.display(),
                config.zones.len(),
                config.readers.len()
            );
            exit::code(exit::OK)
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            exit::code(exit::CONFIG)
        }
    }
}
