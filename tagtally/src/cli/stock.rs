//! `tagtally stock [--zone Z] [--sku S]`: current counts (SPEC §5).
//!
//! `--json` prints exactly `{"store","epoch","seq","counts":[{"zone","sku","count"}]}`.

use super::daemon::{connect, fail, json_line, print};
use super::table::{colour_on_stdout, Align, Table};
use super::StockArgs;
use std::process::ExitCode;
use tagtally::control::{Stock, StockFilter};
use tagtally::exit;

/// Runs `stock`.
pub fn run(args: &StockArgs) -> ExitCode {
    if args.departures {
        return super::departures::run(&args.control, args.window);
    }
    let filter = StockFilter {
        zone: args.zone.clone(),
        sku: args.sku.clone(),
    };
    let stock = match connect(&args.control)
        .and_then(|mut client| client.stock(&filter).map_err(|e| fail(&e)))
    {
        Ok(stock) => stock,
        Err(code) => return code,
    };
    let text = if args.control.json {
        json_line(&stock)
    } else {
        render(&stock, colour_on_stdout())
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// The readable form: a heading line, then ZONE / ROLE / SKU / COUNT and a total.
pub fn render(stock: &Stock, colour: bool) -> String {
    let mut out = format!(
        "store {}  epoch {}  seq {}\n",
        stock.store, stock.epoch, stock.seq
    );
    if stock.counts.is_empty() {
        out.push_str("no counts match\n");
        return out;
    }
    let mut table = Table::new(&[
        ("ZONE", Align::Left),
        ("ROLE", Align::Left),
        ("SKU", Align::Left),
        ("COUNT", Align::Right),
    ]);
    for count in &stock.counts {
        // A zone no longer configured (counts restored from an older layout) has no role to show.
        let role = stock
            .zones
            .iter()
            .find(|zone| zone.zone == count.zone)
            .map_or("-", |zone| zone.role.as_str());
        table.row(vec![
            count.zone.as_str().into(),
            role.into(),
            count.sku.as_str().into(),
            count.count.to_string().into(),
        ]);
    }
    let total: u64 = stock.counts.iter().map(|count| count.count).sum();
    table.row(vec![
        "total".into(),
        "".into(),
        "".into(),
        total.to_string().into(),
    ]);
    out.push_str(&table.render(colour));
    out
}
