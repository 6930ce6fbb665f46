//! `tagtally demo [--duration D]`: the README's first command — a store, its readers, the daemon and
//! HQ's view in one process, nothing to install.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tagtally::exit;

/// Arguments of `tagtally demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Stop after this long (e.g. 30s, 5m); without it the demo runs until Ctrl-C.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Print plain lines even on a terminal (instead of redrawing one screen).
    #[arg(long)]
    pub plain: bool,
    /// Tagged items in the store, about.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub items: u32,
    /// Distinct products.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub skus: u32,
    /// Seed of the generated store and its day of trading.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
}

#[cfg(not(feature = "demo-broker"))]
pub fn run(_args: &DemoArgs) -> ExitCode {
    eprintln!(
        "tagtally: this build has no embedded broker (built with --no-default-features, the gateway build); \
         build with the default features to run the demo"
    );
    exit::code(exit::UNAVAILABLE)
}

/// Runs the demo; exit 0 after the duration or Ctrl-C.
#[cfg(feature = "demo-broker")]
pub fn run(args: &DemoArgs) -> ExitCode {
    use std::io::IsTerminal;
    use tagtally::run::{logging, RunError, Signals};
    use tagtally_tooling::demo::runner::{self, DemoOptions};
    use tagtally_tooling::demo::store_model::StoreSpec;

    // The screen is HQ's view; the daemon's log goes to a file beside the demo's state.
    let log_path = std::env::temp_dir().join(format!("tagtally-demo-{}.log", std::process::id()));
    match std::fs::File::create(&log_path) {
        Ok(file) => {
            logging::init_writer(tagtally_config::LogLevel::Info, std::sync::Mutex::new(file));
        }
        Err(error) => eprintln!(
            "tagtally: cannot write the daemon log {}: {error}; running without it",
            log_path.display()
        ),
    }
    let screen = !args.plain && std::io::stdout().is_terminal();
    let options = DemoOptions {
        spec: StoreSpec {
            seed: args.seed,
            skus: args.skus,
            items: args.items,
            ..StoreSpec::default()
        },
        screen,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tagtally: cannot start the async runtime: {error}");
            return exit::code(exit::IO_ERR);
        }
    };
    let duration = args.duration;
    let result = runtime.block_on(async move {
        let signals = Signals::install().map_err(|source| {
            runner::DemoError::Daemon(RunError::Os {
                what: "cannot install signal handlers",
                source,
            })
        })?;
        let stop = async move {
            match duration {
                Some(d) => {
                    tokio::select! {
                        () = tokio::time::sleep(d) => {}
                        () = signals.stop_requested(None) => {}
                    }
                }
                None => signals.stop_requested(None).await,
            }
        };
        runner::run(options, stop).await
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    println!("daemon log: {}", log_path.display());
    match result {
        Ok(()) => exit::code(exit::OK),
        Err(error) => {
            eprintln!("tagtally demo: {error}");
            exit::code(error.exit_code())
        }
    }
}
