//! `tagtally replenish [--json]`: the pick list, what to bring from the stockroom to the sales floor (SPEC §10).

use std::process::ExitCode;

use super::daemon::{connect, json_line, print};
use super::operation::{operate, unexpected};
use super::table::{colour_on_stdout, Align, Table};
use super::ControlArgs;
use tagtally::control::protocol::{Reply, Request};
use tagtally::control::replenish::{ReplenishReply, ReplenishRequest};
use tagtally::exit;

/// Runs `replenish`.
pub fn run(control: &ControlArgs) -> ExitCode {
    let mut client = match connect(control) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let reply = match operate(&mut client, &Request::Replenish(ReplenishRequest {})) {
        Ok(Reply::Replenish(reply)) => reply,
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

/// The readable form: a heading, then SKU / ON FLOOR / IN STOCKROOM / MIN / TO BRING, most first.
pub fn render(reply: &ReplenishReply, colour: bool) -> String {
    let mut out = format!(
        "pick list at seq {} (minimum on the floor {}, {} skus with their own): {} skus\n",
        reply.seq,
        reply.min_on_floor,
        reply.skus_with_own_min,
        reply.lines.len()
    );
    if reply.lines.is_empty() {
        out.push_str("nothing to bring out\n");
        return out;
    }
    let mut table = Table::new(&[
        ("SKU", Align::Left),
        ("ON FLOOR", Align::Right),
        ("IN STOCKROOM", Align::Right),
        ("MIN", Align::Right),
        ("TO BRING", Align::Right),
    ]);
    for line in &reply.lines {
        table.row(vec![
            line.sku.as_str().into(),
            line.on_floor.to_string().into(),
            line.in_stockroom.to_string().into(),
            line.min.to_string().into(),
            line.to_bring.to_string().into(),
        ]);
    }
    out.push_str(&table.render(colour));
    out
}
