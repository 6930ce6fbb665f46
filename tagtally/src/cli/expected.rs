//! `tagtally expected import FILE` and `tagtally expected show`: book stock for stores without HQ's `expected` feed (SPEC §10).
//!
//! The whole file is read and checked here first (CSV `sku,count`, bounded in bytes, per line and
//! in SKUs), so a bad line is reported with its number before the daemon is asked anything; then
//! it goes to the daemon as one upload in request-sized pieces, and only the upload's commit puts
//! it in force. On any failure the book stock in force stays as it was.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use super::daemon::{connect, json_line, print};
use super::operation::{operate, unexpected};
use super::ControlArgs;
use tagtally::control::book::{BookView, ExpectedReply, ExpectedRequest};
use tagtally::control::protocol::{Reply, Request, MAX_REQUEST_BYTES};
use tagtally::control::ControlClient;
use tagtally::exit;
use tagtally::operations::{read_book_csv, BookSource};

/// Largest book stock file read: 100 000 SKUs of GTIN-14 length take about 2 MiB; the bound
/// refuses a wrong file (a log, a database dump) before any of it is read.
pub const MAX_BOOK_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Room in a request line for the envelope around an `add`'s items.
const ADD_ENVELOPE_BYTES: usize = 128;

/// `tagtally expected import FILE [--as-of T]`.
pub fn import(control: &ControlArgs, file: &Path, as_of: Option<&str>) -> ExitCode {
    let items = match read_file(file) {
        Ok(items) => items,
        Err(why) => {
            eprintln!(
                "tagtally: {}: {why}; the book stock in force stays",
                file.display()
            );
            return exit::code(exit::DATA_ERR);
        }
    };
    let as_of = as_of.map_or_else(
        || humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        str::to_owned,
    );
    let mut client = match connect(control) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let book = match upload(&mut client, as_of, &items) {
        Ok(book) => book,
        Err(code) => {
            eprintln!("tagtally: nothing was imported; the book stock in force stays");
            return code;
        }
    };
    let text = if control.json {
        json_line(&book)
    } else {
        format!(
            "book stock in force: {} skus, {} items, as of {} ({})\n",
            book.skus, book.units, book.as_of, book.id
        )
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// `tagtally expected show`.
pub fn show(control: &ControlArgs) -> ExitCode {
    let mut client = match connect(control) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let book = match operate(&mut client, &Request::Expected(ExpectedRequest::Show)) {
        Ok(Reply::Expected(ExpectedReply::Current(book))) => book,
        Ok(other) => return unexpected(&other),
        Err(code) => return code,
    };
    let text = match (&book, control.json) {
        (_, true) => json_line(&book),
        (None, false) => "no book stock\n".to_owned(),
        (Some(b), false) => format!(
            "book stock: {} skus, {} items, as of {} (source {}, {})\n",
            b.skus, b.units, b.as_of, b.source, b.id
        ),
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// The file's items, every line checked, or why it is refused.
fn read_file(path: &Path) -> Result<Vec<(String, u32)>, String> {
    let file = File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    if meta.len() > MAX_BOOK_FILE_BYTES {
        return Err(format!(
            "it is {} bytes, larger than a book stock file may be ({MAX_BOOK_FILE_BYTES} bytes)",
            meta.len()
        ));
    }
    // The bound holds even when the file grows while it is read.
    let reader = BufReader::new(file.take(MAX_BOOK_FILE_BYTES));
    let book = read_book_csv(reader).map_err(|e| e.to_string())?;
    Ok(book
        .finish(String::new(), String::new(), BookSource::Import)
        .items)
}

/// Sends `items` as one upload and commits it.
fn upload(
    client: &mut ControlClient,
    as_of: String,
    items: &[(String, u32)],
) -> Result<BookView, ExitCode> {
    let upload = match operate(client, &Request::Expected(ExpectedRequest::Begin { as_of }))? {
        Reply::Expected(ExpectedReply::Begun { upload }) => upload,
        other => return Err(unexpected(&other)),
    };
    let budget = MAX_REQUEST_BYTES - ADD_ENVELOPE_BYTES;
    let mut piece: Vec<(String, u64)> = Vec::new();
    let mut used = 0;
    for (sku, count) in items {
        let size = serde_json::to_string(&(sku, count)).map_or(budget, |s| s.len() + 1);
        if used + size > budget && !piece.is_empty() {
            add(client, upload, std::mem::take(&mut piece))?;
            used = 0;
        }
        piece.push((sku.clone(), u64::from(*count)));
        used += size;
    }
    if !piece.is_empty() {
        add(client, upload, piece)?;
    }
    match operate(
        client,
        &Request::Expected(ExpectedRequest::Commit { upload }),
    )? {
        Reply::Expected(ExpectedReply::Committed(book)) => Ok(book),
        other => Err(unexpected(&other)),
    }
}

fn add(client: &mut ControlClient, upload: u64, items: Vec<(String, u64)>) -> Result<(), ExitCode> {
    match operate(
        client,
        &Request::Expected(ExpectedRequest::Add { upload, items }),
    )? {
        Reply::Expected(ExpectedReply::Added { .. }) => Ok(()),
        other => Err(unexpected(&other)),
    }
}
