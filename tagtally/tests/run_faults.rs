//! Fault tests of the real `tagtally run` (issue 5, SPEC §7): the daemon SIGKILLed mid-stream at three
//! different moments and restarted on its state dir, and the broker unreachable at start-up and cut
//! mid-run — judged by what a persistent HQ subscriber receives and by `status`/`stock --json`.
//!
//! The rig is the churning store of `run_support/churn.rs`: shelves with a known ground truth and a door
//! where tags come and go forever, so a delta commits nearly every flush.

mod run_support;
mod uplink_support;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use run_support::churn::{
    hq_through, nonzero, pair, seq, settle_and_check, started, status, Counts, Hq, Rig, LIMIT,
    PREFIX, STORE,
};
use run_support::{poll, Daemon};
use serde_json::Value;
use uplink_support::{start_rumqttd, Gate, Subscriber};

/// Asserts a SIGKILLed daemon died of the signal, not of something else first.
fn assert_killed(status: std::process::ExitStatus, daemon: &Daemon) {
    assert_eq!(status.signal(), Some(9), "log:\n{}", daemon.log());
}

/// What a SIGKILLed daemon left on disk, read from a copy of its state dir so that the restarted
/// daemon still meets the database exactly as the kill left it (its own recovery is under test).
struct Left {
    epoch: String,
    last_seq: u64,
    /// Recount of the stored tags, (zone, sku) → tags.
    recount: Counts,
    /// Unacknowledged deltas by seq.
    outbox: BTreeMap<u64, Vec<u8>>,
}

fn inspect_copy(dir: &Path) -> Left {
    let copy = tempfile::tempdir().expect("tempdir");
    let name = tagtally::store::DATABASE_FILE;
    let path = copy.path().join(name);
    std::fs::copy(dir.join("state").join(name), &path).expect("copy the state database");
    let opened =
        tagtally::store::Store::open(&path, tagtally::store::StoreOptions::new(STORE, 64 << 20))
            .expect("the killed daemon's database opens");
    let mut recount = Counts::new();
    for t in &opened.tags {
        *recount
            .entry((t.zone.to_string(), t.sku.to_string()))
            .or_insert(0) += 1;
    }
    let mut outbox = BTreeMap::new();
    for item in opened.store.unacked().expect("outbox") {
        match item.expect("outbox record") {
            tagtally::store::OutboxItem::Delta { seq, payload } => {
                outbox.insert(seq, payload);
            }
            other => panic!("unexpected outbox item {other:?}"),
        }
    }
    Left {
        epoch: opened.store.epoch().to_owned(),
        last_seq: opened.store.last_seq(),
        recount,
        outbox,
    }
}

/// Checks what a kill left against everything HQ received by the end: the same epoch; an outbox
/// of the newest seqs, ending at the last committed one, byte-identical to what HQ got; and tag
/// state whose recount equals the counts of deltas 1..=last (state and delta in one transaction).
fn check_left(left: &Left, hq: &Hq, epoch: &str, kill: &str) {
    assert_eq!(left.epoch, epoch, "kill {kill}: epoch");
    if let (Some(first), Some(last)) = (left.outbox.keys().next(), left.outbox.keys().last()) {
        assert_eq!(
            *last, left.last_seq,
            "kill {kill}: outbox does not end at the last seq"
        );
        assert_eq!(
            left.outbox.len() as u64,
            last - first + 1,
            "kill {kill}: outbox has holes"
        );
    }
    for (seq, payload) in &left.outbox {
        assert_eq!(
            hq.deltas.get(seq).map(|b| &b[..]),
            Some(&payload[..]),
            "kill {kill}: seq {seq} at hq differs from the outbox"
        );
    }
    let mut counts = Counts::new();
    for payload in hq.deltas.range(..=left.last_seq).map(|(_, p)| p) {
        let v: Value = serde_json::from_slice(payload).unwrap();
        for c in v["changes"].as_array().unwrap() {
            counts.insert(pair(c), c["count"].as_u64().unwrap());
        }
    }
    assert_eq!(
        nonzero(counts.into_iter()),
        left.recount,
        "kill {kill}: stored tags vs deltas 1..={}",
        left.last_seq
    );
}

