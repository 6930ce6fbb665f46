//! Scenario: the snapshot reasons of SPEC §6.2 as an HQ consumer sees them from the real daemon.
//! A store with a live LLRP reader and one whose reader is not there yet: the first snapshot is
//! `startup`; once the live reader connected and the absent one failed its first try comes
//! `settled`, stale only in the absent reader's zone. The broker then goes away while the absent
//! reader comes up and its tags arrive (commits the broker cannot see); the snapshot after the
//! reconnect is `reconnect` and fresh: its seq covers those commits (a cached snapshot would not),
//! no zone stale. After a restart, `startup` again at the committed seq, then `settled` with no
//! stale zone. Every snapshot equals HQ's replay of the deltas at its seq.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{Scenario, TagSpec};
use tagtally_sim::LlrpSim;
use tagtally_tests::broker::{Broker, Gate};
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::{gtin, sgtin96};
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::RunningStore;
use tagtally_tests::stores::shelves_and_door;
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{free_addr, wait, ScenarioDir};

const STORE: &str = "reasons-store";
/// The item and count of the stockroom, behind the reader that is absent at first.
const STOCKROOM_ITEM: u32 = 520_000;
const STOCKROOM_TAGS: u64 = 30;

/// The stockroom reader's tags (antenna 1).
fn stockroom() -> Scenario {
    let tags = (0..STOCKROOM_TAGS)
        .map(|s| {
            let epc = Epc::from_slice(&sgtin96(STOCKROOM_ITEM, 9000 + s)).expect("96-bit epc");
            TagSpec::fixed(epc, &[1], -55.0)
        })
        .collect();
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 4.0;
    s
}

/// `config` with the stockroom zone and its LLRP reader at `addr` (where nothing listens yet).
fn with_stockroom(config: &str, addr: SocketAddr) -> String {
    let reader = format!(
        "[[zone]]\nname = \"stockroom\"\n\n[[reader]]\nname = \"stockroom\"\nkind = \"llrp\"\n\
         address = \"{addr}\"\nkeepalive = \"1s\"\nantennas = {{ 1 = \"stockroom\" }}\n\n[mqtt]\n"
    );
    config.replacen("[mqtt]\n", &reader, 1)
}

/// Waits (bounded) for the first snapshot after the first `skip` with `reason`; returns it.
async fn snapshot(recorder: &Recorder, skip: usize, reason: &str) -> Value {
    wait::until(
        &format!("a `{reason}` snapshot"),
        Duration::from_secs(60),
        || async {
            let all = recorder.payloads("snapshot");
            all.iter()
                .skip(skip)
                .find(|s| s["reason"] == reason)
                .cloned()
                .ok_or_else(|| {
                    let reasons: Vec<&Value> = all.iter().map(|s| &s["reason"]).collect();
                    format!("snapshots so far: {reasons:?}")
                })
        },
    )
    .await
}

fn stale_zones(snapshot: &Value) -> Vec<String> {
    let mut zones: Vec<String> = snapshot["stale_zones"]
        .as_array()
        .expect("stale_zones")
        .iter()
        .map(|z| z.as_str().expect("zone name").to_owned())
        .collect();
    zones.sort();
    zones
}

fn seq(snapshot: &Value) -> u64 {
    snapshot["seq"].as_u64().expect("seq")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_settled_reconnect_and_restart_snapshots_are_fresh() {
    let dir = ScenarioDir::new("reasons");
    let broker = Broker::start().await;
    let gate = Gate::start(broker).await;
    let recorder = Recorder::start(broker, STORE).await;
    let store = RunningStore::start(shelves_and_door(STORE), dir.path()).await;
    let stockroom_addr = free_addr();
    let config = with_stockroom(&store.config(&gate.url(), &["shelves"]), stockroom_addr);
    let shelves_truth = store.plan.truth_where(|zone| zone != "door");
    let mut truth = shelves_truth.clone();
    truth.insert(
        ("stockroom".to_owned(), gtin(STOCKROOM_ITEM)),
        STOCKROOM_TAGS,
    );

    let mut daemon = Daemon::start(dir.path(), &config);
    daemon.ready().await;
    let settled = snapshot(&recorder, 0, "settled").await;
    let first = recorder.payloads("snapshot")[0].clone();
    assert_eq!(first["reason"], "startup", "the first snapshot: {first}");
    assert_eq!(
        stale_zones(&settled),
        ["stockroom"],
        "settled: stale only where the reader failed its first try: {settled}"
    );
    stock_reaches(&daemon, &shelves_truth, Duration::from_secs(60)).await;

    // The broker goes away; meanwhile the stockroom reader comes up and its tags are committed.
    gate.down();
    wait::until(
        "status to say the broker is gone",
        Duration::from_secs(30),
        || async {
            let s = daemon.cli("status", &[]).await?;
            if s["mqtt"]["state"] != "connected" {
                Ok(())
            } else {
                Err(s["mqtt"].to_string())
            }
        },
    )
    .await;
    let seen_before = recorder.payloads("snapshot").len();
    let _stockroom = LlrpSim::start(stockroom_addr, stockroom())
        .await
        .expect("start the stockroom emulator on its reserved port");
    let seq_while_down = stock_reaches(&daemon, &truth, Duration::from_secs(90)).await;
    assert!(
        recorder
            .payloads("snapshot")
            .iter()
            .all(|s| seq(s) < seq_while_down),
        "no snapshot at seq {seq_while_down} can have reached HQ while the broker was away"
    );
    gate.up();
    let reconnect = snapshot(&recorder, seen_before, "reconnect").await;
    assert!(
        seq(&reconnect) >= seq_while_down,
        "the reconnect snapshot is at seq {}, but {seq_while_down} was committed before it: \
         a cached snapshot, not a fresh one",
        seq(&reconnect)
    );
    assert!(
        stale_zones(&reconnect).is_empty(),
        "every reader is live: {reconnect}"
    );
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    assert_eq!(hq.folded, 0);

    // A restart: `startup` at the committed seq, then `settled` with every reader live.
    let (committed, _) = daemon.stock().await.expect("stock before the stop");
    let status = daemon.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
    let seen_before = recorder.payloads("snapshot").len();
    let daemon = Daemon::start(dir.path(), &config);
    daemon.ready().await;
    let startup = snapshot(&recorder, seen_before, "startup").await;
    assert!(
        seq(&startup) >= committed,
        "startup snapshot at seq {}, {committed} committed before the stop",
        seq(&startup)
    );
    let settled = snapshot(&recorder, seen_before, "settled").await;
    assert!(
        stale_zones(&settled).is_empty(),
        "settled after the restart: {settled}"
    );
    stock_reaches(&daemon, &truth, Duration::from_secs(60)).await;
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    assert_eq!(hq.folded, 0);
    assert!(
        hq.snapshots_checked >= 5,
        "startup, settled, reconnect, startup, settled checked against the replay: {hq:?}"
    );
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
}
