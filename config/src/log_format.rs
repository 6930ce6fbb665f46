//! `log-format`: how each log line is written, for a person or for a log shipper.

use serde::Deserialize;

/// The shape of the daemon's log lines (`log-format`, default `text`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// One readable line per event (under systemd, prefixed with its journald priority).
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `span`s), for log shippers; under
    /// systemd each line still carries its journald priority prefix.
    Json,
}
