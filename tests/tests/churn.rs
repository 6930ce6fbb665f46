//! Scenario: items leave (sold, thrown out), arrive (a delivery), move between zones of one reader
//! (restocking and back) and between readers (try-ons in the fitting rooms and back) while the
//! daemon runs. The final counts must be exactly the ground truth, every step HQ saw must be
//! consistent arithmetic on the one before, and HQ's replay must agree with the daemon.

use std::time::{Duration, Instant};

use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::gtin;
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::{scenario_file, Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "churn-store";

fn plan() -> StorePlan {
    StorePlan {
        store: STORE.to_owned(),
        readers: vec![
            ReaderPlan::new(
                "ceiling",
                Kind::Llrp,
                &[(1, "floor"), (2, "backroom")],
                scenario_file("churn-ceiling.toml"),
            ),
            ReaderPlan::new(
                "till",
                Kind::ThingMagic,
                &[(1, "fitting-rooms")],
                scenario_file("churn-till.toml"),
            ),
        ],
        sku_map: Vec::new(),
        presence: "arrive-reads = 2\narrive-window = \"2s\"\ndepart-after = \"3s\"\n\
                   move-hysteresis = \"1s\"\n"
            .to_owned(),
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_ends_exactly_at_the_ground_truth() {
    let dir = ScenarioDir::new("churn");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let started = Instant::now();
    let store = RunningStore::start(plan(), dir.path()).await;
    let truth = store.plan.truth();
    let cell = |zone: &str, item: u32| truth.get(&(zone.to_owned(), gtin(item))).copied();
    // The plan says what a trading day should leave behind.
    assert_eq!(cell("floor", 300_004), None, "all sold");
    assert_eq!(cell("backroom", 300_008), Some(80), "delivered");
    assert_eq!(cell("floor", 300_012), Some(30), "restocked, 10 taken back");
    assert_eq!(cell("backroom", 300_012), Some(10));
    assert_eq!(
        cell("floor", 300_016),
        Some(8),
        "back from the fitting rooms"
    );
    assert_eq!(cell("fitting-rooms", 300_016), Some(4));
    assert_eq!(cell("fitting-rooms", 300_028), None, "bought");
    assert_eq!(cell("backroom", 300_024), None, "thrown out");

    let mut daemon = Daemon::start(
        dir.path(),
        &store.config(&format!("mqtt://{}", broker.addr), &store.reader_names()),
    );
    daemon.ready().await;
    // The last scheduled event is at 12 s; departures take depart-after (3 s) more.
    wait::until(
        "the scenario's last event",
        Duration::from_secs(60),
        || async {
            if started.elapsed() >= Duration::from_secs(15) {
                Ok(())
            } else {
                Err(format!("{:?} into the scenario", started.elapsed()))
            }
        },
    )
    .await;
    stock_reaches(&daemon, &truth, Duration::from_secs(60)).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    assert_eq!(hq.folded, 0);
    // HQ saw the day happen, not just its end: sales, a delivery and moves went out as deltas.
    assert!(hq.deltas >= 5, "only {} deltas", hq.deltas);
    assert!(hq.skus_seen.contains(&gtin(300_004)) && hq.skus_seen.contains(&gtin(300_028)));

    let status = daemon.stop().await;
    assert!(
        status.success(),
        "SIGTERM exit: {status}; log:\n{}",
        daemon.log()
    );
}
