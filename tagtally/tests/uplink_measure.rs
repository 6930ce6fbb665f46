//! Uplink measurements on loopback (embedded rumqttd): commit→PUBACK latency, sustained
//! deltas/s, and the drain of 10 000 deltas queued during an outage. Also a dead-link check.
//!
//! Correctness is asserted (every delta acked once, in order); the numbers are printed, never
//! asserted (SPEC §8). For meaningful numbers run in release:
//! `cargo test --release -p tagtally --test uplink_measure -- --nocapture --test-threads=1`

mod uplink_support;

use std::time::{Duration, Instant};

use tagtally::uplink::{self, DownReason, LinkState, Protocol, UplinkEvent};
use uplink_support::*;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_throughput_and_drain() {
    let broker = start_rumqttd(None).await;
    let gate = Gate::new(broker.v311).await;
    let store = "bench-1";
    let outbox = MemOutbox::default();
    let mut settings = test_settings(store, &gate.url(), Protocol::V311);
    settings.window = 64;
    let up = uplink::spawn(settings, outbox.clone());
    let mut events = EventLog::new(up.events, outbox.clone());
    events
        .until(|e| *e == UplinkEvent::Link(LinkState::Online))
        .await;
    let mut seq = 0u64;

    // 1. Latency: one delta at a time, commit → Acked.
    let mut samples = Vec::new();
    for _ in 0..1000 {
        seq += 1;
        let start = Instant::now();
        outbox.commit(seq, delta_json(store, "e1", seq));
        up.handle.committed(seq);
        events.acked_through(seq).await;
        samples.push(start.elapsed());
    }
    samples.sort();
    println!(
        "commit->puback latency over {} deltas: p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );

    // 2. Sustained: 20 000 deltas committed as fast as possible.
    let n = 20_000u64;
    let first = seq + 1;
    let start = Instant::now();
    for _ in 0..n {
        seq += 1;
        outbox.commit(seq, delta_json(store, "e1", seq));
        up.handle.committed(seq);
    }
    events.acked_through(seq).await;
    let took = start.elapsed();
    println!(
        "sustained: {n} deltas (seq {first}..={seq}) in {took:?} = {:.0} deltas/s",
        n as f64 / took.as_secs_f64()
    );

    // 3. Outage: the broker is unreachable while 10 000 deltas queue, then it returns.
    gate.close();
    gate.sever();
    events
        .until(|e| matches!(e, UplinkEvent::Link(LinkState::Down { .. })))
        .await;
    let queued_from = seq + 1;
    for _ in 0..10_000 {
        seq += 1;
        outbox.commit(seq, delta_json(store, "e1", seq));
        up.handle.committed(seq);
    }
    assert!(outbox.len() >= 10_000);
    let reopened = Instant::now();
    gate.open(broker.v311);
    events
        .until(|e| *e == UplinkEvent::Link(LinkState::Online))
        .await;
    let online = Instant::now();
    events.acked_through(seq).await;
    println!(
        "drain: 10000 queued deltas (seq {queued_from}..={seq}) acked {:?} after reconnect \
         ({:?} after the broker became reachable, including the backoff wait)",
        online.elapsed(),
        reopened.elapsed()
    );
    assert_eq!(events.acked, (1..=seq).collect::<Vec<_>>());
    assert_eq!(outbox.len(), 0);
}

/// A half-open link (the broker stops answering, TCP stays up) is noticed through the
/// keep-alive: the uplink goes down with that reason and reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_broker_is_detected_by_keep_alive() {
    let broker = start_rumqttd(None).await;
    let gate = Gate::new(broker.v311).await;
    let outbox = MemOutbox::default();
    let mut settings = test_settings("ka-1", &gate.url(), Protocol::V311);
    settings.keep_alive = Duration::from_secs(1);
    let up = uplink::spawn(settings, outbox.clone());
    let mut events = EventLog::new(up.events, outbox.clone());
    events
        .until(|e| *e == UplinkEvent::Link(LinkState::Online))
        .await;
    gate.hold_downstream(true);
    let held = Instant::now();
    let down = events
        .until(|e| matches!(e, UplinkEvent::Link(LinkState::Down { .. })))
        .await;
    assert_eq!(
        down,
        UplinkEvent::Link(LinkState::Down {
            reason: DownReason::KeepAlive,
            retry_in: match &down {
                UplinkEvent::Link(LinkState::Down { retry_in, .. }) => *retry_in,
                _ => unreachable!(),
            },
        })
    );
    println!(
        "silent broker noticed after {:?} (keep-alive 1s)",
        held.elapsed()
    );
    gate.sever();
    gate.hold_downstream(false);
    events
        .until(|e| *e == UplinkEvent::Link(LinkState::Online))
        .await;
}
