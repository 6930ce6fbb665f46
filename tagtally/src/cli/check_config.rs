//! `tagtally check-config`: validates a config exactly as `tagtally run` loads it (SPEC §5): both
//! call [`DaemonPlan::load`], so every refusal `run` can make for the config, this makes first.
//!
//! Every problem goes to stderr as `FILE:LINE:COL: message` (or `FILE: message` for problems of
//! the whole file) and the exit code is 78 (EX_CONFIG). A missing or unreadable config file is a
//! configuration problem too, so it also exits 78 rather than 74 (EX_IOERR): what the
//! technician has to fix is the config, and systemd shows the same code for both.
//!
//! With `--json`, one document goes to stdout either way:
//! `{"file","ok":true,"zones","readers"}` or
//! `{"file","ok":false,"errors":[{"file","line","col","message"}]}` (`line`/`col` null for
//! problems of the whole file); the exit codes are the same.

use super::CheckConfigArgs;
use serde_json::json;
use std::process::ExitCode;
use tagtally::exit;
use tagtally::plan::DaemonPlan;
use tagtally_config::ConfigErrors;

/// Runs `check-config`.
pub fn run(args: &CheckConfigArgs) -> ExitCode {
    let result = DaemonPlan::load(&args.config);
    if args.json {
        println!("{}", json_report(args, &result));
    } else {
        print_report(args, &result);
    }
    match result {
        Ok(_) => exit::code(exit::OK),
        Err(_) => exit::code(exit::CONFIG),
    }
}

fn print_report(args: &CheckConfigArgs, result: &Result<DaemonPlan, ConfigErrors>) {
    match result {
        Ok(DaemonPlan { config, .. }) => println!(
            "ok: {} ({} zones, {} readers)",
            args.config.display(),
            config.zones.len(),
            config.readers.len()
        ),
        Err(errors) => {
            for error in errors {
                eprintln!("{}{error}", tagtally::run::logging::stderr_error_prefix());
            }
        }
    }
}

fn json_report(
    args: &CheckConfigArgs,
    result: &Result<DaemonPlan, ConfigErrors>,
) -> serde_json::Value {
    let file = args.config.display().to_string();
    match result {
        Ok(DaemonPlan { config, .. }) => json!({
            "file": file,
            "ok": true,
            "zones": config.zones.len(),
            "readers": config.readers.len(),
        }),
        Err(errors) => {
            let errors: Vec<_> = errors
                .iter()
                .map(|error| {
                    json!({
                        "file": error.file.display().to_string(),
                        "line": error.location.map(|location| location.line),
                        "col": error.location.map(|location| location.col),
                        "message": error.message(),
                    })
                })
                .collect();
            json!({ "file": file, "ok": false, "errors": errors })
        }
    }
}
