//! `tagtally tail`: the live stream of reads, arrivals, departures and moves, until Ctrl-C.
//!
//! `--json` prints each event as one JSON object per line, and `{"dropped":N}` where the
//! daemon skipped N events because this client read too slowly; the readable form reports
//! such gaps on stderr so that stdout stays one event per line.

use super::daemon::{connect, fail, json_line, print};
use super::TailArgs;
use serde_json::json;
use std::process::ExitCode;
use tagtally::control::{TailEvent, TailFilter, TailKind, TailLine};
use tagtally::exit;

/// Runs `tail`.
pub fn run(args: &TailArgs) -> ExitCode {
    let filter = TailFilter {
        kinds: args.kind.clone(),
        zone: args.zone.clone(),
        reader: args.reader.clone(),
        sku: args.sku.clone(),
        epc: args.epc.clone(),
    };
    let stream = match connect(&args.control)
        .and_then(|client| client.tail(&filter).map_err(|e| fail(&e)))
    {
        Ok(stream) => stream,
        Err(code) => return code,
    };
    for line in stream {
        let text = match line {
            Err(error) => return fail(&error),
            Ok(TailLine::Event(event)) if args.control.json => json_line(&event),
            Ok(TailLine::Event(event)) => render(&event),
            Ok(TailLine::Dropped(count)) if args.control.json => {
                json_line(&json!({ "dropped": count }))
            }
            Ok(TailLine::Dropped(count)) => {
                eprintln!(
                    "tagtally: {count} events dropped: this terminal reads slower than the store produces them"
                );
                continue;
            }
        };
        if let Err(code) = print(&text) {
            return code;
        }
    }
    eprintln!("tagtally: the daemon ended the stream");
    exit::code(exit::UNAVAILABLE)
}

/// `--kind` values.
pub fn parse_kind(text: &str) -> Result<TailKind, String> {
    [
        TailKind::Read,
        TailKind::Arrival,
        TailKind::Departure,
        TailKind::Move,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == text)
    .ok_or_else(|| format!("`{text}` is not one of read, arrival, departure, move"))
}

/// `--epc` values: hex digits, compared case-insensitively.
pub fn parse_epc_prefix(text: &str) -> Result<String, String> {
    if text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!("`{text}` is not hex"))
    }
}

/// One readable line: time, kind, where, EPC, then what else is known.
pub fn render(event: &TailEvent) -> String {
    let (place, extra) = match event {
        TailEvent::Read {
            reader,
            antenna,
            zone,
            rssi,
            ..
        } => (
            format!("{reader}/{antenna} {zone}"),
            rssi.map(|rssi| format!("{rssi:.1} dBm")),
        ),
        TailEvent::Arrival { zone, .. } => (zone.clone(), None),
        TailEvent::Departure { zone, reason, .. } => {
            (zone.clone(), Some(format!("reason {reason}")))
        }
        TailEvent::Move { from, to, .. } => (format!("{from} -> {to}"), None),
    };
    let mut line = format!(
        "{}  {:<9}  {:<28}  {}",
        event.time(),
        event.kind().as_str(),
        place,
        event.epc()
    );
    if let Some(sku) = event.sku() {
        line.push_str("  sku ");
        line.push_str(sku);
    }
    if let Some(extra) = extra {
        line.push_str("  ");
        line.push_str(&extra);
    }
    line.push('\n');
    line
}
