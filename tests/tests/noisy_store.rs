//! Scenario: a store of ≈ 3 000 items on four readers of three families, with antenna bleed within
//! and across readers, ghost reads, non-GS1 tags (one brand mapped by `[[sku-map]]`, one not) and
//! serial lines that damage a few percent of the frames. The counts must be exactly the ground truth
//! from the scenario files, no ghost may ever reach HQ, and HQ's replay must agree.

use std::time::{Duration, Instant};

use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::gtin;
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::{scenario_file, Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "noisy-store";

fn plan() -> StorePlan {
    StorePlan {
        store: STORE.to_owned(),
        readers: vec![
            ReaderPlan::new(
                "ceiling",
                Kind::Llrp,
                &[(1, "floor"), (2, "floor"), (3, "backroom"), (4, "window")],
                scenario_file("noisy-ceiling.toml"),
            ),
            ReaderPlan::new(
                "stockroom",
                Kind::Llrp,
                &[(1, "backroom"), (2, "stockroom")],
                scenario_file("noisy-stockroom.toml"),
            ),
            ReaderPlan::new(
                "till",
                Kind::ThingMagic,
                &[(1, "fitting-rooms")],
                scenario_file("noisy-till.toml"),
            ),
            ReaderPlan::new(
                "gate",
                Kind::R2000,
                &[(1, "entrance")],
                scenario_file("noisy-gate.toml"),
            ),
        ],
        sku_map: vec![("E2801160".to_owned(), "legacy-brand".to_owned())],
        presence: "arrive-reads = 2\narrive-window = \"5s\"\ndepart-after = \"10m\"\n\
                   move-hysteresis = \"2s\"\nrssi-margin-db = 6.0\n"
            .to_owned(),
        mqtt: "flush-interval = \"500ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 15.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noisy_store_counts_exactly_the_ground_truth() {
    let dir = ScenarioDir::new("noisy");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let started = Instant::now();
    let store = RunningStore::start(plan(), dir.path()).await;
    let truth = store.plan.truth();
    assert!(
        truth.values().sum::<u64>() >= 3000,
        "the plan is a store of several thousand items"
    );
    assert!(truth.contains_key(&("floor".into(), "legacy-brand".into())));
    assert!(truth.contains_key(&("backroom".into(), "unknown".into())));
    let mut daemon = Daemon::start(
        dir.path(),
        &store.config(&format!("mqtt://{}", broker.addr), &store.reader_names()),
    );
    daemon.ready().await;
    stock_reaches(&daemon, &truth, Duration::from_secs(90)).await;

    // The ghost waves are scheduled up to 12.3 s into the emulators' clock: let them all pass.
    let ghosts_done = Duration::from_secs(14);
    wait::until("the last ghost wave", Duration::from_secs(60), || async {
        if started.elapsed() >= ghosts_done {
            Ok(())
        } else {
            Err(format!("{:?} into the scenario", started.elapsed()))
        }
    })
    .await;

    // The damaged serial frames really reached the daemon, and were dropped there.
    let till = store.serial("till").stats();
    let gate = store.serial("gate").stats();
    assert!(
        till.reads_corrupted * 100 >= till.reads_intact && till.junk_bytes > 0,
        "till: {till:?}"
    );
    assert!(gate.reads_corrupted > 0, "gate: {gate:?}");
    let readers = daemon.cli("readers", &[]).await.expect("readers");
    for name in ["till", "gate"] {
        let r = readers
            .as_array()
            .expect("readers list")
            .iter()
            .find(|r| r["name"] == name)
            .expect("reader listed");
        assert_eq!(r["link"]["state"], "up", "{name}: {r}");
        assert!(
            r["errors"].as_u64().unwrap_or(0) > 0,
            "{name} counted no bad frame: {r}"
        );
    }

    let seq = stock_reaches(&daemon, &truth, Duration::from_secs(30)).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    assert!(hq.seq >= seq);
    assert!(
        !hq.skus_seen.contains(&gtin(999_996)),
        "a ghost read reached HQ as stock"
    );
    assert!(hq.snapshots_checked >= 1);
    assert_eq!(hq.folded, 0);

    let status = daemon.stop().await;
    assert!(
        status.success(),
        "SIGTERM exit: {status}; log:\n{}",
        daemon.log()
    );
}
