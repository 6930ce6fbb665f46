//! Scenario: the broker is unreachable for a minute while a busy entrance keeps stock moving — so
//! much that the 1 MiB outbox overflows and its oldest deltas are folded into a resync snapshot
//! (SPEC §7). While down, `status` says so and the outbox grows on disk; once the broker is back, the
//! backlog drains in order, HQ sees a gap only where a resync snapshot covers it, and its replay ends
//! exactly at the daemon's counts, which equal the ground truth.

use std::time::{Duration, Instant};

use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{MoveSpec, PresenceSpec, Scenario, TagSpec};
use tagtally_tests::broker::{Broker, Gate};
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::sgtin96;
use tagtally_tests::recorder::Recorder;
use tagtally_tests::replay::replay;
use tagtally_tests::store::{Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "outage-store";
/// Tags at the entrance, each its own SKU, moving between two zones every 2 s until `CHURN_END`.
const MOVERS: u32 = 1000;
const CHURN_END: Duration = Duration::from_secs(75);
const OUTAGE: Duration = Duration::from_secs(60);

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(item, serial)).expect("96-bit epc")
}

/// The entrance reader: antenna 1 = entrance, 2 = window, 3 = floor (200 tags that never move).
fn entrance() -> Scenario {
    let mut tags: Vec<TagSpec> = (0..200)
        .map(|s| TagSpec::fixed(epc(400_000, 1 + s), &[3], -55.0))
        .collect();
    for k in 0..MOVERS {
        let first = Duration::from_millis(2000 + 250 * u64::from(k % 8));
        let mut moves = Vec::new();
        let mut at = first;
        let mut antenna = 1 + (k % 2) as u16;
        while at < CHURN_END {
            antenna = 3 - antenna;
            moves.push(MoveSpec {
                at,
                antennas: vec![antenna],
                rssi: None,
            });
            at += Duration::from_secs(2);
        }
        tags.push(TagSpec {
            epc: epc(400_001 + k, 1),
            presence: PresenceSpec {
                antennas: vec![1 + (k % 2) as u16],
                rssi: -52.0,
                moves,
                ..PresenceSpec::default()
            },
        });
    }
    let mut scenario = Scenario::with_tags(tags);
    scenario.inventory.read_rate = 4.0;
    scenario.reader.antennas = 3;
    scenario
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_without_broker_loses_nothing() {
    let dir = ScenarioDir::new("outage");
    let broker = Broker::start().await;
    let gate = Gate::start(broker).await;
    let recorder = Recorder::start(broker, STORE).await;
    let started = Instant::now();
    let plan = StorePlan {
        store: STORE.to_owned(),
        readers: vec![ReaderPlan::new(
            "entrance",
            Kind::Llrp,
            &[(1, "entrance"), (2, "window"), (3, "floor")],
            entrance(),
        )],
        sku_map: Vec::new(),
        presence: "arrive-reads = 2\narrive-window = \"2s\"\ndepart-after = \"10s\"\n\
                   move-hysteresis = \"500ms\"\n"
            .to_owned(),
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"2s\"\n\
               outbox-max-bytes = 1048576\n"
            .to_owned(),
        bleed_margin_db: 10.0,
    };
    let store = RunningStore::start(plan, dir.path()).await;
    let truth = store.plan.truth();
    let mut daemon = Daemon::start(dir.path(), &store.config(&gate.url(), &["entrance"]));
    daemon.ready().await;

    // HQ has seen deltas flowing before the line goes down.
    let seq_before = wait::until(
        "deltas before the outage",
        Duration::from_secs(60),
        || async {
            let r = replay(STORE, &recorder.messages())?;
            if r.deltas >= 3 {
                Ok(r.seq)
            } else {
                Err(format!("{} deltas so far", r.deltas))
            }
        },
    )
    .await;
    gate.down();
    let down_at = Instant::now();

    // The daemon says the broker is gone, and keeps committing into the outbox meanwhile.
    let status = wait::until(
        "status to report the broker down",
        Duration::from_secs(30),
        || async {
            let s = daemon.cli("status", &[]).await?;
            if s["mqtt"]["state"] != "connected" && s["outbox"]["records"].as_u64() >= Some(5) {
                Ok(s)
            } else {
                Err(s["mqtt"].to_string())
            }
        },
    )
    .await;
    assert!(
        !status["mqtt"]["last_error"].is_null(),
        "no reason given: {status}"
    );
    let recorded_when_down = recorder.messages().len();
    wait::until(
        "the minute of outage",
        OUTAGE + Duration::from_secs(10),
        || async {
            if down_at.elapsed() >= OUTAGE {
                Ok(())
            } else {
                Err(format!("down for {:?}", down_at.elapsed()))
            }
        },
    )
    .await;
    let (seq_at_end_of_outage, _) = daemon.stock().await.expect("stock");
    assert!(
        seq_at_end_of_outage > seq_before + 20,
        "churn kept committing during the outage ({seq_before} → {seq_at_end_of_outage})"
    );
    let log = daemon.log();
    assert!(
        log.contains("outbox full: oldest deltas folded into a resync snapshot"),
        "a minute of this churn overflows a 1 MiB outbox; log tail:\n{}",
        &log[log.len().saturating_sub(3000)..]
    );
    // Nothing reached HQ from the store while the broker was unreachable.
    let during: Vec<_> = recorder.messages()[recorded_when_down..]
        .iter()
        .filter(|m| m.topic == "delta")
        .map(|m| m.topic.clone())
        .collect();
    assert!(
        during.is_empty(),
        "{} deltas passed a closed gate",
        during.len()
    );
    gate.up();

    // The backlog drains; when the churn is over, everything settles at the truth.
    wait::until("the churn to end", Duration::from_secs(120), || async {
        if started.elapsed() >= CHURN_END + Duration::from_secs(2) {
            Ok(())
        } else {
            Err(format!("{:?} into the scenario", started.elapsed()))
        }
    })
    .await;
    stock_reaches(&daemon, &truth, Duration::from_secs(60)).await;
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    assert!(hq.folded > 0, "HQ's replay crossed no folded range: {hq:?}");
    wait::until("the outbox to empty", Duration::from_secs(60), || async {
        let s = daemon.cli("status", &[]).await?;
        if s["outbox"]["records"] == 0 && s["mqtt"]["state"] == "connected" {
            Ok(())
        } else {
            Err(format!("{} / {}", s["outbox"], s["mqtt"]))
        }
    })
    .await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    let status = daemon.stop().await;
    assert!(
        status.success(),
        "SIGTERM exit: {status}; log:\n{}",
        daemon.log()
    );
}
