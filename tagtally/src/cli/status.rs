//! `tagtally status`: the daemon's health on one screen (SPEC §5).

use super::daemon::{connect, fail, json_line, print};
use super::human::{ago, human_bytes, human_duration};
use super::table::{colour_on_stdout, Align, Cell, Table, Tone};
use super::ControlArgs;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};
use tagtally::control::{
    ClockSync, DatabaseState, EpcisOutbox, MqttState, StateDatabase, Status, SystemClock,
};
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
    let version = match &status.build {
        Some(build) => format!("{} (commit {})", build.version, build.commit),
        None => status.daemon_version.clone(),
    };
    line(
        "daemon",
        format!(
            "{version}, up {} (since {})",
            human_duration(Duration::from_secs(status.uptime_secs)),
            status.started_at
        )
        .into(),
    );
    if let Some(clock) = &status.clock {
        line("system clock", clock_cell(clock));
    }
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
    if let Some(epcis) = &status.epcis_outbox {
        line("epcis outbox", epcis_outbox_cell(epcis));
    }
    if let Some(database) = &status.database {
        line("database", database_cell(database, now));
    }
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
    for zone in &status.zone_trust {
        line(&format!("zone {}", zone.zone), zone_trust_cell(zone));
    }
    table.render(colour)
}

/// `2/2 antennas healthy, 120 reads/s (baseline 118), last read 2026-...`; warned when one is not.
fn zone_trust_cell(zone: &tagtally_contract::ZoneTrustEntry) -> Cell {
    let mut text = format!(
        "{}/{} antennas healthy, {} reads/s",
        zone.healthy, zone.antennas, zone.reads_per_sec
    );
    if let Some(baseline) = zone.baseline_per_sec {
        text.push_str(&format!(" (baseline {baseline})"));
    }
    text.push_str(&format!(
        ", last read {}",
        zone.last_read.as_deref().unwrap_or("never")
    ));
    let tone = if zone.healthy < zone.antennas {
        Tone::Warn
    } else {
        Tone::Good
    };
    Cell::toned(text, tone)
}

/// `synchronised`, or a warning that published times may be off, plus the steps seen.
fn clock_cell(clock: &SystemClock) -> Cell {
    let (text, tone) = match clock.sync {
        ClockSync::Synchronized => ("synchronised", Tone::Good),
        ClockSync::Unsynchronized => (
            "NOT synchronised: published times may be wrong until NTP sets the clock",
            Tone::Bad,
        ),
        ClockSync::Unknown => ("sync unknown (no systemd-timesyncd to ask)", Tone::Warn),
    };
    let mut text = text.to_owned();
    if let (Some(by), Some(at)) = (clock.last_step_ms, &clock.last_step_at) {
        let sign = if by < 0 { '-' } else { '+' };
        let by = Duration::from_millis(by.unsigned_abs());
        text.push_str(&format!(
            "; stepped {} time(s), last by {sign}{} at {at} (published times followed it)",
            clock.steps,
            humantime::format_duration(by)
        ));
    }
    Cell::toned(text, tone)
}

/// Waiting messages, and since the database was created how many went out and how many were
/// dropped unsent (a warning: HQ sees gaps in `tagtally:seq`).
fn epcis_outbox_cell(epcis: &EpcisOutbox) -> Cell {
    let text = format!(
        "{} messages, {}; {} published, {} dropped",
        epcis.records,
        human_bytes(epcis.bytes),
        epcis.published,
        epcis.dropped
    );
    let tone = if epcis.dropped > 0 {
        Tone::Warn
    } else {
        Tone::Good
    };
    Cell::toned(text, tone)
}

/// `ok, seq 1234 (/var/lib/tagtally/tagtally.redb)`, or what a full disk holds back, in red.
fn database_cell(database: &StateDatabase, now: SystemTime) -> Cell {
    match database.state {
        DatabaseState::Ok => Cell::toned(
            format!("ok, seq {} ({})", database.last_seq, database.path),
            Tone::Good,
        ),
        DatabaseState::DiskFull => {
            let mut text = format!(
                "DISK FULL since {} ({}): cannot commit to {}",
                database
                    .since
                    .map_or_else(|| "?".to_owned(), |t| t.to_string()),
                ago(database.since, now),
                database.path
            );
            if let Some(error) = &database.error {
                text.push_str(&format!(": {error}"));
            }
            text.push_str(&format!(
                "; committed up to seq {} and safe; {} count changes and {} acks held in memory",
                database.last_seq,
                database.held_changes.unwrap_or(0),
                database.held_acks.unwrap_or(0)
            ));
            if let Some(every) = database.retry_every_secs {
                text.push_str(&format!(", retrying every {every}s"));
            }
            Cell::toned(text, Tone::Bad)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagtally::control::Timestamp;

    fn plain(cell: Cell) -> String {
        let mut table = Table::headless(&[Align::Left]);
        table.row(vec![cell]);
        table.render(false).trim_end().to_owned()
    }

    fn database(state: DatabaseState) -> StateDatabase {
        StateDatabase {
            state,
            path: "/var/lib/tagtally/tagtally.redb".into(),
            last_seq: 1234,
            since: None,
            error: None,
            held_changes: None,
            held_acks: None,
            retry_every_secs: None,
        }
    }

    #[test]
    fn the_clock_line_says_whether_published_times_can_be_trusted() {
        let mut clock = SystemClock {
            sync: ClockSync::Synchronized,
            steps: 0,
            last_step_ms: None,
            last_step_at: None,
        };
        assert_eq!(plain(clock_cell(&clock)), "synchronised");
        clock.sync = ClockSync::Unsynchronized;
        clock.steps = 2;
        clock.last_step_ms = Some(-3_600_250);
        clock.last_step_at = Some(Timestamp(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_822_000),
        ));
        assert_eq!(
            plain(clock_cell(&clock)),
            "NOT synchronised: published times may be wrong until NTP sets the clock; stepped 2 \
             time(s), last by -1h 250ms at 2025-03-01T09:40:00.000Z (published times followed it)"
        );
    }

    #[test]
    fn the_epcis_outbox_line_counts_waiting_published_and_dropped_messages() {
        let epcis = EpcisOutbox {
            records: 2,
            bytes: 3_072,
            published: 35,
            dropped: 5,
        };
        assert_eq!(
            plain(epcis_outbox_cell(&epcis)),
            "2 messages, 3.0 KiB; 35 published, 5 dropped"
        );
    }

    #[test]
    fn the_database_line_says_ok_or_what_a_full_disk_holds_back() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_822_000);
        let text = plain(database_cell(&database(DatabaseState::Ok), now));
        assert_eq!(text, "ok, seq 1234 (/var/lib/tagtally/tagtally.redb)");

        let mut full = database(DatabaseState::DiskFull);
        full.since = Some(Timestamp(now - Duration::from_secs(125)));
        full.error = Some("No space left on device (os error 28)".into());
        full.held_changes = Some(3);
        full.held_acks = Some(12);
        full.retry_every_secs = Some(5);
        let text = plain(database_cell(&full, now));
        assert_eq!(
            text,
            "DISK FULL since 2025-03-01T09:37:55.000Z (2m 5s ago): cannot commit to \
             /var/lib/tagtally/tagtally.redb: No space left on device (os error 28); committed up to \
             seq 1234 and safe; 3 count changes and 12 acks held in memory, retrying every 5s"
        );
    }
}