/// SIGKILL at three moments, each followed by a restart on the same state dir:
/// A. deltas published and received by the broker, PUBACKs held back (the outbox still has them);
/// B. the broker link cut, deltas committed but never sent;
/// C. in full flow, right after new commits, whatever the uplink is doing.
/// The persistent subscriber must end with one epoch, seqs 1..=last without a gap, byte-identical
/// duplicates, and counts equal to the daemon's stock and the ground truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_midstream_loses_no_delta() {
    let broker = start_rumqttd(None).await;
    let gate = Gate::new(broker.v311).await;
    let rig = Rig::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // A persistent session that also stays connected throughout: the broker is not the fault here.
    let mut sub = Subscriber::connect_with(
        broker.v311,
        "hq-faults",
        &[&format!("{PREFIX}/delta"), &format!("{PREFIX}/snapshot")],
        None,
        false,
    )
    .await;
    let mut hq = Hq::default();
    let config = rig.config(dir.path(), &gate.url(), true);

    let mut daemon = Daemon::start(dir.path(), &config, "run1.log");
    let epoch = started(&daemon).await["epoch"]
        .as_str()
        .expect("epoch")
        .to_owned();
    hq_through(&mut hq, &mut sub, 3).await;

    // A: the broker has deltas the daemon never heard acknowledged.
    gate.hold_downstream(true);
    let before_kill = poll("a delta received by hq but unacknowledged", LIMIT, || {
        hq.take(&mut sub);
        let seen = hq.max_seq();
        let daemon = &daemon;
        async move {
            let s = status(daemon).await?;
            let acked = s["mqtt"]["last_acked_seq"].as_u64().unwrap_or(0);
            (seen >= acked + 2 && s["outbox"]["records"].as_u64()? >= 2).then_some(seen)
        }
    })
    .await;
    let stock_a = seq(&daemon.json("stock", &[]).await.expect("stock"));
    assert_killed(daemon.kill().await, &daemon);
    let left_a = inspect_copy(dir.path());
    assert!(!left_a.outbox.is_empty(), "kill A: nothing unacknowledged");
    gate.hold_downstream(false);
    gate.sever();
    let mut last_committed = stock_a.max(before_kill);

    // B: the link is cut, so commits pile up unsent.
    daemon = Daemon::start(dir.path(), &config, "run2.log");
    let restored = started(&daemon).await;
    assert_eq!(restored["epoch"], epoch.as_str(), "epoch changed");
    assert!(
        seq(&restored) >= last_committed,
        "committed seq {last_committed} lost: restored at {}",
        seq(&restored)
    );
    hq_through(&mut hq, &mut sub, seq(&restored)).await;
    gate.close();
    gate.sever();
    let stock_b = poll("commits queued while the link is down", LIMIT, || async {
        let s = status(&daemon).await?;
        let stock = daemon.json("stock", &[]).await?;
        let queued = s["mqtt"]["state"] != "connected" && s["outbox"]["records"].as_u64()? >= 3;
        queued.then(|| seq(&stock))
    })
    .await;
    assert_killed(daemon.kill().await, &daemon);
    let left_b = inspect_copy(dir.path());
    assert!(left_b.outbox.len() >= 3, "kill B: the queue is gone");
    gate.open(broker.v311);
    last_committed = stock_b;

    // C: in full flow.
    daemon = Daemon::start(dir.path(), &config, "run3.log");
    let restored = started(&daemon).await;
    assert_eq!(restored["epoch"], epoch.as_str(), "epoch changed");
    assert!(
        seq(&restored) >= last_committed,
        "committed seq {last_committed} lost: restored at {}",
        seq(&restored)
    );
    let from = seq(&restored);
    let stock_c = poll("new commits in full flow", LIMIT, || async {
        let s = daemon.json("stock", &[]).await?;
        (seq(&s) >= from + 3).then(|| seq(&s))
    })
    .await;
    assert_killed(daemon.kill().await, &daemon);
    let left_c = inspect_copy(dir.path());

    // The last start retires the door, so the stock settles on the ground truth.
    let config = rig.config(dir.path(), &gate.url(), false);
    let mut daemon = Daemon::start(dir.path(), &config, "run4.log");
    let restored = started(&daemon).await;
    assert_eq!(restored["epoch"], epoch.as_str(), "epoch changed");
    assert!(seq(&restored) >= stock_c, "committed seq {stock_c} lost");
    settle_and_check(&rig, &daemon, broker.v311, &mut hq, &mut sub, &epoch).await;
    for (left, kill) in [(&left_a, "A"), (&left_b, "B"), (&left_c, "C")] {
        check_left(left, &hq, &epoch, kill);
    }
    assert!(
        hq.duplicates > 0,
        "kill A left unacknowledged deltas at the broker: they must come again"
    );
    assert!(hq.snapshots >= 4, "a snapshot per start");
    // For the record (visible with --nocapture): where each kill fell.
    eprintln!(
        "kills at seq A {stock_a} (hq had {before_kill}), B {stock_b}, C {stock_c}; \
         {} deltas, {} re-sent",
        hq.max_seq(),
        hq.duplicates
    );

    daemon.terminate();
    let exit = daemon.exit_status(LIMIT).await;
    assert_eq!(exit.code(), Some(0), "log:\n{}", daemon.log());
}

