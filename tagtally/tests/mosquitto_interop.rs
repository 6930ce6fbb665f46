//! Interop with an independent broker: Debian's `mosquitto`, started per test on ephemeral
//! loopback ports with a generated config (plain, username/password, TLS, mutual TLS; MQTT 3.1.1
//! and 5), plus a broker restart with a persistent subscriber.
//!
//! Skips with a printed notice when `mosquitto` is not installed; `.ci/run` installs it and sets
//! `TAGTALLY_REQUIRE_MOSQUITTO` so that a missing broker fails there instead.

mod uplink_support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tagtally::uplink::{self, LinkState, Protocol, UplinkEvent};
use tagtally_contract::StoreState;
use tagtally_tests::free_addr;
use tokio::process::{Child, Command};
use tokio::time::timeout;
use uplink_support::*;

/// The mosquitto executable, or a loud skip (a failure under `TAGTALLY_REQUIRE_MOSQUITTO`).
macro_rules! require_mosquitto {
    () => {
        match tagtally_tests::mosquitto::binary_or_skip() {
            Some(bin) => bin,
            None => return,
        }
    };
}

/// The listeners of one mosquitto instance.
#[derive(Debug, Clone, Copy)]
struct Ports {
    plain: SocketAddr,
    auth: SocketAddr,
    tls: SocketAddr,
    mtls: SocketAddr,
}

struct Mosquitto {
    bin: PathBuf,
    dir: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
    ports: Ports,
}

impl Mosquitto {
    /// Writes a config with four listeners and starts mosquitto on it.
    async fn start(bin: PathBuf, pki: &Pki, users: &[(&str, &str)]) -> Mosquitto {
        Mosquitto::start_with(bin, pki, users, "").await
    }

    /// Like `start`, with extra general settings (e.g. `max_packet_size 4096`).
    async fn start_with(
        bin: PathBuf,
        pki: &Pki,
        users: &[(&str, &str)],
        general: &str,
    ) -> Mosquitto {
        let dir = pki.dir.join("mosquitto");
        std::fs::create_dir_all(&dir).expect("mosquitto dir");
        let passwd = dir.join("passwd");
        std::fs::write(&passwd, "").expect("passwd");
        for (user, pass) in users {
            let status = std::process::Command::new("mosquitto_passwd")
                .arg("-b")
                .arg(&passwd)
                .arg(user)
                .arg(pass)
                .status()
                .expect("mosquitto_passwd runs");
            assert!(status.success(), "mosquitto_passwd failed");
        }
        let ports = Ports {
            plain: free_addr(),
            auth: free_addr(),
            tls: free_addr(),
            mtls: free_addr(),
        };
        let p = |a: SocketAddr| a.port();
        let d = |p: &Path| p.display().to_string();
        // `user root` keeps a root-started mosquitto from switching to the `mosquitto` user,
        // which could not write the persistence file into our temp dir (ignored when not root).
        let conf_text = format!(
            "user root\n\
             {general}\n\
             per_listener_settings true\n\
             persistence true\n\
             persistence_location {dir}/\n\
             log_dest file {dir}/mosquitto.log\n\
             log_type all\n\
             listener {plain} 127.0.0.1\n\
             allow_anonymous true\n\
             listener {auth} 127.0.0.1\n\
             allow_anonymous false\n\
             password_file {passwd}\n\
             listener {tls} 127.0.0.1\n\
             allow_anonymous true\n\
             cafile {ca}\ncertfile {cert}\nkeyfile {key}\n\
             listener {mtls} 127.0.0.1\n\
             allow_anonymous true\n\
             cafile {ca}\ncertfile {cert}\nkeyfile {key}\n\
             require_certificate true\n",
            dir = dir.display(),
            plain = p(ports.plain),
            auth = p(ports.auth),
            tls = p(ports.tls),
            mtls = p(ports.mtls),
            passwd = d(&passwd),
            ca = d(&pki.ca),
            cert = d(&pki.server_cert),
            key = d(&pki.server_key),
        );
        let conf = dir.join("mosquitto.conf");
        std::fs::write(&conf, conf_text).expect("conf");
        let mut m = Mosquitto {
            bin,
            dir,
            conf,
            child: None,
            ports,
        };
        m.run().await;
        m
    }

