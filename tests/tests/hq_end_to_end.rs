//! Scenario: a real store into `tagtally hq`. The daemon (`tagtally run`, emulated LLRP readers:
//! fixed shelves and a door that churns) publishes through mosquitto to two `tagtally hq run`
//! processes on one shared subscription, next to 10 emulated stores streaming deltas. Mid-stream
//! one hq process is killed with SIGKILL and started again, the daemon is killed with SIGKILL and
//! started again, then stopped and started without its door. In the end HQ's database holds, for
//! the real store, exactly the daemon's `stock --json` at its seq and epoch, `online`; for every
//! emulated store its truth; and no delta was applied twice (a second application of a
//! (store, epoch, seq) fails its transaction, which the service logs as a refusal).
//!
//! Skips with a notice when PostgreSQL or mosquitto is missing; `.ci/run` sets
//! `TAGTALLY_REQUIRE_POSTGRES` and `TAGTALLY_REQUIRE_MOSQUITTO` so that it fails there instead.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tagtally_hq::fleet::{
    database_view, differences, fleet_truth, free_loopback, metric, Fleet, HqProcess,
    TempMosquitto, TempPostgres,
};
use tagtally_tests::binary::tagtally;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::store::RunningStore;
use tagtally_tests::stores::shelves_and_door;
use tagtally_tests::verdict::stock_reaches;
use tagtally_tests::{wait, Counts, ScenarioDir};

const STORE: &str = "lyon-part-dieu";
const PREFIX: &str = "tagtally/v1";

macro_rules! require {
    ($installed:expr, $variable:literal, $what:literal) => {
        if !$installed {
            if std::env::var_os($variable).is_some() {
                panic!(concat!(
                    $variable,
                    " is set but ",
                    $what,
                    " is not installed"
                ));
            }
            eprintln!(concat!("skipping: ", $what, " is not installed"));
            return;
        }
    };
}

/// Starts instance `number` on its config (written on first start); its log is `hq-N.log`.
async fn start_instance(dir: &Path, number: usize, database: &str, broker: &str) -> HqProcess {
    let config = dir.join(format!("hq-{number}.toml"));
    let api_file = dir.join(format!("hq-{number}.api"));
    let api = match std::fs::read_to_string(&api_file) {
        Ok(text) => text.parse().expect("the api address written before"),
        Err(_) => {
            let api = free_loopback().expect("a free port");
            std::fs::write(&api_file, api.to_string()).expect("write the api address");
            std::fs::write(
                &config,
                format!(
                    "[database]\nurl = \"{database}\"\npool-size = 4\n\n\
                     [mqtt]\nurl = \"{broker}\"\nclient-id = \"hq-{number}\"\ngroup = \"hq\"\n\
                     keep-alive = \"5s\"\n\n[http]\nlisten = \"{api}\"\n\n\
                     [apply]\ngap-timeout = \"500ms\"\nrequest-backoff-max = \"2s\"\n\
                     batch-max = 64\nbatch-linger = \"10ms\"\n"
                ),
            )
            .expect("write hq.toml");
            api
        }
    };
    let mut instance = HqProcess::start(
        tagtally(),
        &config,
        api,
        &dir.join(format!("hq-{number}.log")),
    )
    .expect("tagtally hq run starts");
    instance
        .connected(Duration::from_secs(60))
        .await
        .expect("tagtally hq run connects");
    instance
}

