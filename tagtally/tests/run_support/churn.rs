//! The churning store of the `tagtally run` fault suites: one LLRP reader whose shelves hold fixed tags
//! (the ground truth), and a second LLRP reader at the door where tags come and go in a loop, so the
//! engine commits a delta nearly every flush for as long as a test needs. The ground truth is reached by
//! restarting without the door reader: its zone is retired and its tags leave, whatever the moment — so
//! no wait depends on how fast the machine is. Plus the HQ subscriber's bookkeeping (docs/HQ.md §3) and
//! the end-state check every fault test finishes with.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tagtally_reader_drivers::Epc;
use tagtally_sim::llrp::LlrpSim;
use tagtally_sim::scenario::{PresenceSpec, Scenario, TagSpec};
use tagtally_tooling::demo::sgtin::{gtin_of, sgtin96};

use super::config_text::ConfigText;
use super::{counts, poll, Daemon, COMPANY};
use crate::uplink_support::Subscriber;

/// Bound of each wait here: generous for a loaded 2-core machine, far below the suite's budget.
pub const LIMIT: Duration = Duration::from_secs(30);
pub const STORE: &str = "fault-store";
pub const PREFIX: &str = "tagtally/v1/fault-store";

pub type Counts = BTreeMap<(String, String), u64>;

/// The emulated readers and the ground truth of the shelves.
pub struct Rig {
    pub shelves: LlrpSim,
    pub door: LlrpSim,
    pub truth: Counts,
}

pub fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(COMPANY, item, serial)).unwrap()
}

impl Rig {
    pub async fn start() -> Rig {
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
    pub fn config(&self, dir: &Path, broker: &str, with_door: bool) -> String {
        let mut config = ConfigText::new(STORE, dir, &dir.join("state"))
            .top("log-level = \"debug\"")
            .presence("arrive-reads = 2\narrive-window = \"2s\"\ndepart-after = \"10m\"")
            .zone("floor")
            .zone("backroom")
            .llrp(
                "shelves",
                self.shelves.addr(),
                "1 = \"floor\", 2 = \"backroom\"",
            );
        if with_door {
            // A short depart-after only here, so the door churns while the shelves stay put.
            config = config
                .table(
                    "[[zone]]\nname = \"entrance\"\narrive-window = \"1s\"\ndepart-after = \"400ms\"",
                )
                .llrp("door", self.door.addr(), "1 = \"entrance\"");
        }
        // The shortest intervals the config allows that still let a loaded machine keep up.
        config.mqtt(
            broker,
            "flush-interval = \"100ms\"\nsnapshot-interval = \"10m\"\nkeep-alive = \"5s\"\n\
             reconnect-backoff-max = \"300ms\"",
        )
    }
}

/// What the persistent HQ subscriber got, tracked as docs/HQ.md §3 tells consumers to.
#[derive(Default)]
pub struct Hq {
    pub epoch: Option<String>,
    /// The first copy of every seq; later copies must be byte-identical.
    pub deltas: BTreeMap<u64, Bytes>,
    pub duplicates: usize,
    /// (zone, sku) → (count, seq that set it): the §3 state, snapshots and deltas folded in.
    pub state: BTreeMap<(String, String), (u64, u64)>,
    pub snapshots: usize,
}

impl Hq {
    pub fn max_seq(&self) -> u64 {
        self.deltas.keys().last().copied().unwrap_or(0)
    }

    /// Takes everything received so far, checking each delta as it comes.
    pub fn take(&mut self, sub: &mut Subscriber) {
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
    pub fn contiguous(&self) -> bool {
        self.deltas.len() as u64 == self.max_seq()
    }

    /// The counts HQ holds now (pairs at zero left out, as `stock` leaves them out).
    pub fn counts(&self) -> Counts {
        nonzero(self.state.iter().map(|(k, (n, _))| (k.clone(), *n)))
    }
}

pub fn pair(c: &Value) -> (String, String) {
    (
        c["zone"].as_str().expect("zone").to_owned(),
        c["sku"].as_str().expect("sku").to_owned(),
    )
}

pub fn nonzero(it: impl Iterator<Item = ((String, String), u64)>) -> Counts {
    it.filter(|(_, n)| *n > 0).collect()
}

/// HQ.md §3 resync: a snapshot at seq k replaces every count whose own seq is <= k.
pub fn apply_snapshot(state: &mut BTreeMap<(String, String), (u64, u64)>, v: &Value) {
    assert_eq!(v["schema"], "tagtally.snapshot/2", "{v}");
    assert_eq!(v["parts"], 1, "small stores snapshot in one part: {v}");
    let k = v["seq"].as_u64().expect("snapshot seq");
    state.retain(|_, (_, seq)| *seq > k);
    for c in v["counts"].as_array().expect("counts") {
        state
            .entry(pair(c))
            .or_insert((c["count"].as_u64().expect("count"), k));
    }
}

/// `stock --json` counts, pairs at zero left out.
pub fn stock_counts(stock: &Value) -> Counts {
    nonzero(counts(stock).into_iter())
}

pub fn seq(v: &Value) -> u64 {
    v["seq"].as_u64().expect("seq")
}

pub async fn status(daemon: &Daemon) -> Option<Value> {
    daemon.json("status", &[]).await
}

/// Waits until the daemon answers on its control socket; returns its stock.
pub async fn started(daemon: &Daemon) -> Value {
    poll("the daemon to answer", LIMIT, || async {
        daemon.json("stock", &[]).await
    })
    .await
}

/// Waits until HQ holds every seq up to `last`.
pub async fn hq_through(hq: &mut Hq, sub: &mut Subscriber, last: u64) {
    poll(&format!("hq to hold seq {last}"), LIMIT, || {
        hq.take(sub);
        let done = hq.max_seq() >= last;
        async move { done.then_some(()) }
    })
    .await;
}

/// The end state: restarted without the door, the daemon's stock is the ground truth, everything is
/// acknowledged, and HQ — from its deltas and snapshots, and from the retained snapshot a fresh
/// subscriber gets plus the later deltas — holds exactly the same counts.
pub async fn settle_and_check(
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
