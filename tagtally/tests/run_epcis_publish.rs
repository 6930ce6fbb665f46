//! `[epcis] publish = true` against the real daemon and a real broker (SPEC §12): events committed
//! while the broker is unreachable survive a `kill -9`, and once the broker is back every arrival
//! reaches an MQTT subscriber on `epcis` exactly once (redeliveries byte-identical), in messages
//! within `max-message-bytes`, each a valid EPCIS 2.0 document (GS1's schema and
//! `docs/schemas/epcis.json`) with consecutive `tagtally:seq`s from 1; `tagtally status` and the
//! metrics show the EPCIS outbox waiting, then every message published.

mod epcis_support;
mod run_support;
mod uplink_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use run_support::*;
use serde_json::Value;
use tagtally_contract::size::publish_packet_len;
use uplink_support::{start_rumqttd, Gate, Subscriber};

const MAX_MESSAGE_BYTES: usize = 2048;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_committed_during_an_outage_are_published_once_the_broker_is_back_after_a_kill() {
    let broker = start_rumqttd(None).await;
    let gate = Gate::new(broker.v311).await;
    gate.close();
    let store = TestStore::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let truth = store.truth_without("fitting-rooms");
    let tags: u64 = truth.values().sum();
    let config = store_config(dir.path(), &store, gate.addr, false).replace(
        "flush-interval = \"250ms\"",
        &format!("flush-interval = \"250ms\"\nmax-message-bytes = {MAX_MESSAGE_BYTES}"),
    ) + "\n[epcis]\nsgln = \"0614141.00777\"\npublish = true\n";

    // The broker is unreachable: the arrivals are committed, their messages wait on disk.
    let mut daemon = Daemon::start(dir.path(), &config, "run1.log");
    poll("stock to equal the ground truth", WAIT, || async {
        let s = daemon.json("stock", &[]).await?;
        (counts(&s) == truth).then_some(())
    })
    .await;
    let history = daemon
        .json("epcis", &["--since", "1h"])
        .await
        .expect("tagtally epcis");
    // `tagtally status` shows the messages waiting, none published yet.
    let waiting = poll("status to show the epcis outbox", WAIT, || async {
        let status = daemon.json("status", &[]).await?;
        let outbox = status.get("epcis_outbox")?.clone();
        (outbox["records"].as_u64()? > 0).then_some(outbox)
    })
    .await;
    assert!(waiting["bytes"].as_u64().expect("bytes") > 0, "{waiting}");
    assert_eq!(
        (&waiting["published"], &waiting["dropped"]),
        (&0.into(), &0.into())
    );
    daemon.kill().await;

    let topic = "tagtally/v1/test-store/epcis";
    let mut subscriber = Subscriber::connect(broker.v311, "hq-epcis", &[topic]).await;
    gate.open(broker.v311);
    let daemon = Daemon::start(dir.path(), &config, "run2.log");

    let validator = epcis_support::schema();
    let mut by_seq: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut arrived: BTreeSet<String> = BTreeSet::new();
    while (arrived.len() as u64) < tags {
        let m = tokio::time::timeout(WAIT, subscriber.next_on(topic))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} of {tags} arrivals published; log:\n{}",
                    arrived.len(),
                    daemon.log()
                )
            });
        assert!(!m.retain, "epcis messages are not retained");
        let packet = publish_packet_len(topic.len(), m.payload.len(), false);
        assert!(
            packet <= MAX_MESSAGE_BYTES,
            "{packet} > {MAX_MESSAGE_BYTES}"
        );
        let doc: Value = serde_json::from_slice(&m.payload).expect("json");
        epcis_support::assert_valid(&validator, &doc);
        let seq = doc["tagtally:seq"].as_u64().expect("tagtally:seq");
        if let Some(earlier) = by_seq.insert(seq, m.payload.to_vec()) {
            assert_eq!(
                earlier,
                m.payload.to_vec(),
                "a redelivery is byte-identical"
            );
            continue;
        }
        for event in doc["epcisBody"]["eventList"].as_array().expect("events") {
            assert_eq!(event["bizStep"], "arriving", "{event}");
            for epc in event["epcList"].as_array().expect("epcList") {
                let epc = epc.as_str().expect("epc").to_owned();
                assert!(arrived.insert(epc), "an arrival published twice");
            }
        }
    }
    assert!(by_seq.len() > 1, "{tags} arrivals need several messages");
    let seqs: Vec<u64> = by_seq.keys().copied().collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    // The same tags as the store's own history of the first run.
    let mut recorded = BTreeSet::new();
    for event in history["epcisBody"]["eventList"]
        .as_array()
        .expect("events")
    {
        for epc in event["epcList"].as_array().expect("epcList") {
            recorded.insert(epc.as_str().expect("epc").to_owned());
        }
    }
    assert_eq!(arrived, recorded);
    // Every message acknowledged: status and metrics count them published, none waiting or dropped.
    let published = by_seq.len() as u64;
    poll("status to count every message published", WAIT, || async {
        let status = daemon.json("status", &[]).await?;
        let outbox = &status["epcis_outbox"];
        let counts = (
            outbox["records"].as_u64()?,
            outbox["published"].as_u64()?,
            outbox["dropped"].as_u64()?,
        );
        (counts == (0, published, 0)).then_some(())
    })
    .await;
    let metrics = tokio::process::Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["metrics", "--socket"])
        .arg(&daemon.socket)
        .output()
        .await
        .expect("tagtally metrics");
    assert!(metrics.status.success(), "{metrics:?}");
    let text = String::from_utf8_lossy(&metrics.stdout);
    for line in [
        format!("tagtally_epcis_published_total {published}"),
        "tagtally_epcis_outbox_messages 0".to_owned(),
        "tagtally_epcis_dropped_total 0".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    // Acknowledged: a clean stop leaves nothing to publish again.
    daemon.terminate();
    let mut daemon = daemon;
    assert!(daemon.exit_status(Duration::from_secs(20)).await.success());
}
