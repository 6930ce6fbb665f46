//! Black-box tests of `tagtally run`: the real binary between emulated readers (LLRP and a ThingMagic
//! module behind a serial-over-TCP bridge) and an MQTT broker in the test process, checked through the
//! control socket (`status`, `readers`, `stock`) and through what an HQ subscriber receives — across a
//! SIGTERM and a restart.

mod run_support;
mod uplink_support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use run_support::*;
use serde_json::Value;
use uplink_support::{start_rumqttd, Subscriber};

/// What an HQ subscriber got: every delta payload by seq (duplicates must be byte-identical) and snapshots.
#[derive(Default)]
struct Hq {
    deltas: BTreeMap<u64, Bytes>,
    snapshots: Vec<Value>,
    readers: BTreeMap<String, Value>,
}

impl Hq {
    /// Takes everything the subscriber has received so far.
    fn take(&mut self, sub: &mut Subscriber) {
        while let Ok(m) = sub.rx.try_recv() {
            let v: Value = serde_json::from_slice(&m.payload).expect("json payload");
            if m.topic.ends_with("/delta") {
                let seq = v["seq"].as_u64().expect("seq");
                if let Some(first) = self.deltas.get(&seq) {
                    assert_eq!(first, &m.payload, "seq {seq} re-sent with other bytes");
                }
                self.deltas.insert(seq, m.payload);
            } else if m.topic.ends_with("/snapshot") {
                self.snapshots.push(v);
            } else if let Some(reader) = m.topic.rsplit_once("/readers/").map(|(_, r)| r) {
                self.readers.insert(reader.to_owned(), v);
            }
        }
    }

    /// Seqs 1..=max all present (no gap).
    fn contiguous(&self) -> bool {
        let max = self.deltas.keys().last().copied().unwrap_or(0);
        self.deltas.len() as u64 == max
    }

