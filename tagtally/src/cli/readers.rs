//! `tagtally readers`: every reader and antenna with its link, rate, last read and error counts.

use super::daemon::{connect, fail, json_line, print};
use super::human::ago;
use super::table::{colour_on_stdout, Align, Cell, Table, Tone};
use super::ControlArgs;
use std::process::ExitCode;
use std::time::SystemTime;
use tagtally::control::{Link, ReaderLinkState, ReaderStatus};
use tagtally::exit;

/// Runs `readers`.
pub fn run(args: &ControlArgs) -> ExitCode {
    let readers = match connect(args).and_then(|mut client| client.readers().map_err(|e| fail(&e)))
    {
        Ok(readers) => readers,
        Err(code) => return code,
    };
    let text = if args.json {
        json_line(&readers)
    } else {
        render(&readers, SystemTime::now(), colour_on_stdout())
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// The readable form: one row per reader, followed by one row per antenna.
pub fn render(readers: &[ReaderStatus], now: SystemTime, colour: bool) -> String {
    if readers.is_empty() {
        return "no readers configured\n".to_owned();
    }
    let mut table = Table::new(&[
        ("READER", Align::Left),
        ("KIND", Align::Left),
        ("ROLE", Align::Left),
        ("ENDPOINT", Align::Left),
        ("ANT", Align::Right),
        ("ZONE", Align::Left),
        ("LINK", Align::Left),
        ("READS/S", Align::Right),
        ("LAST READ", Align::Left),
        ("ERRORS", Align::Right),
        ("RECONNECTS", Align::Right),
        ("FAILED", Align::Right),
        ("UNMAPPED", Align::Right),
        ("UNKNOWN", Align::Right),
        ("EVICTED", Align::Right),
        ("MODEL", Align::Left),
        ("FIRMWARE", Align::Left),
        ("TRUST", Align::Left),
    ]);
    for reader in readers {
        table.row(vec![
            reader.name.as_str().into(),
            reader.kind.as_str().into(),
            reader.role.as_str().into(),
            reader.endpoint.as_str().into(),
            "".into(),
            "".into(),
            link(&reader.link),
            format!("{:.1}", reader.reads_per_sec).into(),
            ago(reader.last_read, now).into(),
            Cell::toned(
                reader.errors.to_string(),
                if reader.errors > 0 {
                    Tone::Warn
                } else {
                    Tone::Plain
                },
            ),
            reader.reconnects.to_string().into(),
            warn_if_any(reader.failed_reconnects),
            warn_if_any(reader.unmapped_reads),
            warn_if_any(reader.unknown_messages),
            warn_if_any(reader.candidates_evicted),
            reader.model.as_deref().unwrap_or("-").into(),
            reader.firmware.as_deref().unwrap_or("-").into(),
            "".into(),
        ]);
        // A handheld's antennas count into the zone of its count session, not their own.
        let handheld = reader.role == "handheld";
        for antenna in &reader.antennas {
            table.row(vec![
                "".into(),
                "".into(),
                "".into(),
                "".into(),
                antenna.antenna.to_string().into(),
                if handheld { "-" } else { antenna.zone.as_str() }.into(),
                link(&antenna.link),
                format!("{:.1}", antenna.reads_per_sec).into(),
                ago(antenna.last_read, now).into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
                trust(antenna.trust.as_ref()),
            ]);
        }
    }
    table.render(colour)
}

/// `trusted (2 sentinels)`, `SUSPECT (baseline 120/s)`, `unwatched`, or `-` from a daemon that predates it.
fn trust(trust: Option<&tagtally_contract::AntennaTrustEntry>) -> Cell {
    let Some(trust) = trust else {
        return "-".into();
    };
    let detail = if trust.sentinels > 0 {
        format!("{} sentinels", trust.sentinels)
    } else {
        trust.baseline_per_sec.map_or_else(
            || "no baseline yet".to_owned(),
            |b| format!("baseline {b}/s"),
        )
    };
    match trust.state.as_str() {
        "suspect" => Cell::toned(format!("SUSPECT ({detail})"), Tone::Bad),
        "trusted" => Cell::toned(format!("trusted ({detail})"), Tone::Good),
        other => Cell::toned(format!("{other} ({detail})"), Tone::Plain),
    }
}

fn warn_if_any(count: u64) -> Cell {
    Cell::toned(
        count.to_string(),
        if count > 0 { Tone::Warn } else { Tone::Plain },
    )
}

fn link(link: &Link) -> Cell {
    match (link.state, &link.reason) {
        (ReaderLinkState::Up, _) => Cell::toned("up", Tone::Good),
        (ReaderLinkState::Down, None) => Cell::toned("down", Tone::Bad),
        (ReaderLinkState::Down, Some(reason)) => Cell::toned(format!("down: {reason}"), Tone::Bad),
    }
}
