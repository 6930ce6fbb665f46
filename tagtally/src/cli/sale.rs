//! `tagtally sale EPC...`: sold at the till (SPEC §10); each present tag departs at the next flush.

use super::daemon::{connect, json_line, print};
use super::operation::{operate, unexpected};
use super::SaleArgs;
use std::process::ExitCode;
use tagtally::control::operations::{SaleReply, SaleRequest, MAX_EPCS_PER_REQUEST};
use tagtally::control::protocol::{Reply, Request};
use tagtally::exit;

/// Runs `sale`: the EPCs go in requests of at most `MAX_EPCS_PER_REQUEST`; all are checked first.
pub fn run(args: &SaleArgs) -> ExitCode {
    for epc in &args.epcs {
        if let Err(why) = tagtally_contract::epc_from_hex(epc) {
            eprintln!(
                "tagtally: `{}`: {why}; nothing was sold",
                tagtally_protocol::text::Escaped(epc)
            );
            return exit::code(exit::DATA_ERR);
        }
    }
    let mut client = match connect(&args.control) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let mut total = SaleReply {
        sold: 0,
        not_present: 0,
    };
    for chunk in args.epcs.chunks(MAX_EPCS_PER_REQUEST) {
        let request = Request::Sale(SaleRequest {
            epcs: chunk.to_vec(),
        });
        match operate(&mut client, &request) {
            Ok(Reply::Sale(reply)) => {
                total.sold += reply.sold;
                total.not_present += reply.not_present;
            }
            Ok(other) => return unexpected(&other),
            Err(code) => return code,
        }
    }
    let text = if args.control.json {
        json_line(&total)
    } else {
        format!(
            "sold {} (they leave the stock at the next flush); not in stock: {}\n",
            total.sold, total.not_present
        )
    };
    match print(&text) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}
