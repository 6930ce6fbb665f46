//! Fault tests of the real `tagtally run` (issue 5, SPEC §7): the daemon SIGKILLed mid-stream at three
//! different moments and restarted on its state dir, and the broker unreachable at start-up and cut
//! mid-run — judged by what a persistent HQ subscriber receives and by `status`/`stock --json`.
//!
//! The rig: one LLRP reader whose shelves hold fixed tags (the ground truth), and a second LLRP reader
//! at the door where tags come and go in a loop, so the engine commits a delta nearly every flush for
//! as long as we need. The ground truth is reached by restarting without the door reader: its zone is
//! retired and its tags leave, whatever the moment — so no wait depends on how fast this machine is.

mod run_support;
mod uplink_support;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use run_support::{counts, poll, Daemon, COMPANY};
use serde_json::Value;
use tagtally::demo::sgtin::{gtin_of, sgtin96};
use tagtally_reader_drivers::sim::llrp::LlrpSim;
use tagtally_reader_drivers::sim::scenario::{PresenceSpec, Scenario, TagSpec};
use tagtally_reader_drivers::Epc;
use uplink_support::{start_rumqttd, Gate, Subscriber};

/// Bound of each wait here: generous for a loaded 2-core machine, far below the suite's budget.
const LIMIT: Duration = Duration::from_secs(30);
const STORE: &str = "fault-store";
const PREFIX: &str = "tagtally/v1/fault-store";

type Counts = BTreeMap<(String, String), u64>;

/// The emulated readers and the ground truth of the shelves.
struct Rig {
    shelves: LlrpSim,
    door: LlrpSim,
    truth: Counts,
}

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(COMPANY, item, serial)).unwrap()
}

impl Rig {
    async fn start() -> Rig {
        let mut tags = Vec::new();
        let mut truth = Counts::new();
        let mut serial = 1;
        for (zone, antenna, item, count) in [
            ("floor", 1, 300_001, 6),
            ("floor", 1, 300_002, 4),
            ("backroom", 2, 300_001, 5),
            ("backroom", 2, 300_003, 3),
        ] {
            for _ in 0..count {
                tags.push(TagSpec::fixed(epc(item, serial), &[antenna], -55.0));
                serial += 1;
            }
            *truth
                .entry((zone.to_owned(), gtin_of(COMPANY, item)))
                .or_insert(0) += count;
        }
        let mut shelves = Scenario::with_tags(tags);
        shelves.inventory.read_rate = 20.0;
        // The door: 8 tags of two SKUs, each in the field 0.8 s of every 1.6 s, staggered by 0.2 s,
        // so one arrives and one leaves every 0.2 s, forever.
        let step = Duration::from_millis(200);
        let door_tags = (0..8u32)
            .map(|k| TagSpec {
                epc: epc(300_004 + k % 2, 1000 + u64::from(k)),
                presence: PresenceSpec {
                    antennas: vec![1],
                    rssi: -50.0,
                    appear: step * k,
                    leave: Some(step * k + step * 4),
                    ..PresenceSpec::default()
                },
            })
            .collect();
        let mut door = Scenario::with_tags(door_tags);
        door.repeat_after = Some(step * 8);
        door.inventory.read_rate = 20.0;
        Rig {
            shelves: LlrpSim::start("127.0.0.1:0", shelves)
                .await
                .expect("shelves emulator"),
            door: LlrpSim::start("127.0.0.1:0", door)
                .await
                .expect("door emulator"),
            truth,
        }
    }

