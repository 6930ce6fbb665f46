//! `tagtally stock --departures [--window D]`: departures per SKU and reason over a window; the
//! `unseen` column (not sold, not missing at a count: just gone) is the shrink signal.

use super::daemon::{connect, json_line, print};
use super::operation::{operate, unexpected};
use super::table::{colour_on_stdout, Align, Table};
use super::ControlArgs;
use std::process::ExitCode;
use std::time::Duration;
use tagtally::control::operations::{DeparturesReply, DeparturesRequest};
use tagtally::control::protocol::{Reply, Request};
use tagtally::exit;

/// Runs `stock --departures`.
pub fn run(control: &ControlArgs, window: Duration) -> ExitCode {
    let mut client = match connect(control) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let request = Request::Departures(DeparturesRequest {
        window_secs: window.as_secs().max(1),
    });
    let reply = match operate(&mut client, &request) {
        Ok(Reply::Departures(reply)) => reply,
        Ok(other) => return unexpected(&other),
        Err(code) => return code,
    };
    let text = if control.json {
        json_line(&reply)
    } else {
        render(&reply, colour_on_stdout())
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// The readable form: a heading, then SKU / UNSEEN / SALE / COUNT, most unexplained first.
pub fn render(reply: &DeparturesReply, colour: bool) -> String {
    let mut out = format!("departures since {}\n", reply.since);
    if reply.skus.is_empty() {
        out.push_str("no departures\n");
        return out;
    }
    let mut table = Table::new(&[
        ("SKU", Align::Left),
        ("UNSEEN", Align::Right),
        ("SALE", Align::Right),
        ("COUNT", Align::Right),
    ]);
    for s in &reply.skus {
        table.row(vec![
            s.sku.as_str().into(),
            s.unseen.to_string().into(),
            s.sale.to_string().into(),
            s.count.to_string().into(),
        ]);
    }
    out.push_str(&table.render(colour));
    out
}
