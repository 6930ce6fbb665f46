//! A stalled daemon judges its readers by what they sent meanwhile (issue 12): `tagtally run` is
//! stopped with SIGSTOP for longer than three LLRP keepalive periods while the reader keeps sending
//! keepalives and reports into the socket, then continued. It must read what the kernel buffered
//! before it judges the link: the reader stays up, never reconnects, and its zones never go stale.

mod run_support;
mod uplink_support;

use std::time::Duration;

use run_support::{counts, poll, store_config, Daemon, TestStore, WAIT};
use serde_json::Value;

/// `store_config`'s LLRP keepalive is 2 s: a link with no whole message for 6 s is dead.
const STALL: Duration = Duration::from_secs(8);

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

/// The `ceiling` reader of a `readers --json` answer (an array of readers).
fn ceiling(readers: &Value) -> &Value {
    readers
        .as_array()
        .expect("readers")
        .iter()
        .find(|r| r["name"] == "ceiling")
        .expect("the ceiling reader")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_longer_than_three_keepalives_reads_the_buffer_before_judging() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = TestStore::start().await;
    // No broker: this is about the reader link only.
    let broker = "127.0.0.1:9".parse().expect("addr");
    let config = store_config(dir.path(), &store, broker, false);
    let daemon = Daemon::start(dir.path(), &config, "daemon.log");
    let truth = store.truth_without("fitting-rooms");
    poll("stock to equal the truth", WAIT, || async {
        let stock = daemon.json("stock", &[]).await?;
        (counts(&stock) == truth).then_some(())
    })
    .await;
    let before = daemon.json("readers", &[]).await.expect("readers");
    assert_eq!(ceiling(&before)["link"]["state"], "up");
    let accepted = store.llrp.stats().connections_accepted;
    let keepalives = store.llrp.stats().keepalives_sent;

    signal(daemon.pid(), "STOP");
    // The stall is the fault under test: its length is the parameter, nothing is awaited here.
    tokio::time::sleep(STALL).await;
    signal(daemon.pid(), "CONT");
    assert!(
        store.llrp.stats().keepalives_sent >= keepalives + 3,
        "the reader kept sending keepalives during the stall"
    );

    // Once the daemon has caught up (a read after the stall), the link never went down.
    let resumed = std::time::SystemTime::now();
    let after = poll("a read after the stall", WAIT, || async {
        let readers = daemon.json("readers", &[]).await?;
        let last = ceiling(&readers)["last_read"].as_str()?.to_owned();
        let last = humantime::parse_rfc3339(&last).ok()?;
        (last >= resumed).then_some(readers)
    })
    .await;
    let reader = ceiling(&after);
    assert_eq!(reader["link"]["state"], "up", "{reader}");
    assert_eq!(reader["reconnects"], 0, "{reader}");
    assert_eq!(
        store.llrp.stats().connections_accepted,
        accepted,
        "the daemon never reconnected"
    );
    let status = daemon.json("status", &[]).await.expect("status");
    assert!(
        status["stale_zones"]
            .as_array()
            .is_none_or(|zones| zones.is_empty()),
        "{status}"
    );
    let log = daemon.log();
    let reader_down: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("link down") && !l.contains("mqtt link down"))
        .collect();
    assert!(
        reader_down.is_empty(),
        "a live link was judged dead after the stall: {reader_down:?}"
    );
    let stock = daemon.json("stock", &[]).await.expect("stock");
    assert_eq!(counts(&stock), truth);
}
