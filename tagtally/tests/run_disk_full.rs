//! The state disk fills up under the real `tagtally run` (issue 7): the daemon says so clearly, keeps
//! counting, keeps publishing what it had committed, loses nothing, and picks up where it was once there
//! is room again — or, stopped while the disk is full, exits non-zero saying what is safe.
//!
//! "Full" is the process's file-size limit (`RLIMIT_FSIZE`, set on the running daemon with `prlimit`):
//! no byte of the database beyond its first page can be written, so every commit fails with `EFBIG`
//! as it would with `ENOSPC` on a full disk, without root or a dedicated file system. The daemon's log
//! goes through a pipe so that the limit hits only the database. The store churns (the door reader of
//! `run_support/churn.rs`), so commits are due every flush throughout.

mod run_support;
mod uplink_support;

use std::sync::{Arc, Mutex};

use run_support::churn::{
    hq_through, seq, settle_and_check, started, status, stock_counts, Hq, Rig, LIMIT, PREFIX,
};
use run_support::{poll, Daemon, Spawn};
use rustix::process::{getrlimit, prlimit, Pid, Resource, Rlimit};
use serde_json::Value;
use tokio::time::Instant;
use uplink_support::{start_rumqttd, Gate, Subscriber};

/// The file-size limit that makes the disk "full": the database's first page (its header, which
/// reopening the file after a failed commit rewrites in place) stays writable, nothing else does.
const FULL: u64 = 4096;

/// Sets the daemon's file-size limit: `Some(bytes)` fills the disk, `None` frees it.
fn file_size_limit(daemon: &Daemon, bytes: Option<u64>) {
    let pid = Pid::from_raw(i32::try_from(daemon.pid()).unwrap()).expect("a pid");
    // The hard limit stays as the test runner's own (the daemon inherited it), so no privilege is
    // needed; lifting puts the soft limit back to it.
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

/// systemd's side of sd_notify: every datagram the daemon sends, with when it came.
struct Notify {
    got: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Notify {
    fn listen(path: &std::path::Path) -> Notify {
        let socket = tokio::net::UnixDatagram::bind(path).expect("bind the notify socket");
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&got);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf).await {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                sink.lock().unwrap().push((Instant::now(), text));
            }
        });
        Notify { got }
    }

    /// Messages received after `since` that start with `prefix`.
    fn since(&self, since: Instant, prefix: &str) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, m)| *at >= since && m.starts_with(prefix))
            .map(|(_, m)| m.clone())
            .collect()
    }
}

/// Waits until status says the disk is full; returns that status.
async fn disk_full(daemon: &Daemon) -> Value {
    poll("status to report the full disk", LIMIT, || async {
        let s = status(daemon).await?;
        (s["database"]["state"] == "disk_full").then_some(s)
    })
    .await
}

/// Closes the broker's gate and waits for at least `n` committed deltas to queue in the outbox.
async fn queue_backlog(daemon: &Daemon, gate: &Gate, n: u64) {
    gate.close();
    gate.sever();
    poll("a backlog in the outbox", LIMIT, || async {
        let s = status(daemon).await?;
        (s["mqtt"]["state"] != "connected" && s["outbox"]["records"].as_u64()? >= n).then_some(())
    })
    .await;
}