    /// The daemon's config; `with_door` false retires the entrance zone and its reader.
    fn config(&self, dir: &Path, broker: &str, with_door: bool) -> String {
        let mut text = format!(
            r#"store = "{STORE}"
state-dir = "{dir}/state"
control-socket = "{dir}/control.sock"
log-level = "debug"

[presence]
arrive-reads = 2
arrive-window = "2s"
depart-after = "10m"

[[zone]]
name = "floor"

[[zone]]
name = "backroom"

[[reader]]
name = "shelves"
kind = "llrp"
address = "{shelves}"
antennas = {{ 1 = "floor", 2 = "backroom" }}
keepalive = "2s"
"#,
            dir = dir.display(),
            shelves = self.shelves.addr(),
        );
        if with_door {
            // A short depart-after only here, so the door churns while the shelves stay put.
            text.push_str(&format!(
                r#"
[[zone]]
name = "entrance"
arrive-window = "1s"
depart-after = "400ms"

[[reader]]
name = "door"
kind = "llrp"
address = "{}"
antennas = {{ 1 = "entrance" }}
keepalive = "2s"
"#,
                self.door.addr()
            ));
        }
        // The shortest intervals the config allows that still let a loaded machine keep up.
        text.push_str(&format!(
            r#"
[mqtt]
url = "{broker}"
flush-interval = "100ms"
snapshot-interval = "10m"
keep-alive = "5s"
reconnect-backoff-max = "300ms"
"#
        ));
        text
    }
}

/// What the persistent HQ subscriber got, tracked as docs/HQ.md §3 tells consumers to.
#[derive(Default)]
struct Hq {
    epoch: Option<String>,
    /// The first copy of every seq; later copies must be byte-identical.
    deltas: BTreeMap<u64, Bytes>,
    duplicates: usize,
    /// (zone, sku) → (count, seq that set it): the §3 state, snapshots and deltas folded in.
    state: BTreeMap<(String, String), (u64, u64)>,
    snapshots: usize,
}

impl Hq {
    fn max_seq(&self) -> u64 {
        self.deltas.keys().last().copied().unwrap_or(0)
    }

    /// Takes everything received so far, checking each delta as it comes.
    fn take(&mut self, sub: &mut Subscriber) {
        while let Ok(m) = sub.rx.try_recv() {
            let v: Value = serde_json::from_slice(&m.payload).expect("json payload");
            let epoch = v["epoch"].as_str().expect("epoch").to_owned();
            let first_epoch = self.epoch.get_or_insert_with(|| epoch.clone());
            assert_eq!(&epoch, first_epoch, "epoch changed: {v}");
            let seq = v["seq"].as_u64().expect("seq");
            if m.topic.ends_with("/delta") {
                if let Some(first) = self.deltas.get(&seq) {
                    assert_eq!(first, &m.payload, "seq {seq} re-sent with other bytes");
                    self.duplicates += 1;
                    continue;
                }
                // Re-sends restart from the oldest unacknowledged seq, so a seq never seen before
                // is always the next one: the backlog goes out in order and nothing is skipped.
                assert_eq!(
                    seq,
                    self.max_seq() + 1,
                    "new seq out of order or after a gap; had {:?}",
                    self.deltas.keys().rev().take(5).collect::<Vec<_>>()
                );
                self.deltas.insert(seq, m.payload);
                for c in v["changes"].as_array().expect("changes") {
                    let key = pair(c);
                    let count = c["count"].as_u64().expect("count");
                    let e = self.state.entry(key).or_insert((0, 0));
                    if e.1 < seq {
                        *e = (count, seq);
                    }
                }
            } else if m.topic.ends_with("/snapshot") {
                self.snapshots += 1;
                apply_snapshot(&mut self.state, &v);
            }
        }
    }

    /// Seqs 1..=max all present.
    fn contiguous(&self) -> bool {
        self.deltas.len() as u64 == self.max_seq()
    }

    /// The counts HQ holds now (pairs at zero left out, as `stock` leaves them out).
    fn counts(&self) -> Counts {
        nonzero(self.state.iter().map(|(k, (n, _))| (k.clone(), *n)))
    }
}

fn pair(c: &Value) -> (String, String) {
    (
        c["zone"].as_str().expect("zone").to_owned(),
        c["sku"].as_str().expect("sku").to_owned(),
    )
}

fn nonzero(it: impl Iterator<Item = ((String, String), u64)>) -> Counts {
    it.filter(|(_, n)| *n > 0).collect()
}