    async fn run(&mut self) {
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.conf)
            // Its own log goes to mosquitto.log; stderr only has the "running as root" warning.
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        for addr in [
            self.ports.plain,
            self.ports.auth,
            self.ports.tls,
            self.ports.mtls,
        ] {
            wait_until_listening(addr).await;
        }
    }

    /// SIGTERM (mosquitto saves its persistence file) and wait for the exit.
    async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().expect("pid").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
        timeout(WAIT, child.wait())
            .await
            .expect("mosquitto exits")
            .expect("wait");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }
}

const EPOCH: &str = "e7";

fn commit(
    outbox: &MemOutbox,
    handle: &uplink::UplinkHandle,
    committed: &mut BTreeMap<u64, Bytes>,
    store: &str,
    range: std::ops::RangeInclusive<u64>,
) {
    for seq in range {
        let p = delta_json(store, EPOCH, seq);
        committed.insert(seq, p.clone());
        outbox.commit(seq, p);
        handle.committed(seq);
    }
}

async fn down_reason(events: &mut EventLog) -> String {
    match events
        .until(|e| matches!(e, UplinkEvent::Link(LinkState::Down { .. })))
        .await
    {
        UplinkEvent::Link(LinkState::Down { reason, .. }) => reason.to_string(),
        _ => unreachable!(),
    }
}

