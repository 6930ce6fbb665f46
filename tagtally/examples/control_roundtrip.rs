//! Measures the `stock --sku` round trip over the control socket (SPEC §8: p99 ≤ 1 ms).
//!
//! Serves a store-sized stock table (5 zones × 4 000 SKUs = 20 000 counts) from a
//! [`FixedBackend`] on a socket in a temporary directory, then times, with the blocking client
//! the CLI uses: `--requests` `stock --sku` requests on one connection, and as many
//! connect + request + close cycles. Prints p50/p90/p99/max per mode.
//!
//! ```text
//! cargo run --release -p tagtally --example control_roundtrip -- [--requests N] [--hold]
//! ```
//!
//! `--hold` keeps serving after the measurement and prints the socket path, for trying the
//! CLI by hand (`tagtally stock --socket PATH`); stop it with Ctrl-C.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tagtally::control::{
    AntennaStatus, ControlClient, ControlServer, FixedBackend, Link, Mqtt, MqttState, Outbox,
    ReaderLinkState, ReaderStatus, ServerLimits, Status, Stock, StockCount, StockFilter,
    StockSnapshot, TailHub, Timestamp,
};

const ZONES: [&str; 5] = [
    "backroom",
    "fitting-rooms",
    "floor",
    "stockroom-2",
    "window",
];
const SKUS: u64 = 4_000;

fn main() -> Result<(), Box<dyn Error>> {
    let mut requests = 10_000usize;
    let mut hold = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--requests" => {
                requests = args
                    .next()
                    .ok_or("--requests needs a number")?
                    .parse()
                    .map_err(|error| format!("--requests: {error}"))?;
            }
            "--hold" => hold = true,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let requests = requests.max(1);

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("control.sock");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let server = ControlServer::bind(&path, ServerLimits::default())?;
    let backend = Arc::new(backend());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = runtime.spawn(server.serve(backend, async {
        let _ = stopped.await;
    }));

    let sku = |i: usize| gtin(i as u64 * 7919 % SKUS);
    let filter = |i: usize| StockFilter {
        zone: None,
        sku: Some(sku(i)),
    };

    // Warm-up: page in code and let the runtime's threads settle.
    let mut client = ControlClient::connect(&path)?;
    for i in 0..1_000 {
        client.stock(&filter(i))?;
    }

    let mut one_connection = Vec::with_capacity(requests);
    for i in 0..requests {
        let started = Instant::now();
        let stock = client.stock(&filter(i))?;
        one_connection.push(started.elapsed());
        if stock.counts.len() != ZONES.len() {
            return Err(format!(
                "expected {} counts, got {}",
                ZONES.len(),
                stock.counts.len()
            )
            .into());
        }
    }
    drop(client);

    let mut with_connect = Vec::with_capacity(requests);
    for i in 0..requests {
        let started = Instant::now();
        let mut client = ControlClient::connect(&path)?;
        client.stock(&filter(i))?;
        drop(client);
        with_connect.push(started.elapsed());
    }

    println!(
        "stock --sku over {} ({} counts in the table, {requests} requests each)",
        path.display(),
        ZONES.len() as u64 * SKUS
    );
    report("one connection", &mut one_connection);
    report("connect + request + close", &mut with_connect);

    if hold {
        println!("serving on {} until Ctrl-C", path.display());
        runtime.block_on(tokio::signal::ctrl_c())?;
    }
    let _ = stop.send(());
    runtime.block_on(served)??;
    Ok(())
}

fn report(mode: &str, samples: &mut [Duration]) {
    samples.sort_unstable();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1e6
    };
    println!(
        "{mode:<28} p50 {:>7.1} µs  p90 {:>7.1} µs  p99 {:>7.1} µs  max {:>8.1} µs",
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0)
    );
}

fn gtin(n: u64) -> String {
    format!("{:014}", 80_614_141_000_000 + n)
}

fn backend() -> FixedBackend {
    let now = Timestamp::now();
    let mut counts = Vec::with_capacity(ZONES.len() * SKUS as usize);
    for zone in ZONES {
        for n in 0..SKUS {
            counts.push(StockCount {
                zone: zone.to_owned(),
                sku: gtin(n),
                count: 1 + n % 17,
            });
        }
    }
    let up = Link {
        state: ReaderLinkState::Up,
        reason: None,
        since: Some(now),
    };
    FixedBackend {
        status: Status {
            daemon_version: env!("CARGO_PKG_VERSION").to_owned(),
            store: "paris-01".to_owned(),
            epoch: "bench".to_owned(),
            started_at: now,
            uptime_secs: 0,
            readers_up: 1,
            readers_down: 0,
            reads_per_sec: 0.0,
            tags_present: counts.iter().map(|count| count.count).sum(),
            outbox: Outbox {
                records: 0,
                bytes: 0,
            },
            epcis_outbox: None,
            mqtt: Mqtt {
                state: MqttState::Connected,
                last_error: None,
                last_publish: Some(now),
                last_acked_seq: Some(1),
            },
            stale_zones: Vec::new(),
            zone_trust: Vec::new(),
            database: None,
            build: None,
            clock: None,
        },
        readers: vec![ReaderStatus {
            name: "ceiling-1".to_owned(),
            kind: "llrp".to_owned(),
            role: "fixed".to_owned(),
            endpoint: "10.0.0.21:5084".to_owned(),
            link: up.clone(),
            reads_per_sec: 0.0,
            last_read: Some(now),
            errors: 0,
            reconnects: 0,
            unmapped_reads: 0,
            unknown_messages: 0,
            candidates_evicted: 0,
            failed_reconnects: 0,
            model: None,
            firmware: None,
            antennas: vec![AntennaStatus {
                antenna: 1,
                zone: "floor".to_owned(),
                link: up,
                reads_per_sec: 0.0,
                last_read: Some(now),
                trust: None,
            }],
        }],
        stock: StockSnapshot::new(Stock {
            store: "paris-01".to_owned(),
            epoch: "bench".to_owned(),
            seq: 1,
            counts,
            zones: Vec::new(),
        }),
        tail: TailHub::default(),
        metrics: String::new(),
    }
}