/// The real store as HQ's database holds it: (epoch, applied seq, online, stock).
async fn held(client: &tokio_postgres::Client) -> Option<(String, u64, bool, Counts)> {
    let row = client
        .query_opt(
            "SELECT epoch, applied_seq, online FROM hq_stores WHERE store = $1",
            &[&STORE],
        )
        .await
        .expect("query hq_stores")?;
    let stock = client
        .query(
            "SELECT zone, sku, count FROM hq_stock WHERE store = $1 AND count > 0",
            &[&STORE],
        )
        .await
        .expect("query hq_stock")
        .iter()
        .map(|row| {
            let count: i64 = row.get(2);
            ((row.get(0), row.get(1)), u64::try_from(count).unwrap_or(0))
        })
        .collect();
    let seq: i64 = row.get(1);
    Some((
        row.get(0),
        u64::try_from(seq).unwrap_or(0),
        row.get(2),
        stock,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_store_and_a_fleet_survive_sigkills_of_hq_and_daemon() {
    require!(
        TempPostgres::installed(),
        "TAGTALLY_REQUIRE_POSTGRES",
        "PostgreSQL"
    );
    require!(
        TempMosquitto::installed(),
        "TAGTALLY_REQUIRE_MOSQUITTO",
        "mosquitto"
    );
    let dir = ScenarioDir::new("hq-e2e");
    let postgres = TempPostgres::start(false).await.expect("postgres starts");
    let database = postgres.create_database("hq").await.expect("database");
    let broker = TempMosquitto::start().await.expect("mosquitto starts");
    let url = format!("mqtt://{}", broker.address());
    let mut first = start_instance(dir.path(), 1, &database, &url).await;
    let second = start_instance(dir.path(), 2, &database, &url).await;

    let store = RunningStore::start(shelves_and_door(STORE), dir.path()).await;
    let with_door = store.config(&url, &["shelves", "door"]);
    let mut daemon = Daemon::start(dir.path(), &with_door);
    let epoch = daemon.ready().await["epoch"]
        .as_str()
        .expect("epoch")
        .to_owned();

    // The stream the kill lands in: 10 emulated stores, a delta each every 20 ms.
    let fleet = Arc::new(Fleet::connect(broker.address(), PREFIX, "fleet", 4096));
    let names: Vec<String> = (0..10).map(|index| format!("fleet-{index}")).collect();
    for name in &names {
        fleet.add_store(name);
        fleet.act(name, |store, _| vec![store.status(true)]).await;
    }
    let streaming = Arc::new(AtomicBool::new(true));
    let stream = {
        let (fleet, names, streaming) = (Arc::clone(&fleet), names.clone(), Arc::clone(&streaming));
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(5);
            let mut pace = tokio::time::interval(Duration::from_millis(20));
            while streaming.load(Ordering::Relaxed) {
                pace.tick().await;
                for name in &names {
                    let mut store_rng = fastrand::Rng::with_seed(rng.u64(..));
                    fleet
                        .act(name, |store, _| vec![store.churn(&mut store_rng, 3, 20, 3)])
                        .await;
                }
            }
        })
    };

    // hq-1 is killed while both instances are taking the stream (and the store's deltas).
    wait::until(
        "hq-1 to apply part of the stream",
        Duration::from_secs(60),
        || async {
            let text = first.metrics().await.unwrap_or_default();
            match metric(&text, "tagtally_hq_messages_received_total") {
                Some(received) if received >= 200.0 => Ok(()),
                other => Err(format!("received {other:?}")),
            }
        },
    )
    .await;
    let status = first.kill().await.expect("kill hq-1");
    assert_eq!(status.signal(), Some(9), "hq-1: {status}");
    // The stream goes on without it for a while, then its session is taken up again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    first = start_instance(dir.path(), 1, &database, &url).await;

    // The store's daemon dies as in a power cut, and comes back on its state.
    let status = daemon.kill().await;
    assert_eq!(status.signal(), Some(9), "daemon: {status}");
    daemon = Daemon::start(dir.path(), &with_door);
    assert_eq!(daemon.ready().await["epoch"], epoch.as_str());
    streaming.store(false, Ordering::Relaxed);
    stream.await.expect("the stream ends");

    // The end: a clean stop, then the store without its door, settling at the shelves' truth.
    let status = daemon.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
    let daemon = Daemon::start(dir.path(), &store.config(&url, &["shelves"]));
    daemon.ready().await;
    let truth = store.plan.truth_where(|zone| zone != "door");
    let seq = stock_reaches(&daemon, &truth, Duration::from_secs(60)).await;

    let (client, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls)
        .await
        .expect("connect to the database");
    tokio::spawn(connection);
    wait::until(
        "HQ to hold the daemon's stock",
        Duration::from_secs(60),
        || async {
            let (daemon_seq, stock) = daemon.stock().await?;
            let status = daemon.cli("status", &[]).await?;
            let held = held(&client).await.ok_or("the store is not in hq_stores")?;
            let want = (
                status["epoch"].as_str().unwrap_or_default().to_owned(),
                daemon_seq,
                true,
                stock,
            );
            if held == want {
                Ok(())
            } else {
                Err(format!(
                    "database epoch {} seq {} online {} ({} cells), daemon epoch {} seq {} ({} cells)",
                    held.0,
                    held.1,
                    held.2,
                    held.3.len(),
                    want.0,
                    want.1,
                    want.3.len()
                ))
            }
        },
    )
    .await;
    let (_, _, _, stock) = held(&client).await.expect("the store");
    assert_eq!(stock, truth, "HQ holds the shelves' truth");
    assert!(seq > 0);

    let expected = fleet_truth(&fleet);
    wait::until(
        "HQ to hold every emulated store's truth",
        Duration::from_secs(60),
        || async {
            // The stores' heartbeat, which carries each one's last seq.
            for name in &names {
                fleet.act(name, |store, _| vec![store.status(true)]).await;
            }
            let mut view = database_view(&client).await.map_err(|e| e.to_string())?;
            view.remove(STORE);
            let differing = differences(&expected, &view);
            if differing.is_empty() {
                Ok(())
            } else {
                Err(differing.join("; "))
            }
        },
    )
    .await;

    drop((first, second));
    for number in [1, 2] {
        let log = std::fs::read_to_string(dir.path().join(format!("hq-{number}.log")))
            .unwrap_or_default();
        assert!(
            !log.contains("refused"),
            "hq-{number} had a message refused (a delta applied twice fails its transaction):\n{log}"
        );
    }
}
