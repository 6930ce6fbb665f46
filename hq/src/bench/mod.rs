//! `tagtally bench hq` (SPEC §8's HQ row): a PostgreSQL (durable defaults) and a mosquitto of
//! its own, `instances` × `tagtally hq run` as child processes on one round-robin shared
//! subscription, and a fleet of emulated stores publishing real payloads through the broker.
//!
//! 1. Warm-up: every store announces itself (`online`, a start-up snapshot of `pairs` pairs).
//! 2. Steady window: each store publishes `rate` deltas/s and a periodic snapshot per
//!    `snapshot-interval`, with faults (a duplicate, a lost delta, restarts, wipes) unless
//!    `--no-faults`. Latency is publish → commit: the publish instant recorded by the bench,
//!    the commit instant from PostgreSQL (`track_commit_timestamp`) of the delta's
//!    `hq_applied` row, both on this machine's clock.
//! 3. Outage (unless zero): every instance stopped while the stores keep publishing; started
//!    again, the time until every store's applied seq reaches its seq of that moment.
//! 4. Check: every store's epoch, seq and stock in the database equal its truth.

mod driver;
mod report;

pub use report::{
    HqBenchReport, OutageReport, Percentiles, SteadyReport, BUDGET_CATCH_UP_PER_SEC, BUDGET_P99_MS,
};

use crate::fleet::{
    database_view, differences, fleet_truth, free_loopback, Fleet, HqProcess, HqProcessError,
    StoreViews, TempMosquitto, TempMosquittoError, TempPostgres, TempPostgresError,
};
use driver::{drive, Phase, Shared, PAIRS_PER_DELTA, SKUS, ZONES};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tagtally_contract::SnapshotReason;
use tokio::sync::watch;

/// The topic prefix of the run.
const PREFIX: &str = "tagtally/v1";
/// Largest payload the emulated stores publish (a store's default `max-message-bytes`).
const MAX_PAYLOAD: usize = 128 * 1024;
/// Longest wait for the database to hold what was published.
const SETTLE_LIMIT: Duration = Duration::from_secs(180);

/// What to run.
#[derive(Debug, Clone)]
pub struct HqBenchSetup {
    /// The `tagtally` executable the instances run as (`hq run`).
    pub program: PathBuf,
    /// Emulated stores.
    pub stores: usize,
    /// Deltas per second per store.
    pub rate: f64,
    /// The steady window.
    pub duration: Duration,
    /// Each store's periodic snapshot interval.
    pub snapshot_interval: Duration,
    /// How long every instance is down (zero: no outage).
    pub outage: Duration,
    /// Service instances.
    pub instances: usize,
    /// (zone, sku) pairs each store starts with.
    pub pairs: u32,
    /// Inject faults in the steady window.
    pub faults: bool,
    /// Keep the run's directory.
    pub keep_dir: bool,
}

