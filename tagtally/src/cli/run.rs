//! `tagtally run`: the daemon in the foreground (SPEC §5) — config, logging, runtime, signals, exit code.

use std::process::ExitCode;
use std::time::Duration;

use tagtally::exit;
use tagtally::plan::DaemonPlan;
use tagtally::run::{self, logging, RunOptions, Signals};

use super::RunArgs;

/// Runs the daemon until SIGTERM/SIGINT; exit 0 after a clean stop, else the error's code.
pub fn run(args: &RunArgs) -> ExitCode {
    // First, before any thread or allocation of note: may replace this process image.
    super::malloc_tunables::apply();
    // The same plan and messages as `check-config`, so what the journal says matches what a
    // technician gets from `tagtally check-config`.
    let plan = match DaemonPlan::load(&args.config) {
        Ok(plan) => plan,
        Err(errors) => {
            let prefix = logging::stderr_error_prefix();
            for error in &errors {
                eprintln!("{prefix}{error}");
            }
            return exit::code(exit::CONFIG);
        }
    };
    logging::init_stderr(plan.config.log_level, plan.config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tagtally")
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return exit::code(exit::IO_ERR);
        }
    };
    let result = runtime.block_on(async {
        // Installed before anything starts, so a SIGTERM during start-up is a clean stop, not a kill.
        let signals = Signals::install().map_err(|source| run::RunError::Os {
            what: "cannot install signal handlers",
            source,
        })?;
        let (reload, requests) = tokio::sync::mpsc::channel(1);
        let reload_requests = run::ReloadRequests {
            config: args.config.clone(),
            requests,
        };
        run::run(
            plan,
            RunOptions::default(),
            signals.stop_requested(Some(reload)),
            Some(reload_requests),
            |_| {},
        )
        .await
    });
    // Blocking-pool threads (a store call cut short) must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => exit::code(exit::OK),
        Err(error) => {
            // Through the logger, so the journal stores it as an error (and JSON shippers get it).
            tracing::error!(exit_code = error.exit_code(), "tagtally: {error}");
            exit::code(error.exit_code())
        }
    }
}
