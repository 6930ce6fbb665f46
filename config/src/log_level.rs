//! `log-level`: how much the daemon logs.

use serde::Deserialize;

/// The most verbose level logged (`log-level`, default `info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogLevel {
    /// Only errors.
    Error,
    /// Errors and warnings.
    Warn,
    /// Normal operation: start-up, links up and down, reconnects.
    #[default]
    Info,
    /// Diagnostics for a technician.
    Debug,
    /// Everything, including per-read events.
    Trace,
}

impl LogLevel {
    /// The level's name as `tracing` filter directives spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}
