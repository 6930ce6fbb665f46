//! The fleet-grade contract of the uplink against the embedded broker (issue 11): a message
//! over the packet limit never blocks the ones after it, snapshots go out in parts with stale
//! parts cleared, `status/2` beats with its identity, HQ's commands are coalesced, retained
//! commands are ignored. Every payload the subscribers see is validated against docs/schemas.

mod uplink_support;

use std::time::Duration;

use bytes::Bytes;
use tagtally::uplink::{self, Protocol, SnapshotOut, UplinkEvent};
use tagtally_contract::{StatusMessage, StoreState};
use uplink_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delta_over_the_limit_is_refused_and_never_blocks_the_next() {
    let broker = start_rumqttd(None).await;
    let store = "limit-1";
    let delta_topic = format!("tagtally/v1/{store}/delta");
    let status_topic = format!("tagtally/v1/{store}/status");
    let mut sub =
        Subscriber::connect(broker.v311, "hq-limit", &[&delta_topic, &status_topic]).await;
    let outbox = MemOutbox::default();
    let small = |seq| delta_json(store, "e1", seq);
    outbox.commit(1, small(1));
    // Committed by an older version, or under a larger limit: 3 000 bytes against 2 048.
    let big = {
        let text = String::from_utf8(small(2).to_vec()).unwrap();
        let padding = format!(r#","sku":"{}""#, "9".repeat(3000));
        Bytes::from(text.replacen(
            r#","sku":"0061414112345"#,
            &format!("{padding},\"x\":\""),
            1,
        ))
    };
    outbox.commit(2, big);
    outbox.commit(3, small(3));
    let mut settings = test_settings(store, &format!("mqtt://{}", broker.v311), Protocol::V311);
    settings.max_message_bytes = 2048;
    let up = uplink::spawn(settings, outbox.clone());
    let mut events = EventLog::new(up.events, outbox.clone());
    let refused = events
        .until(|e| matches!(e, UplinkEvent::Refused { .. }))
        .await;
    let UplinkEvent::Refused { seq, bytes, limit } = refused else {
        unreachable!()
    };
    assert_eq!((seq, limit), (2, 2048));
    assert!(bytes > 3000, "{bytes}");
    events.acked_through(3).await;
    assert_eq!(events.acked, [1, 3]);
    assert_eq!(seq_of(&sub.next_on(&delta_topic).await.payload), 1);
    assert_eq!(seq_of(&sub.next_on(&delta_topic).await.payload), 3);
    // The refusal is on the status topic, naming size and limit.
    let status = loop {
        let m = sub.next_on(&status_topic).await;
        let s = StatusMessage::parse(&m.payload)
            .expect("status/2")
            .refused
            .is_some();
        if s {
            break m;
        }
    };
    let s = StatusMessage::parse(&status.payload).unwrap();
    let r = s.refused.expect("refused");
    assert_eq!((r.seq, r.limit), (Some(2), 2048));
    let st = up.handle.status().borrow().clone();
    assert_eq!(st.refused, 1);
    assert_eq!(st.packet_limit, 2048);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_parts_go_out_retained_and_stale_parts_are_cleared() {
    let broker = start_rumqttd(None).await;
    let store = "parts-1";
    let base = format!("tagtally/v1/{store}");
    let outbox = MemOutbox::default();
    let up = uplink::spawn(
        test_settings(store, &format!("mqtt://{}", broker.v311), Protocol::V311),
        outbox.clone(),
    );
    let mut events = EventLog::new(up.events, outbox.clone());
    events
        .until(|e| *e == UplinkEvent::Link(tagtally::uplink::LinkState::Online))
        .await;
    let mut sub = Subscriber::connect(
        broker.v311,
        "hq-parts",
        &[&format!("{base}/snapshot"), &format!("{base}/snapshot/+")],
    )
    .await;
    let part = |k: u32, n: u32| {
        Bytes::from(format!(
            r#"{{"schema":"tagtally.snapshot/2","store":"{store}","epoch":"e","seq":5,"time":"2025-01-01T00:00:00.000Z","snapshot_id":"s{n}","part":{k},"parts":{n},"reason":"interval","counts":[{{"zone":"z","sku":"s{k}","count":1}}],"stale_zones":[]}}"#
        ))
    };
    up.handle.publish_snapshot(SnapshotOut {
        parts: (1..=3).map(|k| part(k, 3)).collect(),
        earlier_parts: 5,
    });
    for k in 1..=3u32 {
        let topic = if k == 1 {
            format!("{base}/snapshot")
        } else {
            format!("{base}/snapshot/{k}")
        };
        assert_eq!(sub.next_on(&topic).await.payload, part(k, 3));
    }
    for k in 4..=5 {
        let m = sub.next_on(&format!("{base}/snapshot/{k}")).await;
        assert!(m.payload.is_empty(), "stale part {k} cleared");
    }
    // A late consumer gets exactly the three parts, retained.
    let mut late = Subscriber::connect(
        broker.v311,
        "hq-parts-late",
        &[&format!("{base}/snapshot"), &format!("{base}/snapshot/+")],
    )
    .await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = late.next().await;
        assert!(m.retain);
        got.push(m.topic);
    }
    got.sort();
    assert_eq!(
        got,
        [
            format!("{base}/snapshot"),
            format!("{base}/snapshot/2"),
            format!("{base}/snapshot/3")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_beats_with_its_identity_and_the_last_committed_seq() {
    let broker = start_rumqttd(None).await;
    let store = "beat-1";
    let status_topic = format!("tagtally/v1/{store}/status");
    let mut sub = Subscriber::connect(broker.v311, "hq-beat", &[&status_topic]).await;
    let outbox = MemOutbox::default();
    let mut settings = test_settings(store, &format!("mqtt://{}", broker.v311), Protocol::V311);
    settings.status_interval = Duration::from_secs(1);
    settings.identity = tagtally::uplink::StatusIdentity {
        epoch: "0193a4f2-8c1e-7b3a-9d2e-4f6a8b0c1d2e".into(),
        boot: 7,
        version: "1.2.3".into(),
    };
    let up = uplink::spawn(settings, outbox.clone());
    let _events = EventLog::new(up.events, outbox.clone());
    let first = sub.next_on(&status_topic).await;
    let first = StatusMessage::parse(&first.payload).unwrap().clone();
    assert_eq!(
        (first.boot, first.connection, first.state, first.seq),
        (7, 1, StoreState::Online, 0)
    );
    assert_eq!(first.version, "1.2.3");
    outbox.commit(1, delta_json(store, "e1", 1));
    up.handle.committed(1);
    // Heartbeats carry the committed seq, from the same connection, later in time.
    let beat = loop {
        let m = sub.next_on(&status_topic).await;
        let s = StatusMessage::parse(&m.payload).unwrap();
        if s.seq == 1 {
            break m;
        }
    };
    let beat = StatusMessage::parse(&beat.payload).unwrap();
    assert_eq!(beat.connection, 1);
    assert_eq!(beat.order(&first), std::cmp::Ordering::Greater);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_snapshot_requests_in_200_ms_give_two_snapshots_and_retained_ones_none() {
    let broker = start_rumqttd(None).await;
    let store = "storm-1";
    let base = format!("tagtally/v1/{store}");
    let hq = Subscriber::connect(broker.v311, "hq-storm", &[&format!("{base}/status")]).await;
    // A retained command left on the broker: it must never fire.
    hq.publish_retained(
        &format!("{base}/cmd/snapshot"),
        br#"{"request_id":"stale"}"#,
    )
    .await;
    let outbox = MemOutbox::default();
    let mut settings = test_settings(store, &format!("mqtt://{}", broker.v311), Protocol::V311);
    // Long enough that the 30 requests (≈ 200 ms, seconds on a loaded machine) all fall in one interval.
    settings.command_min_interval = Duration::from_secs(4);
    let up = uplink::spawn(settings, outbox.clone());
    let mut events = EventLog::new(up.events, outbox.clone());
    events
        .until(|e| *e == UplinkEvent::Link(tagtally::uplink::LinkState::Online))
        .await;
    let mut status = up.handle.status();
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| s.inbound.retained_ignored == 1),
    )
    .await
    .expect("the retained command is seen and ignored")
    .expect("uplink alive");
    hq.publish(&format!("{base}/cmd/snapshot"), b"not json")
        .await;
    for i in 0..30 {
        hq.publish(
            &format!("{base}/cmd/snapshot"),
            format!(r#"{{"request_id":"r{i}"}}"#).as_bytes(),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(6)).await;
    }
    let mut requests = Vec::new();
    while requests.len() < 2 {
        if let UplinkEvent::SnapshotRequested { request_id } = events.next().await {
            requests.push(request_id.expect("id"));
        }
    }
    assert_eq!(requests[0], "r0", "the first is served at once");
    assert_eq!(requests[1], "r29", "the rest coalesce into one, newest id");
    let st = up.handle.status().borrow().clone();
    assert_eq!(st.inbound.snapshot_requests, 30);
    assert_eq!(st.inbound.coalesced, 28, "nothing else is pending");
    assert_eq!(st.inbound.malformed, 1);
    assert_eq!(st.inbound.retained_ignored, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_requests_reach_the_daemon_and_replayed_deltas_go_out_byte_identical() {
    let broker = start_rumqttd(None).await;
    let store = "replay-1";
    let base = format!("tagtally/v1/{store}");
    let delta_topic = format!("{base}/delta");
    let mut hq = Subscriber::connect(broker.v311, "hq-replay", &[&delta_topic]).await;
    let outbox = MemOutbox::default();
    let up = uplink::spawn(
        test_settings(store, &format!("mqtt://{}", broker.v311), Protocol::V311),
        outbox.clone(),
    );
    let mut events = EventLog::new(up.events, outbox.clone());
    events
        .until(|e| *e == UplinkEvent::Link(tagtally::uplink::LinkState::Online))
        .await;
    // Online comes at CONNACK; a command published before the SUBACK would reach nobody.
    let mut status = up.handle.status();
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| s.commands_subscribed),
    )
    .await
    .expect("the broker acknowledges the command subscriptions")
    .expect("uplink alive");
    hq.publish(
        &format!("{base}/cmd/replay"),
        br#"{"from_seq":4,"to_seq":5,"request_id":"g1"}"#,
    )
    .await;
    events
        .until(|e| {
            *e == UplinkEvent::ReplayRequested {
                from_seq: 4,
                to_seq: 5,
                request_id: Some("g1".into()),
            }
        })
        .await;
    let kept = vec![
        (4, delta_json(store, "e1", 4)),
        (5, delta_json(store, "e1", 5)),
    ];
    up.handle.replay(kept.clone());
    for (_, payload) in kept {
        assert_eq!(hq.next_on(&delta_topic).await.payload, payload);
    }
    assert!(events.acked.is_empty(), "replays are not outbox acks");
}
