//! Scenario: a last will fired late by another broker of a cluster never hides a live store
//! (SPEC §6.3). Two mosquitto brokers, A and B, bridged both ways on `tagtally/#`; the daemon
//! reaches them through a gate, as through a load balancer. It connects to A; then the gate fails it
//! over to B: the daemon's side of the old link closes, A's side stays open and silent, so A fires
//! the old connection's last will only when the keep-alive runs out — after the daemon is online on
//! B. The will reaches B's consumers over the bridge. A consumer applying status/2's ordering rule
//! (docs/HQ.md §5) keeps the store `online` throughout, and the daemon's heartbeat overwrites the
//! stale retained value within one `status-interval`, on both brokers.
//!
//! Needs Debian's `mosquitto`: skipped with a notice when it is missing, a failure instead when
//! `TAGTALLY_REQUIRE_MOSQUITTO` is set (as `.ci/run` does).

use std::cmp::Ordering;
use std::time::Duration;

use serde_json::Value;
use tagtally_tests::broker::Gate;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::mosquitto::{binary_or_skip, Mosquitto};
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::RunningStore;
use tagtally_tests::stores::shelves_and_door;
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "will-store";
/// The daemon's MQTT keep-alive: A fires the will 1.5 keep-alives after the link went silent.
const KEEP_ALIVE_S: u64 = 4;
const STATUS_INTERVAL: Duration = Duration::from_secs(5);

/// docs/HQ.md §5, written from the contract: by (epoch, boot, connection); within one connection
/// `offline` is the last word; then by `time` (RFC 3339 UTC, same format, so text order is time
/// order).
fn status_order(a: &Value, b: &Value) -> Ordering {
    let key = |v: &Value| {
        (
            v["epoch"].as_str().expect("epoch").to_owned(),
            v["boot"].as_u64().expect("boot"),
            v["connection"].as_u64().expect("connection"),
            v["state"] == "offline",
            v["time"].as_str().expect("time").to_owned(),
        )
    };
    key(a).cmp(&key(b))
}

/// What a consumer applying the rule believes after each status, in arrival order.
fn beliefs(statuses: &[Value]) -> Vec<Value> {
    let mut current: Option<Value> = None;
    let mut out = Vec::new();
    for s in statuses {
        if current
            .as_ref()
            .is_none_or(|c| status_order(s, c) == Ordering::Greater)
        {
            current = Some(s.clone());
        }
        out.push(current.clone().expect("a status"));
    }
    out
}

fn is(status: &Value, state: &str, connection: u64) -> bool {
    status["state"] == state && status["connection"] == connection
}

/// Waits (bounded) for a status on `recorder` after the first `skip` that `pred` accepts; returns
/// its index among all statuses.
async fn status_where(
    recorder: &Recorder,
    skip: usize,
    what: &str,
    limit: Duration,
    pred: impl Fn(&Value) -> bool,
) -> usize {
    wait::until(what, limit, || async {
        let all = recorder.payloads("status");
        all.iter()
            .enumerate()
            .skip(skip)
            .find(|(_, s)| pred(s))
            .map(|(i, _)| i)
            .ok_or_else(|| format!("statuses so far: {all:?}"))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_will_from_a_bridged_broker_never_hides_the_live_store() {
    let Some(bin) = binary_or_skip() else {
        return;
    };
    let dir = ScenarioDir::new("will");
    let a = Mosquitto::start(&bin, &dir.path().join("broker-a"), "").await;
    let bridge = format!(
        "connection to-a\naddress {}\ntopic tagtally/# both 1\ncleansession true\n\
         restart_timeout 1\n",
        a.addr
    );
    let b = Mosquitto::start(&bin, &dir.path().join("broker-b"), &bridge).await;
    let on_a = Recorder::start(a.broker(), STORE).await;
    let on_b = Recorder::start(b.broker(), STORE).await;
    // The bridge is up once a message published on B arrives on A (published again at each poll:
    // the bridge forwards nothing published before it connected).
    wait::until(
        "the bridge from B to A",
        Duration::from_secs(30),
        || async {
            on_b.publish("cmd/snapshot", b"").await;
            if on_a.messages().iter().any(|m| m.topic == "cmd/snapshot") {
                Ok(())
            } else {
                Err(format!("mosquitto B log:\n{}", b.log()))
            }
        },
    )
    .await;

    let gate = Gate::start(a.broker()).await;
    let store = RunningStore::start(shelves_and_door(STORE), dir.path()).await;
    let config = store.config(&gate.url(), &["shelves"]).replacen(
        "[mqtt]\n",
        &format!(
            "[mqtt]\nkeep-alive = \"{KEEP_ALIVE_S}s\"\nstatus-interval = \"{}s\"\n",
            STATUS_INTERVAL.as_secs()
        ),
        1,
    );
    let daemon = Daemon::start(dir.path(), &config);
    daemon.ready().await;
    let limit = Duration::from_secs(30);
    status_where(&on_b, 0, "online on A, seen on B", limit, |s| {
        is(s, "online", 1)
    })
    .await;

    gate.fail_over(b.broker());
    let online_b = status_where(&on_b, 0, "online on B", limit, |s| is(s, "online", 2)).await;
    let will = status_where(
        &on_b,
        online_b,
        "A's late will for the old connection, over the bridge",
        Duration::from_secs(6 * KEEP_ALIVE_S),
        |s| is(s, "offline", 1),
    )
    .await;
    assert!(
        will > online_b,
        "the will came after the store was online on B"
    );
    let heartbeat = status_where(
        &on_b,
        will,
        "the heartbeat overwriting the stale will",
        STATUS_INTERVAL + Duration::from_secs(2),
        |s| is(s, "online", 2),
    )
    .await;
    let statuses = on_b.payloads("status");
    for (i, belief) in beliefs(&statuses).iter().enumerate().skip(online_b) {
        assert!(
            is(belief, "online", 2),
            "after status {i} ({}), the consumer believes {belief}",
            statuses[i]
        );
    }

    // A consumer subscribing now, on either broker, gets the live store's retained status.
    for (name, broker) in [("A", a.broker()), ("B", b.broker())] {
        let late = Recorder::start(broker, STORE).await;
        let retained = wait::until(
            &format!("the retained status on {name}"),
            Duration::from_secs(10),
            || async {
                late.messages()
                    .into_iter()
                    .find(|m| m.topic == "status")
                    .ok_or_else(|| "no status yet".to_owned())
            },
        )
        .await;
        let v: Value = serde_json::from_slice(&retained.payload).expect("status json");
        assert!(retained.retain, "{name}: a retained status");
        assert!(is(&v, "online", 2), "{name} retains {v}");
    }
    eprintln!(
        "stale_will: will at status {will}, overwritten by status {heartbeat}; A's log tail:\n{}",
        a.log().lines().rev().take(5).collect::<Vec<_>>().join("\n")
    );
}
