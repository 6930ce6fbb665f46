//! Uplink against an embedded broker (rumqttd on loopback): order, acks, re-sends after link
//! cuts, broker and uplink deaths, last will, retained messages, commands, auth and TLS.

mod uplink_support;

use std::collections::BTreeMap;

use bytes::Bytes;
use tagtally::uplink::{self, DownReason, LinkState, Protocol, SnapshotOut, UplinkEvent};
use tagtally_contract::StoreState;
use uplink_support::*;

const EPOCH: &str = "e1";

/// Commits `range` to the outbox and announces it.
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

async fn publishes_in_order(protocol: Protocol) {
    let broker = start_rumqttd(None).await;
    let addr = broker.addr(protocol);
    let store = "order-1";
    let topic = format!("tagtally/v1/{store}/delta");
    // The recording subscriber speaks 3.1.1; the broker routes between its listeners.
    let mut sub = Subscriber::connect(broker.v311, "hq-order", &[&topic]).await;
    let outbox = MemOutbox::default();
    let mut committed = BTreeMap::new();
    // A backlog before start-up and more afterwards.
    for seq in 1..=50 {
        let p = delta_json(store, EPOCH, seq);
        committed.insert(seq, p.clone());
        outbox.commit(seq, p);
    }
    let settings = test_settings(store, &format!("mqtt://{addr}"), protocol);
    let up = uplink::spawn(settings, outbox.clone());
    let mut events = EventLog::new(up.events, outbox.clone());
    commit(&outbox, &up.handle, &mut committed, store, 51..=300);
    events.acked_through(300).await;
    assert_eq!(events.acked, (1..=300).collect::<Vec<_>>());
    assert_eq!(outbox.len(), 0);
    // One connection, so the subscriber sees each seq once, in order, byte-identical.
    for seq in 1..=300 {
        let m = sub.next_on(&topic).await;
        assert_eq!(m.payload, committed[&seq], "seq {seq}");
        assert!(!m.retain);
    }
    // A late subscriber finds the retained status.
    let mut late = Subscriber::connect(
        broker.v311,
        "hq-late",
        &[&format!("tagtally/v1/{store}/status")],
    )
    .await;
    let status = late.next().await;
    assert_eq!(status_state(&status.payload), StoreState::Online);
    assert!(status.retain);
    let st = up.handle.status().borrow().clone();
    assert_eq!(st.state, LinkState::Online);
    assert_eq!(st.acked_through, Some(300));
    assert_eq!(st.connections, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_in_order_and_acks_v311() {
    publishes_in_order(Protocol::V311).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_in_order_and_acks_v5() {
    publishes_in_order(Protocol::V5).await;
}

/// PUBACKs are held in the gate, the link is cut: everything unacknowledged goes out again on the
/// next connection, byte-identical, and acks are still reported once each, ascending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_cut_resends_unacked_byte_identical() {
    let broker = start_rumqttd(None).await;
    let gate = Gate::new(broker.v311).await;
    let store = "cut-1";
    let topic = format!("tagtally/v1/{store}/delta");
    let mut sub = Subscriber::connect(broker.v311, "hq-cut", &[&topic]).await;
    let outbox = MemOutbox::default();
    let mut committed = BTreeMap::new();
    let up = uplink::spawn(
        test_settings(store, &gate.url(), Protocol::V311),
        outbox.clone(),
    );
    let mut events = EventLog::new(up.events, outbox.clone());
    events
        .until(|e| *e == UplinkEvent::Link(LinkState::Online))
        .await;
    commit(&outbox, &up.handle, &mut committed, store, 1..=20);
    events.acked_through(20).await;

    gate.hold_downstream(true);
    commit(&outbox, &up.handle, &mut committed, store, 21..=40);
    // The broker got them (the subscriber sees them) but the uplink never saw a PUBACK.
    let mut seen = BTreeMap::new();
    collect_deltas(&mut sub, &topic, &committed, &mut seen, 40).await;
    assert!(up.handle.status().borrow().acked_through <= Some(20));
    gate.sever();
    gate.hold_downstream(false);
    events
        .until(|e| matches!(e, UplinkEvent::Link(LinkState::Down { .. })))
        .await;
    commit(&outbox, &up.handle, &mut committed, store, 41..=60);
    events.acked_through(60).await;
    assert_eq!(events.acked, (1..=60).collect::<Vec<_>>());
    let duplicates = collect_deltas(&mut sub, &topic, &committed, &mut seen, 60).await;
    // 21..=40 were re-sent: the subscriber got them twice, identical (checked in collect).
    let mut again = duplicates;
    while again < 20 {
        let m = sub.next_on(&topic).await;
        let seq = seq_of(&m.payload);
        assert_eq!(m.payload, committed[&seq]);
        again += 1;
    }
    assert_eq!(outbox.len(), 0);
    assert_eq!(up.handle.status().borrow().connections, 2);
}

/// The broker dies mid-stream (every link cut, its memory gone) and a fresh broker takes its
/// address. The subscriber reconnects first; then the uplink re-sends what was never
/// acknowledged, and the subscriber has every seq, byte-identical.
///
/// Before the kill, PUBACKs are held back. The uplink's link dies first; only once the uplink has
/// reported the link down (so no further PUBACK can reach it) does the subscriber catch up with
/// exactly what the uplink saw acknowledged, and then the broker dies for it too. A broker that
/// acks and then dies before forwarding loses that message for *its* subscribers, which is broker
/// durability (HQ.md says so), not the uplink's to fix. (The test used to take the ack count from
/// the events consumed so far while the uplink could still be reading PUBACKs: under load, acks
/// still queued in the event channel named seqs the subscriber was never given the time to get.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_killed_midstream_and_restarted_no_gap() {
    let first = start_rumqttd(None).await;
    let uplink_gate = Gate::new(first.v311).await;
    let sub_gate = Gate::new(first.v311).await;
    let store = "kill-1";
    let topic = format!("tagtally/v1/{store}/delta");
    let mut sub = Subscriber::connect(sub_gate.addr, "hq-kill", &[&topic]).await;
    let outbox = MemOutbox::default();
    let mut committed = BTreeMap::new();
    let up = uplink::spawn(
        test_settings(store, &uplink_gate.url(), Protocol::V311),
        outbox.clone(),
    );
    let mut events = EventLog::new(up.events, outbox.clone());
    commit(&outbox, &up.handle, &mut committed, store, 1..=100);
    events.acked_through(30).await;
    uplink_gate.hold_downstream(true);
    commit(&outbox, &up.handle, &mut committed, store, 101..=150);

    // Kill, the uplink's side first: its link cut, nothing gets through until the new broker.
    uplink_gate.close();
    uplink_gate.sever();
    uplink_gate.hold_downstream(false);
    events
        .until(|e| matches!(e, UplinkEvent::Link(LinkState::Down { .. })))
        .await;
    // Every ack the uplink will ever get from the first broker is now in `events.acked`.
    let acked = events.acked.last().copied().unwrap_or(0);
    let unacked_at_kill = outbox.len();
    assert!(unacked_at_kill > 0, "nothing in flight at the kill");
    let mut seen = BTreeMap::new();
    collect_deltas(&mut sub, &topic, &committed, &mut seen, acked).await;
    sub_gate.close();
    sub_gate.sever();

    let second = start_rumqttd(None).await;
    sub_gate.open(second.v311);
    sub.wait_subscribed(2).await;
    uplink_gate.open(second.v311);
    commit(&outbox, &up.handle, &mut committed, store, 151..=200);
    events.acked_through(200).await;
    // Each seq acknowledged once, in order: a delta whose hand-over to the client failed as the
    // link died used to be skipped (the cursor moved first), and the next ack deleted it unsent.
    assert_eq!(
        events.acked,
        (1..=200).collect::<Vec<_>>(),
        "link events: {:?}",
        events
            .seen
            .iter()
            .filter(|e| !matches!(e, UplinkEvent::Acked(_)))
            .collect::<Vec<_>>()
    );
    collect_deltas(&mut sub, &topic, &committed, &mut seen, 200).await;
    assert_eq!(outbox.len(), 0);
}

/// The uplink task is killed (aborted: the socket closes with no DISCONNECT) with deltas in
/// flight. The broker publishes the last will; a fresh uplink on the same outbox resumes, and
/// status returns to online.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_uplink_resumes_from_outbox_and_will_fires() {
    for protocol in [Protocol::V311, Protocol::V5] {
        let broker = start_rumqttd(None).await;
        let gate = Gate::new(broker.addr(protocol)).await;
        let store = match protocol {
            Protocol::V311 => "crash-4",
            Protocol::V5 => "crash-5",
        };
        let delta_topic = format!("tagtally/v1/{store}/delta");
        let status_topic = format!("tagtally/v1/{store}/status");
        let mut sub = Subscriber::connect(
            broker.v311,
            &format!("hq-{store}"),
            &[&delta_topic, &status_topic],
        )
        .await;
        let outbox = MemOutbox::default();
        let mut committed = BTreeMap::new();
        let settings = test_settings(store, &gate.url(), protocol);
        let up = uplink::spawn(settings.clone(), outbox.clone());
        let mut events = EventLog::new(up.events, outbox.clone());
        commit(&outbox, &up.handle, &mut committed, store, 1..=10);
        events.acked_through(10).await;
        let online = sub.next_on(&status_topic).await;
        assert!(status_state(&online.payload) == StoreState::Online);

        gate.hold_downstream(true);
        commit(&outbox, &up.handle, &mut committed, store, 11..=30);
        let mut seen = BTreeMap::new();
        collect_deltas(&mut sub, &delta_topic, &committed, &mut seen, 30).await;
        up.task.abort();
        assert!(up.task.await.unwrap_err().is_cancelled());
        gate.hold_downstream(false);
        // 11..=30 were never acknowledged to us, so they are still in the outbox.
        assert_eq!(outbox.seqs(), (11..=30).collect::<Vec<_>>());

        let will = sub.next_on(&status_topic).await;
        assert_eq!(status_state(&will.payload), StoreState::Offline);

        let fresh = uplink::spawn(settings, outbox.clone());
        let mut events = EventLog::new(fresh.events, outbox.clone());
        commit(&outbox, &fresh.handle, &mut committed, store, 31..=40);
        events.acked_through(40).await;
        assert_eq!(events.acked, (11..=40).collect::<Vec<_>>());
        collect_deltas(&mut sub, &delta_topic, &committed, &mut seen, 40).await;
        let back = sub.next_on(&status_topic).await;
        assert!(status_state(&back.payload) == StoreState::Online);

        // A graceful stop publishes offline itself and ends the task.
        fresh.handle.shutdown();
        events
            .until(|e| *e == UplinkEvent::Link(LinkState::Stopped))
            .await;
        let bye = sub.next_on(&status_topic).await;
        assert!(status_state(&bye.payload) == StoreState::Offline);
        tokio::time::timeout(WAIT, fresh.task)
            .await
            .expect("task ends")
            .expect("clean end");
    }
}

