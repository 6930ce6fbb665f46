//! Scenario: the daemon is killed with SIGKILL ten times while stock churns, each time at a
//! different point of its flush cycle, and restarted on the same state (as systemd does after a
//! crash or a power cut). Nothing committed may be lost: after each restart the seq continues from at
//! least what `stock` showed before the kill, the epoch never changes, every start-up snapshot equals
//! HQ's replay at its seq, redelivered seqs are byte-identical, and the end is the ground truth.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::RunningStore;
use tagtally_tests::stores::shelves_and_door;
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "kill-store";
const KILLS: u32 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_sigkills_during_churn_lose_nothing() {
    let dir = ScenarioDir::new("kill");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let plan = shelves_and_door(STORE);
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
