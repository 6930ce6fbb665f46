//! Scenario: the daemon is killed with SIGKILL ten times while stock churns, each time at a
//! different point of its flush cycle, and restarted on the same state (as systemd does after a
//! crash or a power cut). Nothing committed may be lost: after each restart the seq continues from at
//! least what `stock` showed before the kill, the epoch never changes, every start-up snapshot equals
//! HQ's replay at its seq, redelivered seqs are byte-identical, and the end is the ground truth.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use tagtally_reader_drivers::sim::scenario::{PresenceSpec, Scenario, TagSpec};
use tagtally_reader_drivers::Epc;
use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::sgtin96;
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::{Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "kill-store";
const KILLS: u32 = 10;

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(item, serial)).expect("96-bit epc")
}

/// Shelves that never change: floor (antenna 1) and backroom (antenna 2).
fn shelves() -> Scenario {
    let mut tags = Vec::new();
    for (antenna, item, count) in [
        (1, 500_000, 120),
        (1, 500_004, 80),
        (2, 500_000, 60),
        (2, 500_008, 90),
    ] {
        for s in 0..count {
            tags.push(TagSpec::fixed(
                epc(item, 1000 * u64::from(antenna) + s),
                &[antenna],
                -55.0,
            ));
        }
    }
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 4.0;
    s.reader.antennas = 2;
    s
}

/// The door: 40 tags of 10 SKUs, each in the field 2 s of every 4 s, staggered by 100 ms, forever.
fn door() -> Scenario {
    let step = Duration::from_millis(100);
    let tags = (0..40u32)
        .map(|k| TagSpec {
            epc: epc(510_000 + k % 10, u64::from(k)),
            presence: PresenceSpec {
                antennas: vec![1],
                rssi: -50.0,
                appear: step * k,
                leave: Some(step * k + Duration::from_secs(2)),
                ..PresenceSpec::default()
            },
        })
        .collect();
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 8.0;
    s.repeat_after = Some(Duration::from_secs(4));
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_sigkills_during_churn_lose_nothing() {
    let dir = ScenarioDir::new("kill");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let plan = StorePlan {
        store: STORE.to_owned(),
        readers: vec![
            ReaderPlan::new(
                "shelves",
                Kind::Llrp,
                &[(1, "floor"), (2, "backroom")],
                shelves(),
            ),
            ReaderPlan::new("door", Kind::Llrp, &[(1, "door")], door()),
        ],
        sku_map: Vec::new(),
        presence: "arrive-reads = 2\narrive-window = \"1s\"\ndepart-after = \"1s\"\n\
                   move-hysteresis = \"1s\"\n"
            .to_owned(),
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    };
    let store = RunningStore::start(plan, dir.path()).await;
    let url = format!("mqtt://{}", broker.addr);
    let config = store.config(&url, &["shelves", "door"]);
    let mut daemon = Daemon::start(dir.path(), &config);
    let epoch = daemon.ready().await["epoch"]
        .as_str()
        .expect("epoch")
        .to_owned();
    let mut seen_seq = 0;
    for kill in 0..KILLS {
        // This life of the daemon commits churn before it dies.
        let seq = wait::until("commits during churn", Duration::from_secs(60), || async {
            let (seq, _) = daemon.stock().await?;
            if seq >= seen_seq + 2 {
                Ok(seq)
            } else {
                Err(format!("seq {seq}, before {seen_seq}"))
            }
        })
        .await;
        // Kill at a different point of the 250 ms flush cycle each time (not a wait for anything).
        tokio::time::sleep(Duration::from_millis(u64::from(kill) * 27 % 250)).await;
        let status = daemon.kill().await;
        assert_eq!(status.signal(), Some(9), "kill {kill}: {status}");
        seen_seq = seq;

        daemon = Daemon::start(dir.path(), &config);
        let status = daemon.ready().await;
        assert_eq!(
            status["epoch"],
            epoch.as_str(),
            "the epoch changed at restart {kill}"
        );
        let (after, _) = daemon.stock().await.expect("stock after restart");
        assert!(
            after >= seen_seq,
            "restart {kill}: seq {after}, but {seen_seq} was committed before the kill"
        );
    }

    // The end: a clean stop, then the store without the door (its zone retired, its tags gone).
    let status = daemon.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
    let daemon = Daemon::start(dir.path(), &store.config(&url, &["shelves"]));
    let status = daemon.ready().await;
    assert_eq!(status["epoch"], epoch.as_str());
    let truth = store.plan.truth_where(|zone| zone != "door");
    stock_reaches(&daemon, &truth, Duration::from_secs(60)).await;
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    assert_eq!(hq.folded, 0);
    assert!(
        hq.snapshots_checked > u64::from(KILLS),
        "every start-up snapshot is checked against the replay: {hq:?}"
    );
    eprintln!(
        "kill_restart: {} deltas, {} redeliveries, {} snapshots checked",
        hq.deltas, hq.redeliveries, hq.snapshots_checked
    );
}
