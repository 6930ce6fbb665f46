//! Scenario: the state disk fills up while stock churns. The daemon must say so clearly (one ERROR
//! line, `status` showing the database full), keep running, keep what it committed published, and
//! lose nothing: when there is room again it goes on with the next seq, and the store ends at the
//! ground truth with HQ's replay agreeing.
//!
//! "Full" is the daemon's file-size limit (`RLIMIT_FSIZE`), set on the running process: every write
//! that grows the database fails with `EFBIG`, as `ENOSPC` would on a full disk — no root and no
//! dedicated file system needed. The daemon's log goes through a pipe, so only the database is hit.

use std::time::{Duration, Instant};

use rustix::process::{getrlimit, prlimit, Pid, Resource, Rlimit};
use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::recorder::Recorder;
use tagtally_tests::replay::replay;
use tagtally_tests::store::RunningStore;
use tagtally_tests::stores::shelves_and_door;
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "full-disk-store";

/// Caps (`Some`) or frees (`None`) the size any file of the daemon may grow to.
fn file_size_limit(daemon: &Daemon, bytes: Option<u64>) {
    let pid = Pid::from_raw(i32::try_from(daemon.pid()).expect("pid")).expect("a pid");
    let hard = getrlimit(Resource::Fsize).maximum;
    prlimit(
        Some(pid),
        Resource::Fsize,
        Rlimit {
            current: bytes.or(hard),
            maximum: hard,
        },
    )
    .expect("prlimit on the daemon");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_state_disk_is_reported_and_loses_nothing() {
    let dir = ScenarioDir::new("disk-full");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let store = RunningStore::start(shelves_and_door(STORE), dir.path()).await;
    let url = format!("mqtt://{}", broker.addr);
    let daemon = Daemon::start(dir.path(), &store.config(&url, &["shelves", "door"]));
    let epoch = daemon.ready().await["epoch"]
        .as_str()
        .expect("epoch")
        .to_owned();
    wait::until("a few commits", Duration::from_secs(60), || async {
        let (seq, _) = daemon.stock().await?;
        if seq >= 3 {
            Ok(())
        } else {
            Err(format!("seq {seq}"))
        }
    })
    .await;

    // The disk fills up: only the database's first page stays writable.
    file_size_limit(&daemon, Some(4096));
    let status = wait::until(
        "status to report the full disk",
        Duration::from_secs(30),
        || async {
            let s = daemon.cli("status", &[]).await?;
            if s["database"]["state"] == "disk_full" {
                Ok(s)
            } else {
                Err(s["database"].to_string())
            }
        },
    )
    .await;
    assert!(
        status["database"]["error"].is_string(),
        "no error given: {status}"
    );
    let log = daemon.log();
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("state disk full"))
        .collect();
    assert_eq!(errors.len(), 1, "one clear error line, not a flood:\n{log}");

    // While full: the daemon runs, stock shows the last commit, and HQ has everything committed.
    let (frozen, _) = daemon.stock().await.expect("stock while full");
    let full_since = Instant::now();
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    assert_eq!(hq.seq, frozen, "HQ has every committed delta");
    wait::until(
        "a while with the disk full",
        Duration::from_secs(30),
        || async {
            let (seq, _) = daemon.stock().await?;
            assert_eq!(seq, frozen, "a commit on a full disk?");
            if full_since.elapsed() >= Duration::from_secs(6) {
                Ok(())
            } else {
                Err("holding".into())
            }
        },
    )
    .await;
    assert_eq!(
        daemon.cli("status", &[]).await.expect("status")["database"]["state"],
        "disk_full"
    );

    // Room again: the held changes commit as the next seq, and deltas flow.
    file_size_limit(&daemon, None);
    wait::until("the daemon to recover", Duration::from_secs(30), || async {
        let s = daemon.cli("status", &[]).await?;
        let (seq, _) = daemon.stock().await?;
        if s["database"]["state"] == "ok" && seq > frozen + 1 {
            Ok(())
        } else {
            Err(format!("{} at seq {seq}", s["database"]))
        }
    })
    .await;
    let r = replay(STORE, &recorder.messages());
    assert!(
        r.is_ok() || r.as_ref().is_err_and(|e| e.contains("missing")),
        "{r:?}"
    );

    // The end: stop, restart without the door; the shelves' truth, HQ agreeing, same epoch.
    let mut daemon = daemon;
    assert!(
        daemon.stop().await.success(),
        "SIGTERM exit; log:\n{}",
        daemon.log()
    );
    let daemon = Daemon::start(dir.path(), &store.config(&url, &["shelves"]));
    assert_eq!(daemon.ready().await["epoch"], epoch.as_str());
    let truth = store.plan.truth_where(|zone| zone != "door");
    stock_reaches(&daemon, &truth, Duration::from_secs(60)).await;
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    assert_eq!(hq.folded, 0);
    assert!(hq.seq > frozen + 1);
}
