//! `tagtally reconcile [--json]`: book stock against the count, per SKU that disagrees (SPEC §10).

use std::process::ExitCode;

use super::daemon::{connect, json_line, print};
use super::operation::{operate, unexpected};
use super::table::{colour_on_stdout, Align, Table};
use super::ControlArgs;
use tagtally::control::book::{ReconcileReply, ReconcileRequest};
use tagtally::control::protocol::{Reply, Request};
use tagtally::exit;

/// Runs `reconcile`.
pub fn run(control: &ControlArgs) -> ExitCode {
    let mut client = match connect(control) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let reply = match operate(&mut client, &Request::Reconcile(ReconcileRequest {})) {
        Ok(Reply::Reconcile(reply)) => reply,
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

/// The readable form: a heading, then SKU / BOOK / COUNTED / DIFF / STALE, largest difference first.
pub fn render(reply: &ReconcileReply, colour: bool) -> String {
    let mut out = format!(
        "book stock {} as of {} ({} skus) against counts at seq {}: {} agree, {} differ\n",
        reply.book.id,
        reply.book.as_of,
        reply.book.skus,
        reply.seq,
        reply.agreeing,
        reply.discrepancies.len()
    );
    if !reply.stale_zones.is_empty() {
        out.push_str(&format!(
            "stale zones (their counts may be behind): {}\n",
            reply.stale_zones.join(", ")
        ));
    }
    if reply.discrepancies.is_empty() {
        return out;
    }
    let mut table = Table::new(&[
        ("SKU", Align::Left),
        ("BOOK", Align::Right),
        ("COUNTED", Align::Right),
        ("DIFF", Align::Right),
        ("STALE", Align::Left),
    ]);
    for line in &reply.discrepancies {
        table.row(vec![
            line.sku.as_str().into(),
            line.book.to_string().into(),
            line.counted.to_string().into(),
            format!("{:+}", line.difference).into(),
            if line.stale { "stale" } else { "" }.into(),
        ]);
    }
    out.push_str(&table.render(colour));
    out
}
