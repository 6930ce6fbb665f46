//! Logging set-up: `tracing` to stderr, plain lines the journal stores well, at the config's `log-level`.
//!
//! Under systemd (`JOURNAL_STREAM` set) lines carry no timestamp and no colour: the journal adds its own
//! time and shows escape codes verbatim. Elsewhere (a technician running `tagtally run` by hand) they get
//! a timestamp, and colour only on a terminal. `RUST_LOG`, when set, overrides `log-level` for debugging
//! one module (e.g. `RUST_LOG=tagtally::run=debug`).

use std::io::IsTerminal;

use tagtally_config::LogLevel;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The filter: `RUST_LOG` if set, else `level`, with the demo broker library silenced (it logs client disconnects as errors).
fn filter(level: LogLevel) -> EnvFilter {
    match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new(level.as_str()))
        }
        _ => EnvFilter::new(format!("{},rumqttd=off", level.as_str())),
    }
}

/// Logs to stderr. Returns false when a logger was already installed (a second call changes nothing).
pub fn init_stderr(level: LogLevel) -> bool {
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let ansi = !journal && std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    if journal {
        builder.without_time().try_init().is_ok()
    } else {
        builder.try_init().is_ok()
    }
}

/// Logs to `writer` (e.g. a file), plain text with timestamps: for `tagtally demo`, whose screen is the HQ view.
pub fn init_writer<W>(level: LogLevel, writer: W) -> bool
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false)
        .try_init()
        .is_ok()
}