    /// The counts HQ rebuilds from the deltas (the absolute `count` of the latest seq per pair).
    fn counts(&self) -> BTreeMap<(String, String), u64> {
        let mut counts = BTreeMap::new();
        for payload in self.deltas.values() {
            let v: Value = serde_json::from_slice(payload).unwrap();
            for c in v["changes"].as_array().unwrap() {
                let key = (
                    c["zone"].as_str().unwrap().to_owned(),
                    c["sku"].as_str().unwrap().to_owned(),
                );
                counts.insert(key, c["count"].as_u64().unwrap());
            }
        }
        counts.retain(|_, n| *n > 0);
        counts
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn daemon_counts_the_store_and_survives_a_restart_without_losing_a_delta() {
    let broker = start_rumqttd(None).await;
    let store = TestStore::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sub = Subscriber::connect(broker.v311, "hq-test", &["tagtally/v1/test-store/#"]).await;
    let mut hq = Hq::default();

    let mut daemon = Daemon::start(
        dir.path(),
        &store_config(dir.path(), &store, broker.v311, true),
        "run1.log",
    );

    // stock: exactly the ground truth once every tag arrived.
    let stock = poll("stock to equal the ground truth", WAIT, || async {
        let s = daemon.json("stock", &[]).await?;
        (counts(&s) == store.truth).then_some(s)
    })
    .await;
    assert_eq!(stock["store"], "test-store");
    let epoch = stock["epoch"].as_str().expect("epoch").to_owned();
    assert!(stock["seq"].as_u64().unwrap() >= 1);
    let floor = daemon
        .json("stock", &["--zone", "floor"])
        .await
        .expect("stock --zone");
    assert!(counts(&floor).keys().all(|(z, _)| z == "floor"));
    assert_eq!(counts(&floor).values().sum::<u64>(), 26);

    // status: both readers up, every tag present, the broker connected, nothing stale.
    let status = poll("status to show the store settled", WAIT, || async {
        let s = daemon.json("status", &[]).await?;
        let settled = s["readers_up"] == 2
            && s["mqtt"]["state"] == "connected"
            && s["tags_present"] == store.tags()
            && s["outbox"]["records"] == 0;
        settled.then_some(s)
    })
    .await;
    assert_eq!(status["readers_down"], 0);
    assert_eq!(status["epoch"], epoch.as_str());
    assert_eq!(status["stale_zones"], serde_json::json!([]));
    assert!(status["reads_per_sec"].as_f64().unwrap() > 0.0, "{status}");

    // readers: both, in config order, up, with their antennas and zones.
    let readers = daemon.json("readers", &[]).await.expect("readers");
    let readers = readers.as_array().expect("array");
    assert_eq!(readers.len(), 2);
    assert_eq!(readers[0]["name"], "ceiling");
    assert_eq!(readers[0]["kind"], "llrp");
    assert_eq!(readers[0]["endpoint"], store.llrp.addr().to_string());
    assert_eq!(readers[0]["link"]["state"], "up");
    assert_eq!(readers[0]["antennas"][0]["zone"], "floor");
    assert_eq!(readers[0]["antennas"][1]["zone"], "backroom");
    assert_eq!(readers[1]["name"], "fitting-tm");
    assert_eq!(readers[1]["kind"], "thingmagic");
    assert_eq!(readers[1]["link"]["state"], "up");
    assert!(readers[1]["reads_per_sec"].as_f64().unwrap() > 0.0);

    // HQ: contiguous deltas from seq 1 whose counts rebuild the ground truth; reader health retained.
    let last = stock["seq"].as_u64().unwrap();
    poll("hq to hold every delta up to the stock's seq", WAIT, || {
        hq.take(&mut sub);
        let done = hq.deltas.len() as u64 >= last && hq.readers.len() == 2;
        async move { done.then_some(()) }
    })
    .await;
    assert!(hq.contiguous(), "seqs {:?}", hq.deltas.keys());
    assert_eq!(hq.counts(), store.truth);
    assert_eq!(hq.readers["ceiling"]["schema"], "tagtally.reader/1");

    // SIGTERM: a clean exit 0, the socket removed, every committed delta acknowledged or kept.
    daemon.terminate();
    let exit = daemon.exit_status(Duration::from_secs(40)).await;
    assert_eq!(exit.code(), Some(0), "log:\n{}", daemon.log());
    assert!(!daemon.socket.exists(), "control socket left behind");
    let log = daemon.log();
    assert!(log.contains("SIGTERM: stopping"), "{log}");
    assert!(log.contains("reader stopped"), "{log}");
    // The LLRP reader was closed gracefully: our ROSpec is gone from it.
    assert!(store.llrp.rospecs().is_empty(), "rospec left on the reader");
    let last_before = {
        let path = dir
            .path()
            .join("state")
            .join(tagtally::store::DATABASE_FILE);
        let opened = tagtally::store::Store::open(
            &path,
            tagtally::store::StoreOptions::new("test-store", 64 << 20),
        )
        .expect("reopen the state database");
        assert_eq!(opened.store.epoch(), epoch);
        assert_eq!(opened.tags.len() as u64, store.tags());
        opened.store.last_seq()
    };
    assert!(last_before >= last);

    // Restart without the fitting rooms: their tags leave at once, as the next seq; nothing skipped.
    let mut daemon = Daemon::start(
        dir.path(),
        &store_config(dir.path(), &store, broker.v311, false),
        "run2.log",
    );
    let restored = poll("the restarted daemon to answer", WAIT, || async {
        daemon.json("stock", &[]).await
    })
    .await;
    assert_eq!(
        restored["epoch"],
        epoch.as_str(),
        "epoch changed on restart"
    );
    assert_eq!(restored["seq"].as_u64(), Some(last_before + 1));
    assert_eq!(counts(&restored), store.truth_without("fitting-rooms"));
    poll("hq to see the restart's delta and snapshot", WAIT, || {
        hq.take(&mut sub);
        let done = hq.deltas.contains_key(&(last_before + 1))
            && hq
                .snapshots
                .iter()
                .any(|s| s["seq"].as_u64() >= Some(last_before + 1));
        async move { done.then_some(()) }
    })
    .await;
    assert!(
        hq.contiguous(),
        "seqs across the restart: {:?}",
        hq.deltas.keys()
    );
    assert_eq!(hq.counts(), store.truth_without("fitting-rooms"));
    let snapshot = hq.snapshots.last().unwrap();
    assert_eq!(snapshot["schema"], "tagtally.snapshot/2");
    assert_eq!(snapshot["epoch"], epoch.as_str());

    daemon.terminate();
    let exit = daemon.exit_status(Duration::from_secs(40)).await;
    assert_eq!(exit.code(), Some(0), "log:\n{}", daemon.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tail_streams_arrivals_moves_and_departures() {
    use tagtally_reader_drivers::Epc;
    use tagtally_sim::scenario::{MoveSpec, PresenceSpec, Scenario, TagSpec};
    use tagtally_sim::LlrpSim;
    use tagtally_tooling::demo::sgtin::{gtin_of, sgtin96};
    use tokio::io::{AsyncBufReadExt, BufReader};

    let broker = start_rumqttd(None).await;
    let epc = |serial| Epc::from_slice(&sgtin96(COMPANY, 100_009, serial)).unwrap();
    // Scenario time starts now; the daemon is up and tailed well before the tags show up.
    let arriving = TagSpec {
        epc: epc(1),
        presence: PresenceSpec {
            antennas: vec![1],
            rssi: -50.0,
            appear: Duration::from_secs(4),
            leave: Some(Duration::from_secs(7)),
            ..PresenceSpec::default()
        },
    };
    let moving = TagSpec {
        epc: epc(2),
        presence: PresenceSpec {
            antennas: vec![1],
            rssi: -50.0,
            appear: Duration::from_secs(4),
            moves: vec![MoveSpec {
                at: Duration::from_secs(6),
                antennas: vec![2],
                rssi: None,
            }],
            ..PresenceSpec::default()
        },
    };
    let llrp = LlrpSim::start("127.0.0.1:0", Scenario::with_tags(vec![arriving, moving]))
        .await
        .expect("llrp emulator");
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"store = "tail-store"
state-dir = "{dir}/state"
control-socket = "{dir}/control.sock"
[presence]
arrive-reads = 2
arrive-window = "2s"
depart-after = "2s"
move-hysteresis = "1s"
[[zone]]
name = "floor"
[[zone]]
name = "backroom"
[[reader]]
name = "ceiling"
kind = "llrp"
address = "{llrp}"
antennas = {{ 1 = "floor", 2 = "backroom" }}
[mqtt]
url = "mqtt://{broker}"
flush-interval = "200ms"
"#,
        dir = dir.path().display(),
        llrp = llrp.addr(),
        broker = broker.v311,
    );
    let mut daemon = Daemon::start(dir.path(), &config, "tail.log");
    poll("the daemon to answer", WAIT, || async {
        daemon.json("status", &[]).await
    })
    .await;
    let mut tail = tokio::process::Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args([
            "tail",
            "--json",
            "--kind",
            "arrival,move,departure",
            "--socket",
        ])
        .arg(&daemon.socket)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tagtally tail");
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    let sku = gtin_of(COMPANY, 100_009);
    let hex = |serial| {
        sgtin96(COMPANY, 100_009, serial)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut seen: Vec<(String, String)> = Vec::new();
    let expected = [
        ("arrival", hex(1)),
        ("arrival", hex(2)),
        ("move", hex(2)),
        ("departure", hex(1)),
    ];
    let collect = async {
        while !expected
            .iter()
            .all(|(k, e)| seen.iter().any(|(sk, se)| sk == k && se == e))
        {
            let line = lines
                .next_line()
                .await
                .expect("read tail")
                .expect("tail ended");
            let v: Value = serde_json::from_str(&line).expect("json line");
            assert_eq!(v["sku"], sku.as_str(), "{line}");
            if v["kind"] == "move" {
                assert_eq!(
                    (v["from"].as_str(), v["to"].as_str()),
                    (Some("floor"), Some("backroom"))
                );
            } else {
                assert_eq!(v["zone"], "floor", "{line}");
            }
            seen.push((
                v["kind"].as_str().unwrap().to_owned(),
                v["epc"].as_str().unwrap().to_owned(),
            ));
        }
    };
    tokio::time::timeout(WAIT, collect)
        .await
        .unwrap_or_else(|_| panic!("tail saw only {seen:?}; log:\n{}", daemon.log()));
    daemon.terminate();
    assert_eq!(
        daemon.exit_status(Duration::from_secs(40)).await.code(),
        Some(0)
    );
}
