//! Scenario: a clean-session HQ consumer is away while stock churns, comes back with a gap, and
//! repairs it with `cmd/replay` alone (SPEC §6.1), never a full snapshot. The consumer is away
//! for 60 s, as issue 11 asks (the broker keeps nothing for a clean session; the daemon keeps every
//! acknowledged delta within `history-max-bytes`/`-age`).
//!
//! The consumer's chain — what it had before leaving, plus every delta after, the replayed ones
//! included, with every snapshot it received after coming back thrown away — must replay with no
//! gap to the same counts as an HQ recorder that never left. The replayed deltas are byte-identical
//! to the first delivery, and the daemon published no `request` or `resync` snapshot.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::recorder::{Message, Recorder};
use tagtally_tests::replay::replay;
use tagtally_tests::store::RunningStore;
use tagtally_tests::stores::shelves_and_door;
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "replay-store";
const AWAY: Duration = Duration::from_secs(60);

/// seq → payload of every delta in `messages`.
fn deltas(messages: &[Message]) -> BTreeMap<u64, Vec<u8>> {
    messages
        .iter()
        .filter(|m| m.topic == "delta")
        .map(|m| {
            let v: serde_json::Value = serde_json::from_slice(&m.payload).expect("delta json");
            (v["seq"].as_u64().expect("seq"), m.payload.clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_back_from_away_repairs_its_gap_by_replay_alone() {
    let dir = ScenarioDir::new("replay");
    let broker = Broker::start().await;
    let hq = Recorder::start(broker, STORE).await;
    let store = RunningStore::start(shelves_and_door(STORE), dir.path()).await;
    let url = format!("mqtt://{}", broker.addr);
    let daemon = Daemon::start(dir.path(), &store.config(&url, &["shelves", "door"]));
    daemon.ready().await;

    let consumer = Recorder::start(broker, STORE).await;
    wait::until("the consumer's chain", Duration::from_secs(60), || async {
        let r = replay(STORE, &consumer.messages())?;
        if r.deltas >= 3 {
            Ok(())
        } else {
            Err(format!("{} deltas so far", r.deltas))
        }
    })
    .await;
    let before = consumer.messages();
    drop(consumer);
    let had = replay(STORE, &before)
        .expect("the chain before leaving")
        .seq;

    let left = Instant::now();
    wait::until("the consumer's time away", AWAY * 2, || async {
        if left.elapsed() >= AWAY {
            Ok(())
        } else {
            Err(format!("away for {:?}", left.elapsed()))
        }
    })
    .await;

    // Back with a clean session: the broker kept nothing, so the next delta shows the gap.
    let consumer = Recorder::start(broker, STORE).await;
    let first_new = wait::until(
        "a delta after coming back",
        Duration::from_secs(30),
        || async {
            deltas(&consumer.messages())
                .into_keys()
                .next()
                .ok_or_else(|| "no delta yet".to_owned())
        },
    )
    .await;
    let (from_seq, to_seq) = (had + 1, first_new - 1);
    assert!(
        to_seq > from_seq,
        "the churn committed deltas while the consumer was away: had {had}, next {first_new}"
    );
    let request = format!(r#"{{"from_seq":{from_seq},"to_seq":{to_seq},"request_id":"gap-1"}}"#);
    consumer.publish("cmd/replay", request.as_bytes()).await;
    wait::until("the replayed deltas", Duration::from_secs(30), || async {
        let got = deltas(&consumer.messages());
        let missing = (from_seq..=to_seq).filter(|s| !got.contains_key(s)).count();
        if missing == 0 {
            Ok(())
        } else {
            Err(format!("{missing} of {from_seq}..={to_seq} missing"))
        }
    })
    .await;

    // The consumer's chain without any snapshot received since it came back.
    let chain = || {
        let mut messages = before.clone();
        messages.extend(
            consumer
                .messages()
                .into_iter()
                .filter(|m| !m.topic.starts_with("snapshot")),
        );
        messages
    };
    let first_delivery = deltas(&hq.messages());
    for (seq, payload) in deltas(&consumer.messages()).range(from_seq..=to_seq) {
        assert!(
            first_delivery.get(seq) == Some(payload),
            "replayed seq {seq} differs from its first delivery"
        );
    }
    let repaired = wait::until(
        "the consumer's chain to meet the recorder's",
        Duration::from_secs(30),
        || async {
            let mine = replay(STORE, &chain())?;
            let theirs = replay(STORE, &hq.messages())?;
            if mine.seq == theirs.seq {
                Ok((mine, theirs))
            } else {
                Err(format!(
                    "consumer at {}, recorder at {}",
                    mine.seq, theirs.seq
                ))
            }
        },
    )
    .await;
    let (mine, theirs) = repaired;
    assert_eq!(mine.folded, 0, "the gap was closed by deltas, not a resync");
    assert_eq!(mine.counts, theirs.counts);
    assert!(mine.seq > to_seq);
    for snapshot in hq.payloads("snapshot") {
        assert!(
            snapshot["reason"] != "request" && snapshot["reason"] != "resync",
            "the replay caused a full snapshot: {snapshot}"
        );
    }
    let log = daemon.log();
    assert!(
        log.contains("replaying kept deltas"),
        "the daemon served the replay from its history"
    );
    hq.dump(&dir.path().join("hq.jsonl")).expect("dump");
}
