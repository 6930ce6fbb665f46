//! The EPCIS outbox (`[epcis] publish`, SPEC §12): each flush's events committed as `epcis`
//! messages in the flush's own transaction, with their own seq, each within the payload bound and
//! valid against GS1's EPCIS 2.0 schema and `docs/schemas/epcis.json`; kept across a restart until
//! acknowledged, acknowledged in order (and counted as published), bounded by dropping (and
//! counting) the oldest.

mod epcis_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use tagtally::engine::{CountChange, Delta, Placement, TagChange};
use tagtally::epcis::location::Locations;
use tagtally::store::{Store, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Epc, Micros};
use tagtally_tests::schemas::assert_payload_valid;

const T0: u64 = 1_796_328_000_000_000;
const SKU: &str = "80614141123458";

fn epc(n: u32) -> Epc {
    let [a, b, c, d] = n.to_be_bytes();
    Epc::from_slice(&[0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, a, b, c, d]).unwrap()
}

fn options(max_outbox_bytes: u64, max_payload: usize) -> StoreOptions {
    let gln = "0614141.00777".parse().expect("gln");
    StoreOptions {
        keep_events: true,
        publish_events: Some(Locations::of("paris-01", Some(&gln))),
        max_delta_payload: max_payload,
        ..StoreOptions::new("paris-01", max_outbox_bytes)
    }
}

/// Tags `from..from + n` arrive on the floor at `T0 + secs`, the floor count going from `from`.
fn arrivals(secs: u64, from: u32, n: u32) -> Delta {
    Delta {
        time: Micros(T0 + secs * 1_000_000),
        changes: vec![CountChange {
            zone: Arc::from("floor"),
            sku: Arc::from(SKU),
            delta: i64::from(n),
            count: from + n,
        }],
        tag_changes: (from..from + n)
            .map(|i| TagChange {
                epc: epc(i),
                placement: Some(Placement {
                    zone: Arc::from("floor"),
                    sku: Arc::from(SKU),
                }),
                departure: None,
            })
            .collect(),
    }
}

/// Checks a message against both schemas; returns its seq and its EPCs.
fn checked(payload: &[u8]) -> (u64, Vec<String>) {
    let validator = epcis_support::schema();
    assert_payload_valid("tagtally/v1/paris-01/epcis", payload);
    let doc: Value = serde_json::from_slice(payload).expect("json");
    epcis_support::assert_valid(&validator, &doc);
    let mut epcs = Vec::new();
    for event in doc["epcisBody"]["eventList"].as_array().expect("events") {
        assert_eq!(
            event["bizLocation"]["id"],
            "urn:epc:id:sgln:0614141.00777.floor"
        );
        for e in event["epcList"].as_array().expect("epcList") {
            epcs.push(e.as_str().expect("epc").to_owned());
        }
    }
    (doc["tagtally:seq"].as_u64().expect("seq"), epcs)
}

#[test]
fn a_flush_commits_valid_bounded_messages_kept_until_acknowledged_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let budget = 4096;
    let first;
    {
        let store = Store::open(&path, options(1 << 24, budget)).unwrap().store;
        store.set_max_epcis_payload(budget);
        let flush = store.commit_flush(&arrivals(0, 0, 300)).unwrap();
        first = flush.epcis.expect("epcis messages");
        assert_eq!(first.first_seq, 1);
        assert!(first.seq > 1, "300 EPCs do not fit 4 KiB");
        assert_eq!(first.dropped_now, 0);
        assert_eq!(flush.deltas.expect("a delta").seq, 1);
        // A flush without tag changes has no event and no message.
        let quiet = store
            .commit_flush(&Delta {
                time: Micros(T0 + 1_000_000),
                changes: Vec::new(),
                tag_changes: Vec::new(),
            })
            .unwrap();
        assert!(quiet.epcis.is_none());
    }
    // Nothing acknowledged: everything is still there after a restart, and seqs go on.
    let store = Store::open(&path, options(1 << 24, budget)).unwrap().store;
    let held = store.read_epcis(0, usize::MAX).unwrap();
    assert_eq!(held.len() as u64, first.seq);
    let mut all = BTreeSet::new();
    for (k, (seq, payload)) in held.iter().enumerate() {
        assert!(payload.len() <= budget, "{} > {budget}", payload.len());
        let (inner, epcs) = checked(payload);
        assert_eq!((*seq, inner), (k as u64 + 1, k as u64 + 1));
        for e in epcs {
            assert!(all.insert(e), "an EPC in two messages");
        }
    }
    assert_eq!(all.len(), 300);
    let next = store
        .commit_flush(&arrivals(2, 300, 1))
        .unwrap()
        .epcis
        .expect("more");
    assert_eq!(next.first_seq, first.seq + 1);

    // Acknowledged in order: everything up to the seq leaves, in the same transaction as delta acks.
    store.ack_published(&[1], Some(2)).unwrap();
    let left: Vec<u64> = store
        .read_epcis(0, usize::MAX)
        .unwrap()
        .iter()
        .map(|(seq, _)| *seq)
        .collect();
    assert_eq!(left, (3..=next.seq).collect::<Vec<_>>());
    assert_eq!(store.outbox_stats().deltas, 1);
    assert_eq!(
        store.epcis_outbox_stats().published,
        2,
        "acknowledged, so published"
    );
    // An ack of seqs already gone publishes nothing more.
    store.ack_published(&[], Some(2)).unwrap();
    assert_eq!(store.epcis_outbox_stats().published, 2);
    // One that no broker takes leaves alone, counted.
    assert!(store.drop_epcis(4).unwrap());
    assert!(!store.drop_epcis(4).unwrap());
    let stats = store.epcis_outbox_stats();
    assert_eq!(
        (stats.dropped, stats.messages, stats.published),
        (1, next.seq - 3, 2)
    );
    drop(store);
    let store = Store::open(&path, options(1 << 24, budget)).unwrap().store;
    assert_eq!(
        store.epcis_outbox_stats(),
        stats,
        "the accounting is durable"
    );
}

#[test]
fn over_its_bound_the_outbox_drops_the_oldest_messages_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(DATABASE_FILE), options(20_000, 4096))
        .unwrap()
        .store;
    store.set_max_epcis_payload(4096);
    let mut dropped = 0;
    for i in 0..40u32 {
        let e = store
            .commit_flush(&arrivals(u64::from(i), i * 20, 20))
            .unwrap()
            .epcis
            .expect("epcis");
        dropped += e.dropped_now;
        assert!(e.outbox.bytes <= 20_000, "{}", e.outbox.bytes);
    }
    let stats = store.epcis_outbox_stats();
    assert!(dropped > 0);
    assert_eq!(stats.dropped, dropped);
    let held = store.read_epcis(0, usize::MAX).unwrap();
    assert_eq!(held.len() as u64, stats.messages);
    // The newest are kept, contiguous up to the last seq.
    let seqs: Vec<u64> = held.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs.last().copied(), Some(stats.next_seq - 1));
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(seqs[0] - 1, dropped, "exactly the oldest were dropped");
}

#[test]
fn without_publish_no_message_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join(DATABASE_FILE),
        StoreOptions {
            keep_events: true,
            ..StoreOptions::new("paris-01", 1 << 24)
        },
    )
    .unwrap()
    .store;
    let flush = store.commit_flush(&arrivals(0, 0, 3)).unwrap();
    assert!(flush.epcis.is_none());
    assert!(!store.publishes_events());
    assert_eq!(flush.events.len(), 1);
    assert!(store.read_epcis(0, 10).unwrap().is_empty());
}
