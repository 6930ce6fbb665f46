//! `tagtally hq ...`: the HQ service (SPEC §11) and its queries over the HTTP API.
//!
//! `run` and `check-config` read `hq.toml` (exit 78 on a bad one); `stores`, `stock` and
//! `availability` ask a running service (exit 69 when none answers) and print a table, or the
//! API's JSON with `--json`.

use super::table::{colour_on_stdout, Align, Cell, Table, Tone};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tagtally::exit;
use tagtally::run::logging;
use tagtally_config::{FileChecks, HqConfig, DEFAULT_HQ_CONFIG_PATH};

/// `tagtally hq` subcommands.
#[derive(Debug, Subcommand)]
pub enum HqCommand {
    /// The HQ service in the foreground: every store's topics into PostgreSQL, the HTTP API.
    Run(HqConfigArgs),
    /// Validate hq.toml; every problem is printed as FILE:LINE:COL: message.
    CheckConfig(HqConfigArgs),
    /// Every store's health: online, epoch, seq, lag, open gap, freshness, requests asked.
    Stores(HqQueryArgs),
    /// One store's stock by zone and SKU.
    Stock(HqStockArgs),
    /// Where a SKU is in stock, per store: by zone role, with freshness.
    Availability(HqAvailabilityArgs),
}

/// The config file.
#[derive(Debug, Args)]
pub struct HqConfigArgs {
    /// hq.toml.
    #[arg(short, long, value_name = "FILE", default_value = DEFAULT_HQ_CONFIG_PATH)]
    pub config: PathBuf,
}