/// `cmd/snapshot` raises an event (other inbound topics are ignored); snapshots and reader health
/// are retained, reader health only on change and at most once per interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_command_and_retained_messages() {
    let broker = start_rumqttd(None).await;
    let store = "cmd-1";
    let base = format!("tagtally/v1/{store}");
    let outbox = MemOutbox::default();
    let up = uplink::spawn(
        test_settings(store, &format!("mqtt://{}", broker.v311), Protocol::V311),
        outbox.clone(),
    );
    let mut events = EventLog::new(up.events, outbox.clone());
    events
        .until(|e| *e == UplinkEvent::Link(LinkState::Online))
        .await;
    // Online comes at CONNACK; a command published before the SUBACK would reach nobody.
    let mut status = up.handle.status();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        status.wait_for(|s| s.commands_subscribed),
    )
    .await
    .expect("the broker acknowledges the command subscriptions")
    .expect("uplink alive");

    let mut hq = Subscriber::connect(broker.v311, "hq-cmd", &[&format!("{base}/snapshot")]).await;
    hq.publish(&format!("{base}/cmd/snapshot"), br#"{"request_id":"r-1"}"#)
        .await;
    events
        .until(|e| {
            *e == UplinkEvent::SnapshotRequested {
                request_id: Some("r-1".into()),
            }
        })
        .await;

    let snapshot = Bytes::from_static(
        br#"{"schema":"tagtally.snapshot/2","store":"cmd-1","epoch":"e1","seq":0,"time":"2025-01-01T00:00:00Z","snapshot_id":"s1","part":1,"parts":1,"reason":"request","request_id":"r-1","counts":[],"stale_zones":[]}"#,
    );
    up.handle.publish_snapshot(SnapshotOut {
        parts: vec![snapshot.clone()],
        earlier_parts: 0,
    });
    // Live delivery first, so the late subscriber below can only get it as a retained message.
    assert_eq!(
        hq.next_on(&format!("{base}/snapshot")).await.payload,
        snapshot
    );
    up.handle
        .reader_health("ceiling-1", Bytes::from_static(br#"{"link":"up"}"#))
        .expect("reader name");
    assert!(up.handle.reader_health("bad/name", Bytes::new()).is_err());
    // Several changes inside the interval: only the first and the newest go out.
    up.handle
        .reader_health("ceiling-1", Bytes::from_static(br#"{"link":"up"}"#))
        .expect("same");
    let mut late = Subscriber::connect(
        broker.v311,
        "hq-retained",
        &[&format!("{base}/snapshot"), &format!("{base}/readers/+")],
    )
    .await;
    let mut got = BTreeMap::new();
    while got.len() < 2 {
        let m = late.next().await;
        got.insert(m.topic.clone(), m);
    }
    assert_eq!(got[&format!("{base}/snapshot")].payload, snapshot);
    assert!(got[&format!("{base}/snapshot")].retain);
    let reader_topic = format!("{base}/readers/ceiling-1");
    assert_eq!(got[&reader_topic].payload, &br#"{"link":"up"}"#[..]);
    up.handle
        .reader_health("ceiling-1", Bytes::from_static(br#"{"link":"down"}"#))
        .expect("reader");
    up.handle
        .reader_health(
            "ceiling-1",
            Bytes::from_static(br#"{"link":"down","errors":1}"#),
        )
        .expect("reader");
    let next = late.next_on(&reader_topic).await;
    assert_eq!(next.payload, &br#"{"link":"down","errors":1}"#[..]);
}

/// A rejected password is reported with a reason naming the user, and retried with backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_password_is_reported_and_retried() {
    let broker = start_rumqttd(Some(("paris-01", "right"))).await;
    let dir = std::env::temp_dir().join(format!("tagtally-pw-{}", tagtally_random()));
    std::fs::create_dir_all(&dir).unwrap();
    let wrong = write_file(&dir, "wrong", "nope\n");
    let right = write_file(&dir, "right", "right\n");
    for (file, ok) in [(&wrong, false), (&right, true)] {
        let mut s = test_settings("auth-1", &format!("mqtt://{}", broker.v311), Protocol::V311);
        s.credentials = Some(uplink::Credentials {
            username: "paris-01".into(),
            password: tagtally_config::read_secret_file(file).unwrap(),
        });
        let outbox = MemOutbox::default();
        outbox.commit(1, delta_json("auth-1", EPOCH, 1));
        let up = uplink::spawn(s, outbox.clone());
        let mut events = EventLog::new(up.events, outbox.clone());
        if ok {
            events.acked_through(1).await;
        } else {
            for attempt in 0..2 {
                let e = events
                    .until(|e| matches!(e, UplinkEvent::Link(LinkState::Down { .. })))
                    .await;
                let UplinkEvent::Link(LinkState::Down { reason, .. }) = e else {
                    unreachable!()
                };
                // rumqttd closes the link on a bad password rather than sending a refusal code.
                let text = reason.to_string();
                assert!(
                    matches!(reason, DownReason::Refused(_) | DownReason::Network(_)),
                    "attempt {attempt}: {text}"
                );
            }
            assert_eq!(outbox.len(), 1);
            assert!(up.handle.status().borrow().failures >= 2);
        }
        up.handle.shutdown();
        tokio::time::timeout(WAIT, up.task)
            .await
            .expect("stops")
            .expect("clean");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// TLS through a TLS-terminating gate: the right CA works, a wrong CA and a plaintext port give a
/// clear reason; mutual TLS works with a client certificate and fails without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_ca_hostname_and_client_certificates() {
    let broker = start_rumqttd(None).await;
    let pki = Pki::generate("embedded");
    let tls_gate = Gate::tls(broker.v311, pki.server_config(false)).await;
    let mtls_gate = Gate::tls(broker.v311, pki.server_config(true)).await;
    let port = |g: &Gate| g.addr.port();

    struct Case {
        url: String,
        ca: std::path::PathBuf,
        client: bool,
        expect: Result<(), &'static str>,
    }
    let cases = [
        Case {
            url: format!("mqtts://127.0.0.1:{}", port(&tls_gate)),
            ca: pki.ca.clone(),
            client: false,
            expect: Ok(()),
        },
        Case {
            url: format!("mqtts://localhost:{}", port(&tls_gate)),
            ca: pki.ca.clone(),
            client: false,
            expect: Ok(()),
        },
        Case {
            url: format!("mqtts://127.0.0.1:{}", port(&tls_gate)),
            ca: pki.other_ca.clone(),
            client: false,
            expect: Err("not signed by a trusted ca"),
        },
        Case {
            url: format!("mqtts://127.0.0.1:{}", broker.v311.port()),
            ca: pki.ca.clone(),
            client: false,
            expect: Err("plaintext port"),
        },
        Case {
            url: format!("mqtts://127.0.0.1:{}", port(&mtls_gate)),
            ca: pki.ca.clone(),
            client: true,
            expect: Ok(()),
        },
        Case {
            url: format!("mqtts://127.0.0.1:{}", port(&mtls_gate)),
            ca: pki.ca.clone(),
            client: false,
            expect: Err("client certificate"),
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let store = format!("tls-{i}");
        let mut s = test_settings(&store, &case.url, Protocol::V311);
        let mut files = uplink::TlsFiles {
            ca_file: Some(case.ca.clone()),
            ..uplink::TlsFiles::default()
        };
        if case.client {
            files.client_cert = Some(pki.client_cert.clone());
            files.client_key = Some(pki.client_key.clone());
        }
        s.tls = Some(uplink::TlsSetup::load(files).expect("tls files load"));
        let outbox = MemOutbox::default();
        outbox.commit(1, delta_json(&store, EPOCH, 1));
        let up = uplink::spawn(s, outbox.clone());
        let mut events = EventLog::new(up.events, outbox.clone());
        match case.expect {
            Ok(()) => events.acked_through(1).await,
            Err(needle) => {
                let e = events
                    .until(|e| matches!(e, UplinkEvent::Link(LinkState::Down { .. })))
                    .await;
                let UplinkEvent::Link(LinkState::Down { reason, .. }) = e else {
                    unreachable!()
                };
                assert!(
                    reason.to_string().contains(needle),
                    "case {i}: {reason} lacks {needle:?}"
                );
            }
        }
        up.handle.shutdown();
        tokio::time::timeout(WAIT, up.task)
            .await
            .expect("stops")
            .expect("clean");
    }
}

/// TLS files that cannot be loaded are refused before anything connects, naming the file (the
/// config plan reports this at the key that names the file).
#[test]
fn tls_files_that_do_not_load_are_refused_naming_the_file() {
    let files = uplink::TlsFiles {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..uplink::TlsFiles::default()
    };
    let err = uplink::TlsSetup::load(files).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}