/// The broker unreachable at start-up, then cut mid-run, while the door keeps stock moving: deltas
/// queue in the on-disk outbox (status shows it growing, MQTT not connected and why); once the
/// broker is back the backlog drains in seq order with no gap and the outbox empties; HQ ends on the
/// ground truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broker_outage_queues_deltas_then_drains_in_order() {
    let broker = start_rumqttd(None).await;
    // The daemon reaches the broker only through this gate; closed, it drops every connection.
    let gate = Gate::new(broker.v311).await;
    gate.close();
    let rig = Rig::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sub = Subscriber::connect_with(
        broker.v311,
        "hq-outage",
        &[&format!("{PREFIX}/delta"), &format!("{PREFIX}/snapshot")],
        None,
        false,
    )
    .await;
    let mut hq = Hq::default();
    let config = rig.config(dir.path(), &gate.url(), true);
    let mut daemon = Daemon::start(dir.path(), &config, "run1.log");
    let epoch = started(&daemon).await["epoch"]
        .as_str()
        .expect("epoch")
        .to_owned();

    for outage in ["at start-up", "mid-run"] {
        if outage == "mid-run" {
            gate.close();
            gate.sever();
        }
        // Queued: not connected, with the reason shown, and deltas waiting on disk.
        let queued = poll(&format!("deltas queued ({outage})"), LIMIT, || async {
            let s = status(&daemon).await?;
            let down = s["mqtt"]["state"] != "connected"
                && s["mqtt"]["last_error"]
                    .as_str()
                    .is_some_and(|e| !e.is_empty());
            (down && s["outbox"]["records"].as_u64()? >= 2).then_some(s)
        })
        .await;
        let (records, bytes) = (
            queued["outbox"]["records"].as_u64().unwrap(),
            queued["outbox"]["bytes"].as_u64().unwrap(),
        );
        // ... and growing, on disk, while the broker stays away.
        let grown = poll(&format!("the outbox to grow ({outage})"), LIMIT, || async {
            let s = status(&daemon).await?;
            // A backlog of a couple of seconds of churn: a real queue, still a short test.
            let more = s["outbox"]["records"].as_u64()? >= records.max(10)
                && s["outbox"]["bytes"].as_u64()? > bytes
                && s["mqtt"]["state"] != "connected";
            more.then_some(s)
        })
        .await;
        let stock = daemon.json("stock", &[]).await.expect("stock");
        hq.take(&mut sub);
        if outage == "at start-up" {
            assert!(hq.deltas.is_empty(), "hq got deltas through a closed gate");
        } else {
            // What was in flight at the cut may still arrive; what was committed since may not.
            assert!(hq.max_seq() < seq(&stock), "the backlog reached hq");
        }

        // The broker is back: the backlog drains, oldest first (checked delta by delta in `take`).
        gate.open(broker.v311);
        let opened = tokio::time::Instant::now();
        poll(
            &format!("the backlog to drain ({outage})"),
            LIMIT,
            || async {
                let s = status(&daemon).await?;
                (s["outbox"]["records"] == 0 && s["mqtt"]["state"] == "connected").then_some(())
            },
        )
        .await;
        let drained = opened.elapsed();
        let stock = daemon.json("stock", &[]).await.expect("stock");
        hq_through(&mut hq, &mut sub, seq(&stock)).await;
        assert!(hq.contiguous(), "seqs: {:?}", hq.deltas.keys());
        eprintln!(
            "outage {outage}: last error {}; outbox grew {records} → {} records; \
             drained in {drained:?}; hq at seq {}",
            grown["mqtt"]["last_error"],
            grown["outbox"]["records"],
            hq.max_seq()
        );
    }

    // Settle on the ground truth: a clean stop, and a start without the door.
    daemon.terminate();
    let exit = daemon.exit_status(LIMIT).await;
    assert_eq!(exit.code(), Some(0), "log:\n{}", daemon.log());
    let config = rig.config(dir.path(), &gate.url(), false);
    let mut daemon = Daemon::start(dir.path(), &config, "run2.log");
    started(&daemon).await;
    settle_and_check(&rig, &daemon, broker.v311, &mut hq, &mut sub, &epoch).await;
    daemon.terminate();
    let exit = daemon.exit_status(LIMIT).await;
    assert_eq!(exit.code(), Some(0), "log:\n{}", daemon.log());
}
