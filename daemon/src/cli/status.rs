//! `tagtally status`: the daemon's health on one screen (SPEC §5).

use super::daemon::{connect, fail, json_line, print};
use super::human::{ago, human_bytes, human_duration};
use super::table::{colour_on_stdout, Align, Cell, Table, Tone};
use super::ControlArgs;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};
use tagtally::control::{MqttState, Status};
use tagtally::exit;

/// Runs `status`.
pub fn run(args: &ControlArgs) -> ExitCode {
    let status = match connect(args).and_then(|mut client| client.status().map_err(|e| fail(&e))) {
        Ok(status) => status,
        Err(code) => return code,
    };
    let text = if args.json {
        json_line(&status)
    } else {
        render(&status, SystemTime::now(), colour_on_stdout())
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// The readable form: one `key  value` line per figure.
pub fn render(status: &Status, now: SystemTime, colour: bool) -> String {
    let mut table = Table::headless(&[Align::Left, Align::Left]);
    let mut line = |key: &str, value: Cell| table.row(vec![key.into(), value]);
    line(
        "store",
        format!("{} (epoch {})", status.store, status.epoch).into(),
    );
    line(
        "daemon",
        format!(
            "{}, up {} (since {})",
            status.daemon_version,
            human_duration(Duration::from_secs(status.uptime_secs)),
            status.started_at
        )
        .into(),
    );
    let readers_tone = if status.readers_down > 0 {
        Tone::Bad
    } else {
        Tone::Good
    };
    line(
        "readers",
        Cell::toned(
            format!("{} up, {} down", status.readers_up, status.readers_down),
            readers_tone,
        ),
    );
    line("reads/s", format!("{:.1}", status.reads_per_sec).into());
    line("tags present", status.tags_present.to_string().into());
    line(
        "outbox",
        format!(
            "{} records, {}",
            status.outbox.records,
            human_bytes(status.outbox.bytes)
        )
        .into(),
    );
    let mqtt = &status.mqtt;
    let (state, tone) = match mqtt.state {
        MqttState::Connected => ("connected", Tone::Good),
        MqttState::Connecting => ("connecting", Tone::Warn),
        MqttState::Error => ("error", Tone::Bad),
    };
    let mut state = state.to_owned();
    if let Some(error) = &mqtt.last_error {
        state.push_str(&format!(" (last error: {error})"));
    }
    line("mqtt", Cell::toned(state, tone));
    line("last publish", ago(mqtt.last_publish, now).into());
    line(
        "last acked seq",
        mqtt.last_acked_seq
            .map_or_else(|| "none".to_owned(), |seq| seq.to_string())
            .into(),
    );
    let stale = if status.stale_zones.is_empty() {
        Cell::toned("none", Tone::Good)
    } else {
        Cell::toned(status.stale_zones.join(", "), Tone::Warn)
    };
    line("stale zones", stale);
    table.render(colour)
}
