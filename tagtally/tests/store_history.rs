//! The state database's layout 2 (issue 11): boot counter, in-place upgrade of layout 1, flushes
//! split over consecutive seqs by the size bound, refused deltas folded, and the history kept
//! for `cmd/replay` within its bounds, byte-identical.

use std::sync::Arc;
use std::time::Duration;

use redb::{Database, TableDefinition};
use tagtally::engine::{CountChange, Delta, Placement, TagChange};
use tagtally::store::{HistoryBounds, Resync, Store, StoreOptions, DATABASE_FILE};
use tagtally_contract::DeltaMessage;
use tagtally_reader_drivers::{Epc, Micros};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

fn epc(n: u16) -> Epc {
    let [hi, lo] = n.to_be_bytes();
    Epc::from_slice(&[0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, hi, lo]).unwrap()
}

/// Tags `first..first + n` arrive, each of its own SKU in `floor`.
fn arrivals(first: u16, n: u16) -> Delta {
    let sku = |i: u16| Arc::<str>::from(format!("8061414112{i:04}"));
    Delta {
        time: Micros(1_776_939_300_000_000),
        changes: (first..first + n)
            .map(|i| CountChange {
                zone: Arc::from("floor"),
                sku: sku(i),
                delta: 1,
                count: 1,
            })
            .collect(),
        tag_changes: (first..first + n)
            .map(|i| TagChange {
                epc: epc(i),
                placement: Some(Placement {
                    zone: Arc::from("floor"),
                    sku: sku(i),
                }),
                departure: None,
            })
            .collect(),
    }
}

#[test]
fn every_open_counts_a_boot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    for boot in 1..=3 {
        let opened = Store::open(&path, StoreOptions::new("s", 1 << 20)).unwrap();
        assert_eq!(opened.store.boot(), boot);
        assert_eq!(opened.created, boot == 1);
    }
}

#[test]
fn a_layout_1_database_is_upgraded_in_place_keeping_epoch_seqs_and_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let (epoch, payload) = {
        let store = Store::open(&path, StoreOptions::new("s", 1 << 20))
            .unwrap()
            .store;
        let c = store.commit(&arrivals(0, 2)).unwrap().unwrap();
        (store.epoch().to_owned(), c.payloads[0].clone())
    };
    // Back to what layout 1 wrote: no boot counter, no history table, version 1.
    {
        let db = Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut meta = txn.open_table(META).unwrap();
            meta.insert("schema_version", 1).unwrap();
            meta.remove("boot").unwrap();
            meta.remove("history_bytes").unwrap();
        }
        let history: TableDefinition<u64, (u64, &[u8])> = TableDefinition::new("history");
        txn.delete_table(history).unwrap();
        txn.commit().unwrap();
    }
    let opened = Store::open(&path, StoreOptions::new("s", 1 << 20)).unwrap();
    assert_eq!(opened.upgraded_from, Some(1));
    assert!(!opened.created);
    assert_eq!(opened.tags.len(), 2);
    let store = opened.store;
    assert_eq!(store.epoch(), epoch, "an upgraded gateway keeps its epoch");
    assert_eq!(store.boot(), 1);
    assert_eq!(store.last_seq(), 1);
    assert_eq!(
        store.read_deltas(0, 10).unwrap(),
        [(1, payload.clone())],
        "the outbox survives the upgrade byte-identical"
    );
    // The history works from now on.
    assert_eq!(store.ack_all(&[1]).unwrap(), 1);
    assert_eq!(store.read_kept(1, 1, 10).unwrap(), [(1, payload)]);
    drop(store);
    let again = Store::open(&path, StoreOptions::new("s", 1 << 20)).unwrap();
    assert_eq!(again.upgraded_from, None);
    assert_eq!(again.store.boot(), 2);
}