async fn stop(handle: uplink::UplinkHandle, task: tokio::task::JoinHandle<()>) {
    handle.shutdown();
    timeout(WAIT, task)
        .await
        .expect("uplink stops")
        .expect("clean end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_order_retained_status_and_will() {
    let bin = require_mosquitto!();
    let pki = Pki::generate("mq-plain");
    let broker = Mosquitto::start(bin, &pki, &[]).await;
    for protocol in [Protocol::V311, Protocol::V5] {
        let store = format!("plain-{protocol}").replace('.', "");
        let delta_topic = format!("tagtally/v1/{store}/delta");
        let status_topic = format!("tagtally/v1/{store}/status");
        let mut sub = Subscriber::connect(
            broker.ports.plain,
            &format!("hq-{store}"),
            &[&delta_topic, &status_topic],
        )
        .await;
        let outbox = MemOutbox::default();
        let mut committed = BTreeMap::new();
        let settings = test_settings(&store, &format!("mqtt://{}", broker.ports.plain), protocol);
        let up = uplink::spawn(settings, outbox.clone());
        let mut events = EventLog::new(up.events, outbox.clone());
        commit(&outbox, &up.handle, &mut committed, &store, 1..=300);
        events.acked_through(300).await;
        assert_eq!(events.acked, (1..=300).collect::<Vec<_>>());
        for seq in 1..=300 {
            assert_eq!(sub.next_on(&delta_topic).await.payload, committed[&seq]);
        }
        let mut late = Subscriber::connect(
            broker.ports.plain,
            &format!("late-{store}"),
            &[&status_topic],
        )
        .await;
        let status = late.next().await;
        assert!(status.retain, "status is retained");
        assert_eq!(status_state(&status.payload), StoreState::Online);
        // Killed without DISCONNECT: mosquitto publishes the will.
        up.task.abort();
        let _ = up.task.await;
        loop {
            let m = sub.next_on(&status_topic).await;
            if status_state(&m.payload) == StoreState::Offline {
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn username_and_password() {
    let bin = require_mosquitto!();
    let pki = Pki::generate("mq-auth");
    let broker = Mosquitto::start(bin, &pki, &[("paris-01", "s3cret")]).await;
    let url = format!("mqtt://{}", broker.ports.auth);
    for protocol in [Protocol::V311, Protocol::V5] {
        for (user, pass, ok) in [("paris-01", "wrong", false), ("paris-01", "s3cret", true)] {
            let mut s = test_settings("auth-1", &url, protocol);
            s.credentials = Some(uplink::Credentials {
                username: user.to_owned(),
                password: tagtally_config::Secret::new(pass.to_owned()),
            });
            let outbox = MemOutbox::default();
            outbox.commit(1, delta_json("auth-1", EPOCH, 1));
            let up = uplink::spawn(s, outbox.clone());
            let mut events = EventLog::new(up.events, outbox.clone());
            if ok {
                events.acked_through(1).await;
            } else {
                let first = down_reason(&mut events).await;
                assert!(
                    first.contains("broker refused the connection")
                        && first.contains("paris-01")
                        && first.contains("password-file"),
                    "{protocol}: {first}"
                );
                // And it keeps retrying, with the same clear reason.
                assert_eq!(down_reason(&mut events).await, first);
                assert_eq!(outbox.len(), 1);
            }
            stop(up.handle, up.task).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_mutual_tls() {
    let bin = require_mosquitto!();
    let pki = Pki::generate("mq-tls");
    let broker = Mosquitto::start(bin, &pki, &[]).await;
    let ports = broker.ports;
    struct Case {
        url: String,
        ca: Option<PathBuf>,
        client: bool,
        expect: Result<(), &'static str>,
    }
    let case = |url: String, ca: &PathBuf, client, expect| Case {
        url,
        ca: Some(ca.clone()),
        client,
        expect,
    };
    let cases = [
        case(
            format!("mqtts://127.0.0.1:{}", ports.tls.port()),
            &pki.ca,
            false,
            Ok(()),
        ),
        case(
            format!("mqtts://localhost:{}", ports.tls.port()),
            &pki.ca,
            false,
            Ok(()),
        ),
        case(
            format!("mqtts://127.0.0.1:{}", ports.mtls.port()),
            &pki.ca,
            true,
            Ok(()),
        ),
        case(
            format!("mqtts://127.0.0.1:{}", ports.tls.port()),
            &pki.other_ca,
            false,
            Err("not signed by a trusted ca"),
        ),
        case(
            format!("mqtts://127.0.0.1:{}", ports.plain.port()),
            &pki.ca,
            false,
            Err("plaintext port"),
        ),
        case(
            format!("mqtts://127.0.0.1:{}", ports.mtls.port()),
            &pki.ca,
            false,
            Err("client certificate"),
        ),
        Case {
            url: format!("mqtt://127.0.0.1:{}", ports.tls.port()),
            ca: None,
            client: false,
            expect: Err("use an mqtts:// url"),
        },
    ];
    for protocol in [Protocol::V311, Protocol::V5] {
        for (i, case) in cases.iter().enumerate() {
            let store = format!("tls-{i}");
            let mut s = test_settings(&store, &case.url, protocol);
            let mut files = uplink::TlsFiles {
                ca_file: case.ca.clone(),
                ..uplink::TlsFiles::default()
            };
            if case.client {
                files.client_cert = Some(pki.client_cert.clone());
                files.client_key = Some(pki.client_key.clone());
            }
            if case.url.starts_with("mqtts://") {
                s.tls = Some(uplink::TlsSetup::load(files).expect("tls files load"));
            }
            let outbox = MemOutbox::default();
            outbox.commit(1, delta_json(&store, EPOCH, 1));
            let up = uplink::spawn(s, outbox.clone());
            let mut events = EventLog::new(up.events, outbox.clone());
            match case.expect {
                Ok(()) => events.acked_through(1).await,
                Err(needle) => {
                    let reason = down_reason(&mut events).await;
                    assert!(
                        reason.contains(needle),
                        "{protocol} case {i} ({}): {reason:?} lacks {needle:?}",
                        case.url
                    );
                }
            }
            stop(up.handle, up.task).await;
        }
    }
    let _ = broker.log();
}

/// mosquitto is stopped mid-stream and restarted on the same port with its persistence file.
/// A subscriber with a persistent session sees every seq, byte-identical, with no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_persistent_subscriber_sees_no_gap() {
    let bin = require_mosquitto!();
    let pki = Pki::generate("mq-restart");
    let mut broker = Mosquitto::start(bin, &pki, &[]).await;
    let store = "restart-1";
    let topic = format!("tagtally/v1/{store}/delta");
    let mut sub =
        Subscriber::connect_with(broker.ports.plain, "hq-persistent", &[&topic], None, false).await;
    let outbox = MemOutbox::default();
    let mut committed = BTreeMap::new();
    let up = uplink::spawn(
        test_settings(
            store,
            &format!("mqtt://{}", broker.ports.plain),
            Protocol::V311,
        ),
        outbox.clone(),
    );
    let mut events = EventLog::new(up.events, outbox.clone());
    commit(&outbox, &up.handle, &mut committed, store, 1..=500);
    events.acked_through(50).await;
    broker.stop().await;
    let unacked = outbox.len();
    commit(&outbox, &up.handle, &mut committed, store, 501..=600);
    broker.run().await;
    events.acked_through(600).await;
    assert_eq!(events.acked, (1..=600).collect::<Vec<_>>());
    let mut seen = BTreeMap::new();
    let duplicates = collect_deltas(&mut sub, &topic, &committed, &mut seen, 600).await;
    println!(
        "broker restart: {unacked} deltas unacked at the stop; subscriber got 600 seqs, {duplicates} duplicates so far"
    );
    assert_eq!(outbox.len(), 0);
}

fn tail_delta(store: &str, seq: u64) -> Bytes {
    Bytes::from(format!(
        r#"{{"schema":"tagtally.delta/1","store":"{store}","epoch":"{EPOCH}","seq":{seq},"time":"2025-01-01T00:00:00Z","changes":[{{"zone":"floor","sku":"SKU-{}","delta":1,"count":{seq}}}]}}"#,
        seq % 3
    ))
}

/// `tagtally hq-tail` against mosquitto with three simulated stores: two real uplinks and one
/// lossy publisher (a duplicate and a gap). It reports both and prints the right totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hq_tail_tracks_several_stores() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let bin = require_mosquitto!();
    let pki = Pki::generate("mq-tail");
    let broker = Mosquitto::start(bin, &pki, &[]).await;
    let url = format!("mqtt://{}", broker.ports.plain);
    let lossy: [u64; 4] = [1, 2, 2, 5];
    let total = 30 + 20 + lossy.len() as u64;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["hq-tail", "--url", &url, "--json", "--every", "0"])
        .args(["--max-deltas", &total.to_string()])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("hq-tail starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next_line = async || -> Option<serde_json::Value> {
        let line = timeout(WAIT, lines.next_line())
            .await
            .expect("hq-tail output")
            .expect("read stdout")?;
        Some(serde_json::from_str(&line).expect("json line"))
    };
    for _ in 0..2 {
        let v = next_line().await.expect("subscribed line");
        assert_eq!(v["event"], "subscribed");
    }

    let mut expected: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let mut model = |store: &str, seq: u64| {
        let slot = expected
            .entry((store.to_owned(), format!("SKU-{}", seq % 3)))
            .or_insert((0, 0));
        if slot.1 < seq {
            *slot = (seq, seq);
        }
    };
    let mut ups = Vec::new();
    for (store, n) in [("store-a", 30u64), ("store-b", 20)] {
        let outbox = MemOutbox::default();
        let up = uplink::spawn(test_settings(store, &url, Protocol::V311), outbox.clone());
        for seq in 1..=n {
            outbox.commit(seq, tail_delta(store, seq));
            up.handle.committed(seq);
            model(store, seq);
        }
        ups.push((up, outbox));
    }
    let raw = Subscriber::connect(broker.ports.plain, "lossy-store", &["unused/topic"]).await;
    for seq in lossy {
        raw.publish("tagtally/v1/store-c/delta", &tail_delta("store-c", seq))
            .await;
        model("store-c", seq);
    }

    let mut events = Vec::new();
    let totals = loop {
        let v = next_line().await.expect("hq-tail ended without totals");
        if v["event"] == "totals" {
            break v;
        }
        events.push(v);
    };
    let status = timeout(WAIT, child.wait())
        .await
        .expect("exits")
        .expect("wait");
    assert!(status.success());
    let gaps: Vec<_> = events.iter().filter(|e| e["event"] == "gap").collect();
    let dups: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "duplicate")
        .collect();
    assert_eq!(gaps.len(), 1, "{events:?}");
    assert_eq!(
        (
            gaps[0]["store"].as_str(),
            gaps[0]["from"].as_u64(),
            gaps[0]["to"].as_u64()
        ),
        (Some("store-c"), Some(3), Some(4))
    );
    assert_eq!(dups.len(), 1, "{events:?}");
    assert_eq!(dups[0]["seq"], 2);
    assert_eq!(totals["stores"], 3);
    assert_eq!(totals["deltas"], total);
    let mut per_sku: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, sku), (count, _)) in &expected {
        *per_sku.entry(sku.clone()).or_insert(0) += count;
    }
    let got: BTreeMap<String, u64> = serde_json::from_value(totals["skus"].clone()).expect("skus");
    assert_eq!(got, per_sku);
    for (up, _) in ups {
        stop(up.handle, up.task).await;
    }
}

/// The uplink's source over a real state database, as the daemon's is.
struct StoreSource(std::sync::Arc<tagtally::store::Store>);

impl uplink::DeltaSource for StoreSource {
    type Error = tagtally::store::StoreError;

    fn read_after(
        &mut self,
        after: Option<u64>,
        max: usize,
    ) -> Result<Vec<uplink::OutboxDelta>, Self::Error> {
        Ok(self
            .0
            .read_deltas(after.map_or(0, |a| a + 1), max)?
            .into_iter()
            .map(|(seq, payload)| uplink::OutboxDelta {
                seq,
                payload: Bytes::from(payload),
            })
            .collect())
    }
}

/// `n` tags of distinct SKUs arriving in `zone` in one flush.
fn burst(first: u32, n: u32, zone: &str) -> tagtally::engine::Delta {
    use std::sync::Arc;
    use tagtally::engine::{CountChange, Delta, Placement, TagChange};
    let sku = |i: u32| Arc::<str>::from(format!("80614141{i:06}"));
    Delta {
        time: tagtally_reader_drivers::Micros(1_776_939_300_000_000),
        changes: (first..first + n)
            .map(|i| CountChange {
                zone: Arc::from(zone),
                sku: sku(i),
                delta: 1,
                count: 1,
            })
            .collect(),
        tag_changes: (first..first + n)
            .map(|i| TagChange {
                epc: tagtally_reader_drivers::Epc::from_slice(&[
                    0x30,
                    0x74,
                    0x25,
                    0x7B,
                    0xF7,
                    0x19,
                    0x4E,
                    0x40,
                    0,
                    (i >> 16) as u8,
                    (i >> 8) as u8,
                    i as u8,
                ])
                .expect("epc"),
                placement: Some(Placement {
                    zone: Arc::from(zone),
                    sku: sku(i),
                }),
                departure: None,
            })
            .collect(),
    }
}

/// Issue 11's first break, against a broker with `max_packet_size 4096`: a store of 400 (zone,
/// SKU) pairs and a burst of 300 arrivals in one flush. MQTT 5 learns the limit from the CONNACK,
/// 3.1.1 is told by `max-message-bytes`. Every message fits, the link never drops, the outbox
/// drains, and HQ's rebuild from snapshot parts and deltas equals the store's counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4096_byte_broker_carries_a_400_pair_store_and_a_300_arrival_burst() {
    use std::borrow::Cow;
    use tagtally::store::{Store, StoreOptions, DATABASE_FILE};
    use tagtally_contract::size::{max_payload, publish_packet_len};
    use tagtally_contract::{encode_snapshot_parts, SnapshotCount, SnapshotHeader, SnapshotReason};
    use tagtally_tooling::consumer::ChainTracker;

    let bin = require_mosquitto!();
    let pki = Pki::generate("mq-4096");
    let broker = Mosquitto::start_with(bin, &pki, &[], "max_packet_size 4096").await;
    for protocol in [Protocol::V5, Protocol::V311] {
        let v5 = protocol == Protocol::V5;
        let store_name = format!("small-{protocol}").replace('.', "");
        let base = format!("tagtally/v1/{store_name}");
        let mut sub = Subscriber::connect(
            broker.ports.plain,
            &format!("hq-{store_name}"),
            &[
                &format!("{base}/delta"),
                &format!("{base}/snapshot"),
                &format!("{base}/snapshot/+"),
            ],
        )
        .await;
        let dir = tempfile::tempdir().expect("dir");
        let store = std::sync::Arc::new(
            Store::open(
                &dir.path().join(DATABASE_FILE),
                StoreOptions::new(&store_name, 64 << 20),
            )
            .expect("store")
            .store,
        );
        let mut settings = test_settings(
            &store_name,
            &format!("mqtt://{}", broker.ports.plain),
            protocol,
        );
        if !v5 {
            settings.max_message_bytes = 4096;
        }
        let up = uplink::spawn(settings, StoreSource(std::sync::Arc::clone(&store)));
        let mut events = up.events;
        let mut status = up.handle.status();
        timeout(WAIT, status.wait_for(|s| s.state == LinkState::Online))
            .await
            .expect("online")
            .expect("uplink alive");
        let limit = status.borrow().packet_limit;
        assert_eq!(limit, 4096, "{protocol}: the limit in force");
        store.set_max_delta_payload(max_payload(limit, format!("{base}/delta").len(), v5));

        let first = store
            .commit(&burst(0, 400, "floor"))
            .expect("commit")
            .expect("delta");
        let second = store
            .commit(&burst(400, 300, "backroom"))
            .expect("commit")
            .expect("delta");
        assert!(first.payloads.len() > 1 && second.payloads.len() > 1);
        up.handle.committed(second.seq);
        let counts = store.counts().expect("counts");
        let stale: [&str; 0] = [];
        let time = "2026-04-23T10:15:00.000Z";
        let header = SnapshotHeader {
            store: &store_name,
            epoch: store.epoch(),
            seq: store.last_seq(),
            time,
            snapshot_id: "0193a4f3-01aa-7c55-8e11-22c3d4e5f607",
            reason: SnapshotReason::Interval,
            request_id: None,
            stale_zones: &stale,
            resync: None,
            zone_trust: &[],
        };
        let cells: Vec<SnapshotCount<'_>> = counts
            .iter()
            .map(|(z, s, c)| SnapshotCount {
                zone: Cow::Borrowed(z),
                sku: Cow::Borrowed(s),
                count: *c,
            })
            .collect();
        let budget = max_payload(limit, format!("{base}/snapshot/99999").len(), v5);
        let parts = encode_snapshot_parts(&header, &cells, budget);
        assert!(parts.len() > 5, "{} parts", parts.len());
        up.handle.publish_snapshot(uplink::SnapshotOut {
            parts: parts.into_iter().map(Bytes::from).collect(),
            earlier_parts: 0,
        });

        // The outbox drains: every seq acknowledged, in order.
        let mut acked = Vec::new();
        while acked.last() != Some(&second.seq) {
            match timeout(WAIT, events.recv())
                .await
                .expect("acks")
                .expect("events")
            {
                UplinkEvent::Acked(seq) => {
                    store.ack(seq).expect("ack");
                    acked.push(seq);
                }
                UplinkEvent::Refused { seq, bytes, limit } => {
                    panic!("{protocol}: seq {seq} of {bytes} bytes refused for {limit}")
                }
                _ => {}
            }
        }
        assert_eq!(acked, (1..=second.seq).collect::<Vec<_>>());
        assert_eq!(store.outbox_stats().deltas, 0);

        // HQ rebuilds the store from what it received; every message fitted the limit.
        let mut hq = ChainTracker::new();
        let mut seen_deltas = 0;
        let mut assembled = false;
        while seen_deltas < second.seq || !assembled {
            let m = sub.next().await;
            assert!(
                publish_packet_len(m.topic.len(), m.payload.len(), v5) <= 4096,
                "{protocol}: {} bytes on {}",
                m.payload.len(),
                m.topic
            );
            if m.topic.ends_with("/delta") {
                seen_deltas += 1;
                hq.on_delta(&m.payload);
            } else {
                assembled |= hq
                    .on_snapshot(&m.payload)
                    .iter()
                    .any(|o| matches!(o, tagtally_tooling::consumer::Observation::Resynced { .. }));
            }
        }
        let mut truth = BTreeMap::new();
        for (_, sku, count) in &counts {
            *truth.entry(sku.clone()).or_insert(0u64) += u64::from(*count);
        }
        assert_eq!(
            hq.totals(),
            truth,
            "{protocol}: HQ's rebuild equals the store"
        );
        assert_eq!(
            up.handle.status().borrow().connections,
            1,
            "{protocol}: the link never dropped; mosquitto log:\n{}",
            broker.log()
        );
        stop(up.handle, up.task).await;
    }
}

/// Issue 12 item 6: a 10 MiB retained message on `cmd/snapshot` never keeps the uplink down.
/// MQTT 5 announces a 64 KiB Maximum Packet Size (the broker discards it for us) and asks for
/// no retained messages at subscribe; 3.1.1 reads it and drops it, counted. Deltas still arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mib_retained_command_never_keeps_the_uplink_down() {
    let bin = require_mosquitto!();
    let pki = Pki::generate("mq-huge-cmd");
    let broker = Mosquitto::start(bin, &pki, &[]).await;
    for protocol in [Protocol::V311, Protocol::V5] {
        let store = format!("huge-{protocol}").replace('.', "");
        let base = format!("tagtally/v1/{store}");
        let delta_topic = format!("{base}/delta");
        let mut sub =
            Subscriber::connect(broker.ports.plain, &format!("hq-{store}"), &[&delta_topic]).await;
        {
            let mut o = rumqttc::MqttOptions::new(
                format!("evil-{store}"),
                "127.0.0.1",
                broker.ports.plain.port(),
            );
            o.set_max_packet_size(16 << 20, 16 << 20);
            let (client, mut events) = rumqttc::AsyncClient::new(o, 8);
            client
                .publish(
                    format!("{base}/cmd/snapshot"),
                    rumqttc::QoS::AtLeastOnce,
                    true,
                    vec![b'x'; 10 << 20],
                )
                .await
                .expect("publish");
            timeout(WAIT, async {
                loop {
                    if let Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) =
                        events.poll().await
                    {
                        break;
                    }
                }
            })
            .await
            .expect("the broker took the 10 MiB retained command");
        }
        let outbox = MemOutbox::default();
        let mut committed = BTreeMap::new();
        let up = uplink::spawn(
            test_settings(&store, &format!("mqtt://{}", broker.ports.plain), protocol),
            outbox.clone(),
        );
        let mut events = EventLog::new(up.events, outbox.clone());
        commit(&outbox, &up.handle, &mut committed, &store, 1..=20);
        events.acked_through(20).await;
        for seq in 1..=20 {
            assert_eq!(sub.next_on(&delta_topic).await.payload, committed[&seq]);
        }
        let st = up.handle.status().borrow().clone();
        assert_eq!(st.connections, 1, "{protocol}: the link never dropped");
        assert!(
            !events
                .seen
                .iter()
                .any(|e| matches!(e, UplinkEvent::SnapshotRequested { .. })),
            "{protocol}: the retained command never fired"
        );
        if protocol == Protocol::V311 {
            assert_eq!(st.inbound.retained_ignored, 1, "read, dropped and counted");
        }
        stop(up.handle, up.task).await;
    }
}
