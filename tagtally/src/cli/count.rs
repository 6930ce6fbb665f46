//! `tagtally count start|status|finish|cancel|import`: cycle counts (SPEC §10).
//!
//! `import` reads the file here, line by line (bounded: see `operations::import_file`), skips and
//! counts junk lines, and sends the EPCs to an import session in requests of at most
//! `MAX_EPCS_PER_REQUEST`; the daemon merges duplicates. Any failure before `finish` cancels the
//! session: an import applies whole or not at all.

use super::daemon::{connect, json_line, print};
use super::operation::{operate, unexpected};
use super::{ControlArgs, CountCommand};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::process::ExitCode;
use tagtally::control::operations::{
    CancelledCount, CountReply, CountRequest, CountResultView, CountSessionView,
    MAX_EPCS_PER_REQUEST,
};
use tagtally::control::protocol::{Reply, Request};
use tagtally::control::ControlClient;
use tagtally::exit;
use tagtally::operations::import_file::{ImportLine, ImportLines, ImportTally};

/// Bytes of EPC text per `add` request, well inside the 4 KiB request line.
const ADD_REQUEST_BUDGET: usize = 3200;

/// Runs `count`.
pub fn run(command: &CountCommand) -> ExitCode {
    let (control, request) = match command {
        CountCommand::Start {
            control,
            zone,
            reader,
        } => (
            control,
            CountRequest::Start {
                zone: zone.clone(),
                reader: reader.clone(),
            },
        ),
        CountCommand::Status { control } => (control, CountRequest::Status),
        CountCommand::Finish { control, zone } => {
            (control, CountRequest::Finish { zone: zone.clone() })
        }
        CountCommand::Cancel { control, zone } => {
            (control, CountRequest::Cancel { zone: zone.clone() })
        }
        CountCommand::Import {
            control,
            zone,
            file,
        } => return import(control, zone, file),
    };
    let mut client = match connect(control) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let reply = match operate(&mut client, &Request::Count(request)) {
        Ok(Reply::Count(reply)) => reply,
        Ok(other) => return unexpected(&other),
        Err(code) => return code,
    };
    let text = if control.json {
        json_line(&reply)
    } else {
        render(&reply)
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// The readable form of a reply.
pub fn render(reply: &CountReply) -> String {
    match reply {
        CountReply::Started(s) => format!("count opened: {}\n", session_line(s)),
        CountReply::Added(s) => format!("{}\n", session_line(s)),
        CountReply::Finished(r) => result_text(r),
        CountReply::Cancelled(c) => format!("{}\n", cancelled_line(c)),
        CountReply::Status {
            open,
            cancelled,
            reads_outside_sessions,
        } => {
            let mut out = String::new();
            if open.is_empty() {
                out.push_str("no count open\n");
            }
            for s in open {
                out.push_str(&format!("open: {}\n", session_line(s)));
            }
            for c in cancelled {
                out.push_str(&format!("ended unapplied: {}\n", cancelled_line(c)));
            }
            out.push_str(&format!(
                "handheld reads outside any count: {reads_outside_sessions}\n"
            ));
            out
        }
    }
}

fn session_line(s: &CountSessionView) -> String {
    let source = s
        .reader
        .as_deref()
        .map_or_else(|| "import".to_owned(), |r| format!("handheld {r}"));
    format!(
        "zone {}  {source}  started {}  seen {} ({} reads)  cancelled after {} unless finished",
        s.zone, s.started, s.seen, s.reads, s.expires
    )
}

fn cancelled_line(c: &CancelledCount) -> String {
    let why = match c.reason.as_str() {
        "restart" => "cancelled by a daemon restart, nothing applied: count again",
        "expired" => "open longer than count-max-duration, nothing applied",
        _ => "cancelled, nothing applied",
    };
    format!("zone {} ({}) at {}: {why}", c.zone, c.session, c.at)
}

fn result_text(r: &CountResultView) -> String {
    format!(
        "count of zone {} applied (seq {}): seen {}, arrived {}, moved in {}, departed {}, not decoded {}, left elsewhere {}\n",
        r.zone, r.seq, r.seen, r.arrived, r.moved_in, r.departed, r.not_decoded, r.kept_elsewhere
    )
}

fn import(control: &ControlArgs, zone: &str, file: &Path) -> ExitCode {
    let opened = File::open(file).and_then(|f| {
        if f.metadata()?.is_dir() {
            return Err(std::io::Error::other("it is a directory"));
        }
        Ok(f)
    });
    let file_handle = match opened {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tagtally: cannot read {}: {e}", file.display());
            return exit::code(exit::DATA_ERR);
        }
    };
    let mut client = match connect(control) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let open = Request::Count(CountRequest::Import {
        zone: zone.to_owned(),
    });
    match operate(&mut client, &open) {
        Ok(Reply::Count(CountReply::Started(_))) => {}
        Ok(other) => return unexpected(&other),
        Err(code) => return code,
    }
    let tally = match send_file(&mut client, zone, file_handle) {
        Ok(tally) => tally,
        Err(code) => {
            // Whatever went wrong, nothing of the file applies.
            let cancel = Request::Count(CountRequest::Cancel {
                zone: Some(zone.to_owned()),
            });
            if operate(&mut client, &cancel).is_ok() {
                eprintln!("tagtally: the import was cancelled; nothing was applied");
            }
            return code;
        }
    };
    let finish = Request::Count(CountRequest::Finish {
        zone: Some(zone.to_owned()),
    });
    let result = match operate(&mut client, &finish) {
        Ok(Reply::Count(CountReply::Finished(result))) => result,
        Ok(other) => return unexpected(&other),
        Err(code) => return code,
    };
    let text = if control.json {
        json_line(&serde_json::json!({
            "lines": tally.lines,
            "epc_lines": tally.epcs,
            "blank_lines": tally.blank,
            "junk_lines": tally.junk,
            "duplicates": tally.epcs.saturating_sub(result.seen),
            "result": result,
        }))
    } else {
        let mut out = format!(
            "{} lines: {} epcs ({} duplicates), {} blank, {} junk skipped\n",
            tally.lines,
            tally.epcs,
            tally.epcs.saturating_sub(result.seen),
            tally.blank,
            tally.junk
        );
        for (line, why) in &tally.junk_shown {
            out.push_str(&format!("  line {line}: {why}\n"));
        }
        out.push_str(&result_text(&result));
        out
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// Streams the file's EPCs to the import session of `zone`.
fn send_file(client: &mut ControlClient, zone: &str, file: File) -> Result<ImportTally, ExitCode> {
    let mut lines = ImportLines::new(BufReader::new(file));
    let mut tally = ImportTally::default();
    let mut batch: Vec<String> = Vec::new();
    let mut batch_bytes = 0;
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                eprintln!("tagtally: cannot read the import file: {e}");
                return Err(exit::code(exit::IO_ERR));
            }
        };
        tally.count(&line);
        let ImportLine::Epc(epc) = line else {
            continue;
        };
        let hex: String = epc.iter().map(|b| format!("{b:02x}")).collect();
        batch_bytes += hex.len() + 3;
        batch.push(hex);
        if batch.len() == MAX_EPCS_PER_REQUEST || batch_bytes >= ADD_REQUEST_BUDGET {
            add(client, zone, std::mem::take(&mut batch))?;
            batch_bytes = 0;
        }
    }
    if !batch.is_empty() {
        add(client, zone, batch)?;
    }
    Ok(tally)
}

fn add(client: &mut ControlClient, zone: &str, epcs: Vec<String>) -> Result<(), ExitCode> {
    let request = Request::Count(CountRequest::Add {
        zone: zone.to_owned(),
        epcs,
    });
    match operate(client, &request)? {
        Reply::Count(CountReply::Added(_)) => Ok(()),
        other => Err(unexpected(&other)),
    }
}