#[test]
fn a_flush_too_large_for_one_message_becomes_consecutive_bounded_seqs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let mut options = StoreOptions::new("s", 64 << 20);
    options.max_delta_payload = 3000;
    let store = Store::open(&path, options).unwrap().store;
    let c = store.commit(&arrivals(0, 300)).unwrap().unwrap();
    assert_eq!(c.first_seq, 1);
    assert!(c.payloads.len() > 5, "{} parts", c.payloads.len());
    assert_eq!(c.seq, c.payloads.len() as u64);
    let mut changes = 0;
    for (seq, p) in (1..).zip(&c.payloads) {
        assert!(p.len() <= 3000, "seq {seq}: {} bytes", p.len());
        let d = DeltaMessage::parse(p).unwrap();
        assert_eq!(d.seq, seq);
        changes += d.changes.len();
    }
    assert_eq!(changes, 300);
    let kept = store.read_deltas(0, 1000).unwrap();
    assert_eq!(kept.len(), c.payloads.len());
    assert_eq!(
        store.commit(&arrivals(300, 1)).unwrap().unwrap().first_seq,
        c.seq + 1
    );
}

#[test]
fn a_refused_delta_is_folded_into_the_resync_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let store = Store::open(&path, StoreOptions::new("s", 1 << 20))
        .unwrap()
        .store;
    for i in 0..3 {
        store.commit(&arrivals(i, 1)).unwrap();
    }
    assert!(store.fold_refused(2).unwrap());
    assert!(!store.fold_refused(2).unwrap(), "already gone");
    let stats = store.outbox_stats();
    assert_eq!(
        stats.resync,
        Some(Resync {
            first_seq: 2,
            last_seq: 2
        })
    );
    assert_eq!((stats.deltas, stats.folded_deltas), (2, 1));
    assert_eq!(
        store
            .read_deltas(0, 10)
            .unwrap()
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>(),
        [1, 3]
    );
    drop(store);
    // The range is durable.
    let store = Store::open(&path, StoreOptions::new("s", 1 << 20))
        .unwrap()
        .store;
    assert_eq!(store.outbox_stats().resync.map(|r| r.first_seq), Some(2));
    assert!(store.ack_resync(3).unwrap());
}

#[test]
fn acknowledged_deltas_stay_as_history_within_the_byte_bound_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let mut options = StoreOptions::new("s", 64 << 20);
    options.history = HistoryBounds {
        max_bytes: 2000,
        max_age: Duration::from_secs(3600),
    };
    let store = Store::open(&path, options.clone()).unwrap().store;
    let mut payloads = Vec::new();
    for i in 0..20 {
        let c = store.commit(&arrivals(i, 1)).unwrap().unwrap();
        payloads.push((c.seq, c.payloads[0].clone()));
    }
    assert_eq!(store.ack_all(&(1..=15).collect::<Vec<_>>()).unwrap(), 15);
    // History and outbox merged, seq order, the same bytes as committed.
    let kept = store.read_kept(1, 20, 100).unwrap();
    let first_kept = kept[0].0;
    assert!(first_kept > 1, "the oldest acknowledged left the history");
    assert!(store.history_bytes() <= 2000);
    let history: u64 = payloads[(first_kept - 1) as usize..15]
        .iter()
        .map(|(_, p)| p.len() as u64)
        .sum();
    assert_eq!(store.history_bytes(), history);
    assert!(history + payloads[(first_kept - 2) as usize].1.len() as u64 > 2000);
    assert_eq!(kept, payloads[(first_kept - 1) as usize..].to_vec());
    assert_eq!(
        store.read_kept(16, 18, 2).unwrap(),
        payloads[15..17].to_vec()
    );
    drop(store);
    // Reopened: the history checks out and is still there.
    let store = Store::open(&path, options.clone()).unwrap().store;
    assert_eq!(
        store.read_kept(first_kept, 15, 100).unwrap().len() as u64,
        16 - first_kept
    );

    // No history kept at all.
    let dir = tempfile::tempdir().unwrap();
    options.history.max_bytes = 0;
    let store = Store::open(&dir.path().join(DATABASE_FILE), options)
        .unwrap()
        .store;
    store.commit(&arrivals(0, 1)).unwrap();
    store.ack_all(&[1]).unwrap();
    assert!(store.read_kept(1, 1, 10).unwrap().is_empty());
}
