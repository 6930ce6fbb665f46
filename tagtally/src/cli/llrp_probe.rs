//! `tagtally llrp probe HOST[:PORT] [--json]`: what a reader is and holds, read without changing anything.
//!
//! Exit 0 with the report; exit 69 (unavailable) with the reason on stderr when the reader
//! cannot be reached, another client holds it, or it answers with an error. With `--json`, one
//! document goes to stdout either way: the report with `"ok":true`, or
//! `{"address","ok":false,"error"}`.

use std::process::ExitCode;

use serde_json::{json, Value};
use tagtally::exit;
use tagtally_config::HostPort;
use tagtally_protocol::llrp::{ProtocolVersion, RoSpec, RoSpecState, StartTriggerType};
use tagtally_reader_drivers::llrp::probe::{probe, ProbeReport};
use tagtally_reader_drivers::llrp::{DEFAULT_PORT, OUR_ROSPEC_ID};

use super::LlrpProbeArgs;

/// clap value parser: `HOST` or `HOST:PORT`, port 5084 by default.
pub fn parse_address(text: &str) -> Result<HostPort, String> {
    HostPort::parse(text, Some(DEFAULT_PORT)).map_err(|e| e.to_string())
}

/// Runs `llrp probe`.
pub fn run(args: &LlrpProbeArgs) -> ExitCode {
    let address = args.address.to_string();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tagtally: cannot start the runtime: {error}");
            return exit::code(exit::IO_ERR);
        }
    };
    match runtime.block_on(probe(&address, args.timeout)) {
        Ok(report) => {
            if args.json {
                println!("{}", report_json(&address, &report));
            } else {
                print_report(&address, &report);
            }
            exit::code(exit::OK)
        }
        Err(error) => {
            if args.json {
                println!(
                    "{}",
                    json!({"address": address, "ok": false, "error": error.to_string()})
                );
            }
            eprintln!("tagtally: llrp probe {address}: {error}");
            exit::code(exit::UNAVAILABLE)
        }
    }
}

fn version_text(version: ProtocolVersion) -> String {
    match version {
        ProtocolVersion::V1_0_1 => "1.0.1".into(),
        ProtocolVersion::V1_1 => "1.1".into(),
        ProtocolVersion::Unknown(v) => format!("header version {v}"),
    }
}

fn state_text(state: RoSpecState) -> String {
    match state {
        RoSpecState::Disabled => "disabled".into(),
        RoSpecState::Inactive => "inactive".into(),
        RoSpecState::Active => "active".into(),
        RoSpecState::Unknown(v) => format!("state {v}"),
    }
}

fn start_text(trigger: StartTriggerType) -> String {
    match trigger {
        StartTriggerType::Null => "on start command".into(),
        StartTriggerType::Immediate => "immediate".into(),
        StartTriggerType::Periodic => "periodic".into(),
        StartTriggerType::Gpi => "gpi".into(),
        StartTriggerType::Unknown(v) => format!("trigger {v}"),
    }
}

fn antennas(rospec: &RoSpec) -> Vec<u16> {
    rospec
        .ai_specs
        .iter()
        .flat_map(|a| a.antenna_ids.iter().copied())
        .collect()
}

fn print_report(address: &str, report: &ProbeReport) {
    println!("reader       {address}");
    println!(
        "model        {} (vendor {}, model {})",
        report.model, report.manufacturer, report.model_number
    );
    println!("firmware     {}", report.firmware);
    println!("llrp         {}", version_text(report.version));
    println!(
        "utc clock    {}",
        if report.has_utc_clock { "yes" } else { "no" }
    );
    println!("antennas     {}", report.antennas);
    match (report.power_table.first(), report.power_table.last()) {
        (Some(first), Some(last)) => {
            println!(
                "power table  {} levels, {:.2} to {:.2} dBm",
                report.power_table.len(),
                f64::from(first.1) / 100.0,
                f64::from(last.1) / 100.0
            );
            for row in report.power_table.chunks(6) {
                let cells: Vec<String> = row
                    .iter()
                    .map(|(index, cdbm)| format!("{index:>3}: {:>6.2}", f64::from(*cdbm) / 100.0))
                    .collect();
                println!("             {}", cells.join("  "));
            }
        }
        _ => println!("power table  none reported"),
    }
    println!("rospecs      {}", report.rospecs.len());
    for rospec in &report.rospecs {
        let ours = if rospec.id == OUR_ROSPEC_ID {
            " (tagtally's)"
        } else {
            ""
        };
        let antennas: Vec<String> = antennas(rospec).iter().map(u16::to_string).collect();
        println!(
            "  rospec {}{ours}: {}, priority {}, start {}, antennas {}",
            rospec.id,
            state_text(rospec.current_state),
            rospec.priority,
            start_text(rospec.boundary.start_trigger.trigger_type),
            antennas.join(",")
        );
    }
}

fn report_json(address: &str, report: &ProbeReport) -> Value {
    let power: Vec<Value> = report
        .power_table
        .iter()
        .map(|(index, cdbm)| json!({"index": index, "dbm": f64::from(*cdbm) / 100.0}))
        .collect();
    let rospecs: Vec<Value> = report
        .rospecs
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "ours": r.id == OUR_ROSPEC_ID,
                "state": state_text(r.current_state),
                "priority": r.priority,
                "start_trigger": start_text(r.boundary.start_trigger.trigger_type),
                "antennas": antennas(r),
                "report_every_n": r.report.map(|s| s.n),
            })
        })
        .collect();
    json!({
        "address": address,
        "ok": true,
        "model": report.model,
        "manufacturer": report.manufacturer,
        "model_number": report.model_number,
        "firmware": report.firmware,
        "llrp_version": version_text(report.version),
        "utc_clock": report.has_utc_clock,
        "antennas": report.antennas,
        "power_table": power,
        "rospecs": rospecs,
    })
}