/// HQ.md §3 resync: a snapshot at seq k replaces every count whose own seq is <= k.
fn apply_snapshot(state: &mut BTreeMap<(String, String), (u64, u64)>, v: &Value) {
    assert_eq!(v["schema"], "tagtally.snapshot/1", "{v}");
    let k = v["seq"].as_u64().expect("snapshot seq");
    state.retain(|_, (_, seq)| *seq > k);
    for c in v["counts"].as_array().expect("counts") {
        state
            .entry(pair(c))
            .or_insert((c["count"].as_u64().expect("count"), k));
    }
}

/// `stock --json` counts, pairs at zero left out.
fn stock_counts(stock: &Value) -> Counts {
    nonzero(counts(stock).into_iter())
}

fn seq(v: &Value) -> u64 {
    v["seq"].as_u64().expect("seq")
}

async fn status(daemon: &Daemon) -> Option<Value> {
    daemon.json("status", &[]).await
}

/// Waits until the daemon answers on its control socket; returns its stock.
async fn started(daemon: &Daemon) -> Value {
    poll("the daemon to answer", LIMIT, || async {
        daemon.json("stock", &[]).await
    })
    .await
}

/// Waits until HQ holds every seq up to `last`.
async fn hq_through(hq: &mut Hq, sub: &mut Subscriber, last: u64) {
    poll(&format!("hq to hold seq {last}"), LIMIT, || {
        hq.take(sub);
        let done = hq.max_seq() >= last;
        async move { done.then_some(()) }
    })
    .await;
}

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
    let opened = tagtally::store::Store::open(
        &path,
        tagtally::store::StoreOptions {
            store: STORE.into(),
            max_outbox_bytes: 64 << 20,
        },
    )
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

/// The end state: restarted without the door, the daemon's stock is the ground truth, everything is
/// acknowledged, and HQ — from its deltas and snapshots, and from the retained snapshot a fresh
/// subscriber gets plus the later deltas — holds exactly the same counts.
async fn settle_and_check(
    rig: &Rig,
    daemon: &Daemon,
    broker: std::net::SocketAddr,
    hq: &mut Hq,
    sub: &mut Subscriber,
    epoch: &str,
) {
    let stock = poll("stock to equal the ground truth", LIMIT, || async {
        let s = daemon.json("stock", &[]).await?;
        (stock_counts(&s) == rig.truth).then_some(s)
    })
    .await;
    assert_eq!(stock["epoch"], epoch, "epoch changed");
    let last = seq(&stock);
    poll("the outbox to drain", LIMIT, || async {
        let s = status(daemon).await?;
        (s["outbox"]["records"] == 0 && s["mqtt"]["state"] == "connected").then_some(())
    })
    .await;
    hq_through(hq, sub, last).await;
    // Nothing after `last` may come (no churn any more), so HQ's view is final.
    assert_eq!(hq.max_seq(), last, "hq got seqs beyond the daemon's");
    assert!(hq.contiguous(), "seqs: {:?}", hq.deltas.keys());
    assert_eq!(hq.counts(), rig.truth, "hq's counts");

    // A newcomer: the retained snapshot, then the deltas after it (taken from the persistent
    // subscriber, since they went out before the newcomer subscribed).
    let mut late = Subscriber::connect(broker, "hq-late", &[&format!("{PREFIX}/snapshot")]).await;
    let snap = late.next().await;
    assert!(snap.retain);
    let snap: Value = serde_json::from_slice(&snap.payload).expect("snapshot json");
    assert_eq!(snap["epoch"], epoch);
    let mut state = BTreeMap::new();
    apply_snapshot(&mut state, &snap);
    for (s, payload) in hq.deltas.range(seq(&snap) + 1..) {
        let v: Value = serde_json::from_slice(payload).unwrap();
        for c in v["changes"].as_array().unwrap() {
            state.insert(pair(c), (c["count"].as_u64().unwrap(), *s));
        }
    }
    let rebuilt = nonzero(state.into_iter().map(|(k, (n, _))| (k, n)));
    assert_eq!(rebuilt, rig.truth, "retained snapshot + later deltas");
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