/// Why the bench could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum HqBenchError {
    /// PostgreSQL could not be started.
    #[error("{0}")]
    Postgres(#[from] TempPostgresError),
    /// mosquitto could not be started.
    #[error("{0}")]
    Mosquitto(#[from] TempMosquittoError),
    /// An instance could not be started.
    #[error("{0}")]
    Instance(#[from] HqProcessError),
    /// The bench's own database connection failed.
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// A local file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The database did not reach what was published in time.
    #[error("{0}")]
    NotSettled(String),
}

struct Instances {
    dir: PathBuf,
    program: PathBuf,
    running: Vec<HqProcess>,
    apis: Vec<SocketAddr>,
}

impl Instances {
    fn write_configs(
        dir: &Path,
        count: usize,
        database: &str,
        broker: SocketAddr,
    ) -> Result<Vec<SocketAddr>, HqBenchError> {
        let mut apis = Vec::with_capacity(count);
        for index in 1..=count {
            let api = free_loopback()?;
            let text = format!(
                "log-level = \"info\"\n\n[database]\nurl = \"{database}\"\npool-size = 4\n\n\
                 [mqtt]\nurl = \"mqtt://{broker}\"\nclient-id = \"hq-bench-{index}\"\n\
                 group = \"hq\"\n\n[http]\nlisten = \"{api}\"\n"
            );
            std::fs::write(dir.join(format!("hq-{index}.toml")), text)?;
            apis.push(api);
        }
        Ok(apis)
    }

    async fn start(&mut self) -> Result<(), HqBenchError> {
        for (index, api) in self.apis.iter().enumerate() {
            let number = index + 1;
            self.running.push(HqProcess::start(
                &self.program,
                &self.dir.join(format!("hq-{number}.toml")),
                *api,
                &self.dir.join(format!("hq-{number}.log")),
            )?);
        }
        for instance in &mut self.running {
            instance.connected(Duration::from_secs(60)).await?;
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<(), HqBenchError> {
        for mut instance in self.running.drain(..) {
            instance.stop().await?;
        }
        Ok(())
    }

    /// Sums a metric (every label) over the running instances.
    async fn sum(&self, prefix: &str) -> u64 {
        let mut total = 0.0;
        for instance in &self.running {
            if let Some(text) = instance.metrics().await {
                total += text
                    .lines()
                    .filter(|line| line.starts_with(prefix))
                    .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
                    .sum::<f64>();
            }
        }
        total as u64
    }
}

/// Runs the bench; `progress` gets a line at each step.
pub async fn run(
    setup: &HqBenchSetup,
    progress: &dyn Fn(&str),
) -> Result<HqBenchReport, HqBenchError> {
    progress("starting postgresql and mosquitto");
    let postgres = TempPostgres::start_with(true, &["track_commit_timestamp=on"]).await?;
    let database = postgres.create_database("hq").await?;
    let broker = TempMosquitto::start().await?;
    let dir = tempfile::Builder::new()
        .prefix("tagtally-bench-hq-")
        .tempdir()?;
    // Kept from the start, so a run that fails leaves its instances' logs too.
    let (dir_path, dir) = if setup.keep_dir {
        let path = dir.keep();
        progress(&format!("run directory (kept): {}", path.display()));
        (path, None)
    } else {
        (dir.path().to_path_buf(), Some(dir))
    };
    let apis = Instances::write_configs(&dir_path, setup.instances, &database, broker.address())?;
    let mut instances = Instances {
        dir: dir_path.clone(),
        program: setup.program.clone(),
        running: Vec::new(),
        apis,
    };
    progress(&format!("starting {} instances", setup.instances));
    instances.start().await?;
    let (client, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);

    progress(&format!(
        "warm-up: {} stores with {} pairs each",
        setup.stores, setup.pairs
    ));
    let fleet = Arc::new(Fleet::connect(
        broker.address(),
        PREFIX,
        "bench-fleet",
        MAX_PAYLOAD,
    ));
    let names: Vec<String> = (0..setup.stores)
        .map(|index| format!("store-{index:04}"))
        .collect();
    let mut rng = fastrand::Rng::with_seed(2026);
    for name in &names {
        fleet.add_store(name);
        let mut store_rng = fastrand::Rng::with_seed(rng.u64(..));
        let pairs = setup.pairs as usize;
        fleet
            .act(name, |store, max| {
                // What the store counted before HQ first heard of it.
                store.churn(&mut store_rng, ZONES, SKUS, pairs);
                let mut out = vec![store.status(true)];
                out.extend(store.snapshot(max, SnapshotReason::Startup));
                out
            })
            .await;
    }
    settle(&client, &fleet, SETTLE_LIMIT).await?;

    let shared = Shared::default();
    let (phase, phase_rx) = watch::channel(Phase::Measured {
        faults: setup.faults,
    });
    progress(&format!(
        "steady window: {} with {} deltas/s in all{}",
        humantime::format_duration(setup.duration),
        setup.rate * setup.stores as f64,
        if setup.faults { ", with faults" } else { "" }
    ));
    let driver = tokio::spawn(drive(
        Arc::clone(&fleet),
        names.clone(),
        setup.rate,
        setup.snapshot_interval,
        phase_rx,
        shared.clone(),
        7,
    ));
    let window_start = SystemTime::now();
    let published_before = shared.published();
    tokio::time::sleep(setup.duration).await;
    let window_end = SystemTime::now();
    let published_in_window = shared.published().deltas - published_before.deltas;
    phase.send_replace(Phase::Quiet);
    let steady = steady_report(
        &client,
        &shared,
        window_start,
        window_end,
        published_in_window,
    )
    .await?;
    progress(&format!(
        "steady: p99 publish -> commit {} ms over {} deltas, {:.0} deltas/s committed",
        steady.delta_latency.p99_ms, steady.delta_latency.samples, steady.deltas_committed_per_sec
    ));

    let outage = if setup.outage.is_zero() {
        None
    } else {
        progress(&format!(
            "outage: every instance stopped for {}",
            humantime::format_duration(setup.outage)
        ));
        instances.stop().await?;
        let before = shared.published().deltas;
        tokio::time::sleep(setup.outage).await;
        let backlog = shared.published().deltas - before;
        let target = fleet_truth(&fleet);
        progress(&format!(
            "catch-up: {backlog} deltas queued; starting the instances"
        ));
        let restarted = SystemTime::now();
        let clock = Instant::now();
        instances.start().await?;
        caught_up(&client, &target, SETTLE_LIMIT.max(setup.outage)).await?;
        let seconds = clock.elapsed().as_secs_f64();
        let caught = committed_between(&client, restarted, SystemTime::now()).await?;
        let report = OutageReport {
            seconds: setup.outage.as_secs_f64(),
            backlog_deltas: backlog,
            catch_up_seconds: (seconds * 100.0).round() / 100.0,
            catch_up_deltas_per_sec: (caught as f64 / seconds).round(),
            catch_up_deltas: caught,
        };
        progress(&format!(
            "caught up in {:.1} s: {} deltas/s",
            report.catch_up_seconds, report.catch_up_deltas_per_sec
        ));
        Some(report)
    };

    progress("checking every store against its truth");
    phase.send_replace(Phase::Stop);
    let _ = driver.await;
    let (stores_equal, differences) = final_check(&client, &fleet).await?;
    let refusals = instances.sum("tagtally_hq_messages_refused_total").await
        + instances.sum("tagtally_hq_database_refusals_total").await;
    let batch_failures = instances.sum("tagtally_hq_batch_failures_total").await;
    let connections_lost = instances
        .sum("tagtally_hq_mqtt_connections_lost_total")
        .await;
    let reconnects_on_purpose = instances
        .sum("tagtally_hq_mqtt_reconnects_on_purpose_total")
        .await;
    let messages_left_with_broker = instances
        .sum("tagtally_hq_messages_left_with_broker_total")
        .await;
    instances.stop().await?;
    let kept_dir = dir.is_none().then(|| dir_path.display().to_string());
    Ok(HqBenchReport {
        stores: setup.stores,
        rate: setup.rate,
        instances: setup.instances,
        snapshot_interval_seconds: setup.snapshot_interval.as_secs_f64(),
        initial_pairs: setup.pairs,
        steady,
        outage,
        stores_equal,
        differences,
        refusals,
        batch_failures,
        connections_lost,
        reconnects_on_purpose,
        messages_left_with_broker,
        kept_dir,
    })
}

/// Waits until every store's epoch and seq in the database equal the fleet's.
async fn settle(
    client: &tokio_postgres::Client,
    fleet: &Fleet,
    limit: Duration,
) -> Result<(), HqBenchError> {
    caught_up(client, &fleet_truth(fleet), limit).await
}

/// Waits until every store of `target` is at its epoch with at least its seq applied.
async fn caught_up(
    client: &tokio_postgres::Client,
    target: &StoreViews,
    limit: Duration,
) -> Result<(), HqBenchError> {
    let deadline = Instant::now() + limit;
    loop {
        let mut held = BTreeMap::new();
        for row in client
            .query("SELECT store, epoch, applied_seq FROM hq_stores", &[])
            .await?
        {
            let seq: i64 = row.get(2);
            held.insert(row.get::<_, String>(0), (row.get::<_, String>(1), seq));
        }
        let behind = target
            .iter()
            .filter(|(store, (epoch, seq, _))| {
                held.get(*store).is_none_or(|(held_epoch, held_seq)| {
                    held_epoch != epoch || u64::try_from(*held_seq).unwrap_or(0) < *seq
                })
            })
            .count();
        if behind == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(HqBenchError::NotSettled(format!(
                "{behind} of {} stores still behind after {}",
                target.len(),
                humantime::format_duration(limit)
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

/// Deltas committed between two instants (by PostgreSQL's commit timestamps).
async fn committed_between(
    client: &tokio_postgres::Client,
    from: SystemTime,
    to: SystemTime,
) -> Result<u64, HqBenchError> {
    let row = client
        .query_one(
            "SELECT count(*) FROM hq_applied
             WHERE extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8 BETWEEN $1 AND $2",
            &[&unix_seconds(from), &unix_seconds(to)],
        )
        .await?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

async fn steady_report(
    client: &tokio_postgres::Client,
    shared: &Shared,
    window_start: SystemTime,
    window_end: SystemTime,
    published: u64,
) -> Result<SteadyReport, HqBenchError> {
    // Everything published in the window must be applied before its latency is known.
    let wanted: BTreeMap<String, (String, u64)> = {
        let recorded = shared.recorded();
        let mut wanted: BTreeMap<String, (String, u64)> = BTreeMap::new();
        for (store, epoch, seq) in recorded.deltas.keys() {
            let entry = wanted.entry(store.clone()).or_insert((epoch.clone(), *seq));
            if (epoch, seq) > (&entry.0, &entry.1) {
                *entry = (epoch.clone(), *seq);
            }
        }
        wanted
    };
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        let rows = client
            .query("SELECT store, epoch, applied_seq FROM hq_stores", &[])
            .await?;
        let held: BTreeMap<String, (String, u64)> = rows
            .iter()
            .map(|row| {
                let seq: i64 = row.get(2);
                (row.get(0), (row.get(1), u64::try_from(seq).unwrap_or(0)))
            })
            .collect();
        // A newer epoch than the one recorded (a wipe) counts as past it.
        let behind = wanted
            .iter()
            .filter(|(store, (epoch, seq))| {
                held.get(*store)
                    .is_none_or(|(held_epoch, held_seq)| (held_epoch, held_seq) < (epoch, seq))
            })
            .count();
        if behind == 0 {
            break;
        }
        if Instant::now() > deadline {
            let missing: u64 = wanted
                .iter()
                .map(|(store, (epoch, seq))| match held.get(store) {
                    Some((held_epoch, held_seq)) if held_epoch == epoch => {
                        seq.saturating_sub(*held_seq)
                    }
                    _ => *seq,
                })
                .sum();
            return Err(HqBenchError::NotSettled(format!(
                "{behind} stores never applied the steady window's deltas ({missing} deltas \
                 missing after {})",
                humantime::format_duration(SETTLE_LIMIT)
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut latencies = Vec::new();
    let mut found = 0;
    {
        let rows = client
            .query(
                "SELECT store, epoch, seq,
                        extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8
                 FROM hq_applied",
                &[],
            )
            .await?;
        let recorded = shared.recorded();
        for row in rows {
            let seq: i64 = row.get(2);
            let key = (
                row.get::<_, String>(0),
                row.get::<_, String>(1),
                u64::try_from(seq).unwrap_or(0),
            );
            let (Some(published), Some(committed)) =
                (recorded.deltas.get(&key), row.get::<_, Option<f64>>(3))
            else {
                continue;
            };
            found += 1;
            let latency = committed - unix_seconds(*published);
            latencies.push(Duration::from_secs_f64(latency.max(0.0)));
        }
    }
    let committed_in_window = committed_between(client, window_start, window_end).await?;
    let seconds = window_end
        .duration_since(window_start)
        .unwrap_or_default()
        .as_secs_f64();
    let mut snapshot_latencies = Vec::new();
    {
        let rows = client
            .query(
                "SELECT store, last_snapshot_id,
                        extract(epoch FROM last_snapshot_at)::float8
                 FROM hq_stores WHERE last_snapshot_id IS NOT NULL",
                &[],
            )
            .await?;
        let recorded = shared.recorded();
        for row in rows {
            let store: String = row.get(0);
            let id: String = row.get(1);
            let Some(applied) = row.get::<_, Option<f64>>(2) else {
                continue;
            };
            if let Some((sent_id, at)) = recorded.snapshots.get(&store) {
                if *sent_id == id {
                    let latency = applied - unix_seconds(*at);
                    snapshot_latencies.push(Duration::from_secs_f64(latency.max(0.0)));
                }
            }
        }
    }
    let recorded = shared.recorded();
    Ok(SteadyReport {
        seconds: (seconds * 10.0).round() / 10.0,
        deltas_published: published,
        deltas_committed_per_sec: (committed_in_window as f64 / seconds.max(1e-9)).round(),
        delta_latency: Percentiles::of(latencies),
        deltas_not_committed: recorded.deltas.len() - found,
        snapshot_latency: Percentiles::of(snapshot_latencies),
        lost: recorded.lost,
        duplicated: recorded.duplicated,
        restarts: recorded.restarts,
        wipes: recorded.wipes,
    })
}

/// Status heartbeats (which reveal a lost last delta) until the database equals the truth,
/// or the limit passes; returns the stores that agree and what differs.
async fn final_check(
    client: &tokio_postgres::Client,
    fleet: &Fleet,
) -> Result<(usize, Vec<String>), HqBenchError> {
    let truth = fleet_truth(fleet);
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        let held = database_view(client).await?;
        let differing = differences(&truth, &held);
        if differing.is_empty() || Instant::now() > deadline {
            return Ok((truth.len() - differing.len().min(truth.len()), differing));
        }
        for name in truth.keys() {
            fleet.act(name, |store, _| vec![store.status(true)]).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The settings of the pairs a delta changes, for the report's text.
pub fn load_description(setup: &HqBenchSetup) -> String {
    format!(
        "{} stores x {} delta/s ({} pairs changed per delta, {ZONES} zones x {SKUS} SKUs), \
         a snapshot per store every {}, {} pairs per store at start",
        setup.stores,
        setup.rate,
        PAIRS_PER_DELTA,
        humantime::format_duration(setup.snapshot_interval),
        setup.pairs,
    )
}