/// The disk fills up twice while the store churns and HQ listens.
///
/// First episode, with committed deltas queued behind a closed broker link: one ERROR line names the
/// database and the error; `status --json` shows `disk_full`, what is held, and a frozen last seq
/// that `stock` shares; the link comes back and HQ gets every committed delta, exactly up to that seq,
/// and holds exactly the daemon's committed counts; acknowledgements that cannot be written are held;
/// systemd keeps getting watchdog pings and a STATUS= line that says so; `tagtally status` shows it.
/// Room returns: one INFO line, status back to `ok`, the next seq follows the frozen one, the held
/// acks empty the outbox.
///
/// Second episode, stopped with SIGTERM while full: exit 74 and a message that says what is safe. A
/// restart without the door settles on the ground truth: HQ's snapshot and deltas, `stock --json` and
/// the truth agree, seqs have no gap, re-sent deltas are byte-identical, and the epoch never changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn state_disk_full_holds_counts_keeps_publishing_and_loses_nothing() {
    let broker = start_rumqttd(None).await;
    let gate = Gate::new(broker.v311).await;
    let rig = Rig::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sub = Subscriber::connect_with(
        broker.v311,
        "hq-disk-full",
        &[&format!("{PREFIX}/delta"), &format!("{PREFIX}/snapshot")],
        None,
        false,
    )
    .await;
    let mut hq = Hq::default();
    let notify_path = dir.path().join("notify.sock");
    let notify = Notify::listen(&notify_path);
    let spawn = Spawn {
        log_through_pipe: true,
        env: vec![
            ("NOTIFY_SOCKET".into(), notify_path.display().to_string()),
            ("WATCHDOG_USEC".into(), "2000000".into()),
        ],
    };
    let config = rig.config(dir.path(), &gate.url(), true);
    let mut daemon = Daemon::start_with(dir.path(), &config, "run1.log", spawn.clone());
    let epoch = started(&daemon).await["epoch"]
        .as_str()
        .expect("epoch")
        .to_owned();
    let database = dir.path().join("state").join("tagtally.redb");
    let database = database.display().to_string();
    let s = status(&daemon).await.expect("status");
    assert_eq!(s["database"]["state"], "ok", "{s}");
    assert_eq!(s["database"]["path"], database.as_str(), "{s}");
    hq_through(&mut hq, &mut sub, 3).await;

    // Episode 1: committed deltas wait for the broker, then the disk fills up.
    queue_backlog(&daemon, &gate, 3).await;
    let filled = Instant::now();
    file_size_limit(&daemon, Some(FULL));
    let full = disk_full(&daemon).await;
    let db = &full["database"];
    let frozen = db["last_seq"].as_u64().expect("last_seq");
    assert!(
        db["error"]
            .as_str()
            .is_some_and(|e| e.contains("File too large (os error 27)")),
        "{full}"
    );
    assert_eq!(db["retry_every_secs"], 5, "{full}");
    assert!(
        db["since"].is_string() && db["held_changes"].is_u64(),
        "{full}"
    );
    let log = daemon.log();
    let said = format!(
        "state disk full: cannot commit to {database}: File too large (os error 27); counts are held \
         in memory and committed deltas are safe; retrying every 5s"
    );
    assert_eq!(log.matches(&said).count(), 1, "one error line; log:\n{log}");
    assert!(log.contains("SIGXFSZ"), "log:\n{log}");

    // The broker is back: what was committed goes out, nothing more; its acks cannot be recorded.
    gate.open(broker.v311);
    hq_through(&mut hq, &mut sub, frozen).await;
    let held = poll("acknowledgements held in memory", LIMIT, || async {
        let s = status(&daemon).await?;
        let db = &s["database"];
        let held = db["state"] == "disk_full"
            && s["mqtt"]["state"] == "connected"
            && db["held_acks"].as_u64()? >= 1;
        held.then_some(s)
    })
    .await;
    let stock = daemon.json("stock", &[]).await.expect("stock");
    assert_eq!(seq(&stock), frozen, "stock shows the last commit");
    assert_eq!(held["database"]["last_seq"], frozen, "{held}");
    assert!(held["outbox"]["records"].as_u64().unwrap() >= 1, "{held}");
    hq.take(&mut sub);
    assert_eq!(
        hq.max_seq(),
        frozen,
        "hq got a seq that was never committed"
    );
    assert!(hq.contiguous(), "seqs: {:?}", hq.deltas.keys());
    assert_eq!(
        hq.counts(),
        stock_counts(&stock),
        "hq holds the committed counts"
    );
    // The engine is alive, only not durable: systemd keeps getting pings, and is told why.
    poll(
        "watchdog pings and a STATUS= line while full",
        LIMIT,
        || {
            let pings = notify.since(filled, "WATCHDOG=1").len();
            let told = notify
                .since(filled, "STATUS=")
                .iter()
                .any(|l| l.contains("; STATE DISK FULL: committed up to seq"));
            async move { (pings >= 2 && told).then_some(()) }
        },
    )
    .await;
    let s = status(&daemon).await.expect("status");
    assert_eq!(s["database"]["state"], "disk_full", "still full: {s}");
    // What the technician reads.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["status", "--socket"])
        .arg(&daemon.socket)
        .output()
        .await
        .expect("tagtally status");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("database"))
        .unwrap_or_else(|| panic!("no database line: {text}"));
    assert!(
        line.contains("DISK FULL since ")
            && line.contains(&format!(
                "cannot commit to {database}: File too large (os error 27); committed up to seq {frozen} and safe"
            ))
            && line.ends_with("retrying every 5s"),
        "{line}"
    );

    // Room again: the held changes commit as the next seq, the held acks empty the outbox.
    file_size_limit(&daemon, None);
    let recovered = poll("the daemon to recover", LIMIT, || async {
        let s = status(&daemon).await?;
        (s["database"]["state"] == "ok" && s["outbox"]["records"] == 0).then_some(s)
    })
    .await;
    assert!(
        recovered["database"]["last_seq"].as_u64().unwrap() >= frozen,
        "{recovered}"
    );
    assert!(
        recovered["database"].get("held_acks").is_none(),
        "{recovered}"
    );
    let log = daemon.log();
    assert_eq!(
        log.matches("state disk writable again after").count(),
        1,
        "log:\n{log}"
    );
    assert_eq!(log.matches(&said).count(), 1, "log:\n{log}");
    // Commits go on; the first new seq at HQ follows the frozen one (`Hq::take` checks each new seq
    // is the next), whether it is the held changes or, if they had netted out, a later flush.
    let stock = poll("commits after the recovery", LIMIT, || async {
        let s = daemon.json("stock", &[]).await?;
        (seq(&s) > frozen).then_some(s)
    })
    .await;
    hq_through(&mut hq, &mut sub, seq(&stock)).await;
    assert!(hq.contiguous(), "seqs: {:?}", hq.deltas.keys());

    // Episode 2: full again, with acked deltas whose acks cannot be recorded, then SIGTERM.
    queue_backlog(&daemon, &gate, 3).await;
    file_size_limit(&daemon, Some(FULL));
    disk_full(&daemon).await;
    gate.open(broker.v311);
    let held = poll("acknowledgements held again", LIMIT, || async {
        let s = status(&daemon).await?;
        let held =
            s["database"]["state"] == "disk_full" && s["database"]["held_acks"].as_u64()? >= 1;
        held.then_some(s)
    })
    .await;
    let safe = held["database"]["last_seq"].as_u64().unwrap();
    hq_through(&mut hq, &mut sub, safe).await;
    daemon.terminate();
    let exit = daemon.exit_status(LIMIT).await;
    let log = daemon.log();
    assert_eq!(exit.code(), Some(74), "log:\n{log}");
    assert!(
        log.contains(&format!(
            "stopped with the state disk full: cannot commit to {database}: File too large (os error 27); \
             everything up to seq {safe} is committed and safe"
        )),
        "log:\n{log}"
    );
    assert!(
        log.contains("published again after the restart (HQ deduplicates them)"),
        "log:\n{log}"
    );

    // Restart with room and without the door: nothing committed was lost, and all agree on the truth.
    let config = rig.config(dir.path(), &gate.url(), false);
    let mut daemon = Daemon::start_with(dir.path(), &config, "run2.log", Spawn::default());
    let restored = started(&daemon).await;
    assert_eq!(restored["epoch"], epoch.as_str(), "epoch changed");
    assert!(
        seq(&restored) >= safe,
        "committed seq {safe} lost: restored at {}",
        seq(&restored)
    );
    settle_and_check(&rig, &daemon, broker.v311, &mut hq, &mut sub, &epoch).await;
    assert!(
        hq.duplicates > 0,
        "deltas whose acks the full disk could not record must come again"
    );
    eprintln!(
        "disk full at seq {frozen} then {safe}; {} deltas, {} re-sent byte-identical",
        hq.max_seq(),
        hq.duplicates
    );
    daemon.terminate();
    let exit = daemon.exit_status(LIMIT).await;
    assert_eq!(exit.code(), Some(0), "log:\n{}", daemon.log());
}