/// How the queries reach the service.
#[derive(Debug, Args)]
pub struct HqQueryArgs {
    /// hq.toml, whose `[http] listen` is asked.
    #[arg(short, long, value_name = "FILE", default_value = DEFAULT_HQ_CONFIG_PATH)]
    pub config: PathBuf,
    /// Ask this address instead (the config is then not read).
    #[arg(long, value_name = "ADDR")]
    pub api: Option<SocketAddr>,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tagtally hq stock`.
#[derive(Debug, Args)]
pub struct HqStockArgs {
    /// The store.
    pub store: String,
    /// Only this zone.
    #[arg(long)]
    pub zone: Option<String>,
    /// Only this SKU.
    #[arg(long)]
    pub sku: Option<String>,
    #[command(flatten)]
    pub query: HqQueryArgs,
}

/// `tagtally hq availability`.
#[derive(Debug, Args)]
pub struct HqAvailabilityArgs {
    /// The SKU.
    pub sku: String,
    #[command(flatten)]
    pub query: HqQueryArgs,
}

/// Runs a `tagtally hq` subcommand.
pub fn run(command: &HqCommand) -> ExitCode {
    match command {
        HqCommand::Run(args) => serve(args),
        HqCommand::CheckConfig(args) => check_config(args),
        HqCommand::Stores(args) => query(args, "/v1/stores".to_owned(), print_stores),
        HqCommand::Stock(args) => {
            let mut path = format!("/v1/stores/{}/stock", encode(&args.store));
            let filters: Vec<String> = [("zone", &args.zone), ("sku", &args.sku)]
                .into_iter()
                .filter_map(|(key, value)| {
                    value
                        .as_ref()
                        .map(|value| format!("{key}={}", encode(value)))
                })
                .collect();
            if !filters.is_empty() {
                path = format!("{path}?{}", filters.join("&"));
            }
            query(&args.query, path, print_stock)
        }
        HqCommand::Availability(args) => query(
            &args.query,
            format!("/v1/skus/{}/availability", encode(&args.sku)),
            print_availability,
        ),
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn check_config(args: &HqConfigArgs) -> ExitCode {
    match HqConfig::load(&args.config) {
        Ok(config) => {
            println!(
                "ok: {} (database pool {}, broker {}, api {})",
                args.config.display(),
                config.database.pool_size,
                config.mqtt.broker.address,
                config.listen
            );
            exit::code(exit::OK)
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            exit::code(exit::CONFIG)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("tagtally hq: cannot start the runtime: {error}");
            exit::code(exit::IO_ERR)
        })
}

fn serve(args: &HqConfigArgs) -> ExitCode {
    let config = match HqConfig::load(&args.config) {
        Ok(config) => config,
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            return exit::code(exit::CONFIG);
        }
    };
    logging::init_stderr(config.log_level, tagtally_config::LogFormat::Text);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let mut service = match tagtally_hq::service::start(&config).await {
            Ok(service) => service,
            Err(error) => {
                tracing::error!(%error, "tagtally hq cannot start");
                return exit::code(exit::UNAVAILABLE);
            }
        };
        let _ = tagtally::notify::notify("READY=1");
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            () = service.wait() => {
                tracing::error!("a task of tagtally hq ended; stopping");
                exit::code(exit::UNAVAILABLE)
            }
            _ = tokio::signal::ctrl_c() => exit::code(exit::OK),
            () = terminate => exit::code(exit::OK),
        }
    })
}

fn query(args: &HqQueryArgs, path: String, print: fn(&Value)) -> ExitCode {
    let address = match args.api {
        Some(address) => address,
        // The queries need only the address: no secret file has to be readable for them.
        None => match HqConfig::load_with(&args.config, &FileChecks::Skip) {
            Ok(config) => config.listen,
            Err(errors) => {
                for error in &errors {
                    eprintln!("{error}");
                }
                return exit::code(exit::CONFIG);
            }
        },
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let (status, body) = match runtime.block_on(tagtally_hq::client::get(address, &path)) {
        Ok(answer) => answer,
        Err(error) => {
            eprintln!("tagtally hq: {error}");
            return exit::code(exit::UNAVAILABLE);
        }
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(error) => {
            eprintln!("tagtally hq: the api at {address} answered {status} with no JSON: {error}");
            return exit::code(exit::UNAVAILABLE);
        }
    };
    if status != 200 {
        eprintln!(
            "tagtally hq: {}",
            value["error"]
                .as_str()
                .unwrap_or("the api refused the request")
        );
        return exit::code(if status == 503 {
            exit::UNAVAILABLE
        } else {
            exit::DATA_ERR
        });
    }
    if args.json {
        println!("{value}");
    } else {
        print(&value);
    }
    exit::code(exit::OK)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

fn stale_cell(value: &Value) -> Cell {
    if value["stale"].as_bool().unwrap_or(true) {
        Cell::toned("stale", Tone::Warn)
    } else {
        Cell::toned("fresh", Tone::Good)
    }
}

fn print_stores(value: &Value) {
    let mut table = Table::new(&[
        ("store", Align::Left),
        ("state", Align::Left),
        ("seq", Align::Right),
        ("lag", Align::Right),
        ("gap", Align::Left),
        ("freshness", Align::Right),
        ("", Align::Left),
        ("replays", Align::Right),
        ("snapshots", Align::Right),
    ]);
    for store in value["stores"].as_array().into_iter().flatten() {
        let gap = match &store["open_gap"] {
            Value::Null => "-".to_owned(),
            gap => format!("{}..{}", text(&gap["from_seq"]), text(&gap["to_seq"])),
        };
        let online = store["online"].as_bool().unwrap_or(false);
        table.row(vec![
            text(&store["store"]).into(),
            Cell::toned(
                if online { "online" } else { "offline" },
                if online { Tone::Good } else { Tone::Bad },
            ),
            text(&store["seq"]).into(),
            text(&store["lag"]).into(),
            gap.into(),
            format!("{}s", text(&store["freshness_seconds"])).into(),
            stale_cell(store),
            text(&store["replays_asked"]).into(),
            text(&store["snapshots_asked"]).into(),
        ]);
    }
    print!("{}", table.render(colour_on_stdout()));
}

fn print_stock(value: &Value) {
    println!(
        "{} epoch {} seq {} ({}s ago{})",
        text(&value["store"]),
        text(&value["epoch"]),
        text(&value["seq"]),
        text(&value["freshness_seconds"]),
        if value["stale"].as_bool().unwrap_or(true) {
            ", stale"
        } else {
            ""
        }
    );
    let mut table = Table::new(&[
        ("zone", Align::Left),
        ("sku", Align::Left),
        ("count", Align::Right),
    ]);
    for count in value["counts"].as_array().into_iter().flatten() {
        table.row(vec![
            text(&count["zone"]).into(),
            text(&count["sku"]).into(),
            text(&count["count"]).into(),
        ]);
    }
    print!("{}", table.render(colour_on_stdout()));
}

fn print_availability(value: &Value) {
    let mut table = Table::new(&[
        ("store", Align::Left),
        ("total", Align::Right),
        ("by role", Align::Left),
        ("freshness", Align::Right),
        ("", Align::Left),
    ]);
    for store in value["stores"].as_array().into_iter().flatten() {
        let by_role = store["by_role"]
            .as_object()
            .map(|roles| {
                roles
                    .iter()
                    .map(|(role, count)| format!("{role} {count}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        table.row(vec![
            text(&store["store"]).into(),
            text(&store["total"]).into(),
            by_role.into(),
            format!("{}s", text(&store["freshness_seconds"])).into(),
            stale_cell(store),
        ]);
    }
    print!("{}", table.render(colour_on_stdout()));
}
