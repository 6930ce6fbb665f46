//! The durable store through its public API: atomic commits, acknowledgement, bounded outbox with resync folding, epoch and corruption checks.

use std::path::Path;
use std::sync::Arc;

use redb::{Database, TableDefinition};
use tagtally::engine::{CountChange, Delta, Placement, TagChange};
use tagtally::store::{OutboxItem, Resync, Store, StoreError, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Epc, Micros};

fn options(max_outbox_bytes: u64) -> StoreOptions {
    StoreOptions::new("paris-01", max_outbox_bytes)
}

fn epc(n: u8) -> Epc {
    Epc::from_slice(&[0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0, n]).unwrap()
}

/// A delta where tag `n` arrives in `zone` and the count of (zone, sku) goes from `count - 1` to `count`.
fn arrival(n: u8, zone: &str, sku: &str, count: u32) -> Delta {
    Delta {
        time: Micros(1_776_939_300_000_000 + u64::from(n)),
        changes: vec![CountChange {
            zone: Arc::from(zone),
            sku: Arc::from(sku),
            delta: 1,
            count,
        }],
        tag_changes: vec![TagChange {
            epc: epc(n),
            placement: Some(Placement {
                zone: Arc::from(zone),
                sku: Arc::from(sku),
            }),
            departure: None,
        }],
    }
}

fn departure(n: u8, zone: &str, sku: &str, count: u32) -> Delta {
    Delta {
        time: Micros(1_776_939_400_000_000),
        changes: vec![CountChange {
            zone: Arc::from(zone),
            sku: Arc::from(sku),
            delta: -1,
            count,
        }],
        tag_changes: vec![TagChange {
            epc: epc(n),
            placement: None,
            departure: None,
        }],
    }
}

fn unacked(store: &Store) -> Vec<OutboxItem> {
    store.unacked().unwrap().collect::<Result<_, _>>().unwrap()
}

fn seqs(store: &Store) -> Vec<u64> {
    unacked(store)
        .into_iter()
        .filter_map(|i| match i {
            OutboxItem::Delta { seq, .. } => Some(seq),
            OutboxItem::Resync(_) => None,
        })
        .collect()
}

#[test]
fn commit_persists_state_and_message_and_seq_resumes_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let opened = Store::open(&path, options(1 << 20)).unwrap();
    assert!(opened.created);
    assert!(opened.tags.is_empty());
    let store = opened.store;
    let epoch = store.epoch().to_owned();
    // A UUIDv7: new epochs sort by creation time as plain strings.
    assert_eq!(epoch.len(), 36);
    assert_eq!(&epoch[14..15], "7", "{epoch}");
    assert_eq!(store.last_seq(), 0);

    let c1 = store.commit(&arrival(1, "floor", "A", 1)).unwrap().unwrap();
    let c2 = store.commit(&arrival(2, "floor", "A", 2)).unwrap().unwrap();
    assert_eq!((c1.seq, c2.seq), (1, 2));
    let text = String::from_utf8(c1.payloads[0].clone()).unwrap();
    assert!(
        text.starts_with(&format!(
            r#"{{"schema":"tagtally.delta/1","store":"paris-01","epoch":"{epoch}","seq":1,"time":"2026-04-23T10:15:00.000Z""#
        )),
        "{text}"
    );
    drop(store);

    let opened = Store::open(&path, options(1 << 20)).unwrap();
    assert!(!opened.created);
    assert_eq!(opened.tags.len(), 2);
    assert_eq!(&*opened.tags[0].zone, "floor");
    let store = opened.store;
    assert_eq!(store.epoch(), epoch, "epoch is fixed at creation");
    assert_eq!(store.last_seq(), 2);
    let items = unacked(&store);
    assert_eq!(
        items[0],
        OutboxItem::Delta {
            seq: 1,
            payload: c1.payloads[0].clone()
        },
        "byte-identical re-send"
    );
    let c3 = store
        .commit(&departure(1, "floor", "A", 1))
        .unwrap()
        .unwrap();
    assert_eq!(c3.seq, 3);
}

#[test]
fn ack_removes_exactly_one_delta() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(DATABASE_FILE), options(1 << 20))
        .unwrap()
        .store;
    for n in 1..=3 {
        store
            .commit(&arrival(n, "floor", "A", u32::from(n)))
            .unwrap();
    }
    assert!(store.ack(2).unwrap());
    assert!(!store.ack(2).unwrap(), "second ack of the same seq");
    assert!(!store.ack(99).unwrap());
    assert_eq!(seqs(&store), vec![1, 3]);
    assert_eq!(
        store
            .unacked_from(2)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .len(),
        1
    );
    let stats = store.outbox_stats();
    assert_eq!(stats.deltas, 2);
    store.ack(1).unwrap();
    store.ack(3).unwrap();
    assert_eq!(store.outbox_stats().bytes, 0);
}

#[test]
fn a_burst_of_acks_leaves_together_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    {
        let store = Store::open(&path, options(1 << 20)).unwrap().store;
        for n in 1..=5 {
            store
                .commit(&arrival(n, "floor", "A", u32::from(n)))
                .unwrap();
        }
        let before = store.outbox_stats();
        // 2 twice and 99 never existed: only the three real, unacked seqs count.
        assert_eq!(store.ack_all(&[2, 4, 2, 99, 5]).unwrap(), 3);
        assert_eq!(store.ack_all(&[2, 4]).unwrap(), 0, "acked before");
        assert_eq!(seqs(&store), vec![1, 3]);
        let after = store.outbox_stats();
        assert_eq!(after.deltas, 2);
        assert!(after.bytes < before.bytes && after.bytes > 0);
    }
    let reopened = Store::open(&path, options(1 << 20)).unwrap().store;
    assert_eq!(
        seqs(&reopened),
        vec![1, 3],
        "the burst was committed durably"
    );
    assert_eq!(reopened.outbox_stats().deltas, 2);
}

#[test]
fn a_flush_that_changes_no_count_uses_no_seq() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let store = Store::open(&path, options(1 << 20)).unwrap().store;
    store.commit(&arrival(1, "floor", "A", 1)).unwrap();
    let swap = Delta {
        time: Micros(5),
        changes: vec![],
        tag_changes: vec![TagChange {
            epc: epc(1),
            placement: Some(Placement {
                zone: Arc::from("floor"),
                sku: Arc::from("A"),
            }),
            departure: None,
        }],
    };
    assert_eq!(store.commit(&swap).unwrap(), None);
    assert_eq!(store.last_seq(), 1);
}

#[test]
fn overflow_folds_the_oldest_into_one_resync_range_and_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let store = Store::open(&path, options(600)).unwrap().store;
    let mut folded = 0;
    for n in 1..=10u8 {
        folded += store
            .commit(&arrival(n, "floor", "A", u32::from(n)))
            .unwrap()
            .unwrap()
            .folded_now;
    }
    let stats = store.outbox_stats();
    assert!(stats.bytes <= 600, "{stats:?}");
    assert_eq!(stats.folded_deltas, folded);
    assert!(folded > 0);
    let items = unacked(&store);
    let OutboxItem::Resync(r) = items[0] else {
        panic!("resync comes first: {items:?}");
    };
    assert_eq!(r.first_seq, 1);
    assert_eq!(r.last_seq, folded);
    assert_eq!(
        seqs(&store).first(),
        Some(&(folded + 1)),
        "no gap after the range"
    );
    assert_eq!(*seqs(&store).last().unwrap(), 10);
    drop(store);

    let store = Store::open(&path, options(600)).unwrap().store;
    assert_eq!(
        store.outbox_stats().resync,
        Some(r),
        "resync survives a restart"
    );
    assert!(
        !store.ack_resync(r.last_seq - 1).unwrap(),
        "snapshot too old"
    );
    assert!(store.ack_resync(10).unwrap());
    assert!(matches!(unacked(&store)[0], OutboxItem::Delta { .. }));
    assert_eq!(store.outbox_stats().folded_deltas, folded);
}

#[test]
fn the_newest_delta_is_kept_even_alone_over_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(DATABASE_FILE), options(10))
        .unwrap()
        .store;
    store.commit(&arrival(1, "floor", "A", 1)).unwrap();
    let c = store.commit(&arrival(2, "floor", "A", 2)).unwrap().unwrap();
    assert_eq!(c.folded_now, 1);
    assert_eq!(seqs(&store), vec![2]);
    assert_eq!(
        store.outbox_stats().resync,
        Some(Resync {
            first_seq: 1,
            last_seq: 1
        })
    );
}

#[test]
fn a_delta_that_does_not_fit_the_stored_counts_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(DATABASE_FILE), options(1 << 20))
        .unwrap()
        .store;
    store.commit(&arrival(1, "floor", "A", 1)).unwrap();
    let err = store.commit(&arrival(2, "floor", "A", 5)).unwrap_err();
    assert!(
        matches!(err, StoreError::DeltaMismatch { stored: 1, .. }),
        "{err}"
    );
    assert_eq!(store.last_seq(), 1);
    assert_eq!(seqs(&store), vec![1]);
}

const COUNTS: TableDefinition<(&str, &str), u32> = TableDefinition::new("counts");
const TAGS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tags");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");

/// Builds a store with two tags, then lets `tamper` edit the file behind its back.
fn tampered(tamper: impl FnOnce(&Database)) -> (tempfile::TempDir, StoreError) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    {
        let store = Store::open(&path, options(1 << 20)).unwrap().store;
        store.commit(&arrival(1, "floor", "A", 1)).unwrap();
        store.commit(&arrival(2, "floor", "A", 2)).unwrap();
    }
    {
        let db = Database::open(&path).unwrap();
        tamper(&db);
    }
    let err = Store::open(&path, options(1 << 20)).unwrap_err();
    (dir, err)
}

fn write(db: &Database, f: impl FnOnce(&redb::WriteTransaction)) {
    let txn = db.begin_write().unwrap();
    f(&txn);
    txn.commit().unwrap();
}

fn assert_corrupt_with_way_out(err: &StoreError, path: &Path, needle: &str) {
    let text = err.to_string();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{text}");
    assert!(text.contains(needle), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("mv "), "names the way out: {text}");
}

#[test]
fn counts_that_differ_from_the_recount_refuse_to_open() {
    let (dir, err) = tampered(|db| {
        write(db, |t| {
            t.open_table(COUNTS)
                .unwrap()
                .insert(("floor", "A"), 3)
                .unwrap();
        })
    });
    assert_corrupt_with_way_out(
        &err,
        &dir.path().join(DATABASE_FILE),
        "count of floor/A is 3 but 2",
    );
}

#[test]
fn a_count_without_tags_refuses_to_open() {
    let (dir, err) = tampered(|db| {
        write(db, |t| {
            t.open_table(COUNTS)
                .unwrap()
                .insert(("back", "B"), 1)
                .unwrap();
        })
    });
    assert_corrupt_with_way_out(&err, &dir.path().join(DATABASE_FILE), "back/B");
}

#[test]
fn a_garbage_tag_record_refuses_to_open() {
    let (dir, err) = tampered(|db| {
        write(db, |t| {
            t.open_table(TAGS)
                .unwrap()
                .insert(epc(1).as_bytes(), &[0xFFu8, 0xFF, 0xFF][..])
                .unwrap();
        })
    });
    assert_corrupt_with_way_out(&err, &dir.path().join(DATABASE_FILE), "does not decode");
}

#[test]
fn an_outbox_seq_at_or_above_next_seq_refuses_to_open() {
    let (dir, err) = tampered(|db| {
        write(db, |t| {
            t.open_table(OUTBOX).unwrap().insert(3, &b"{}"[..]).unwrap();
        })
    });
    assert_corrupt_with_way_out(&err, &dir.path().join(DATABASE_FILE), "seq 3");
}

#[test]
fn another_schema_version_is_refused() {
    let (_dir, err) = tampered(|db| {
        write(db, |t| {
            t.open_table(META)
                .unwrap()
                .insert("schema_version", 9)
                .unwrap();
        })
    });
    assert!(
        matches!(
            err,
            StoreError::UnsupportedSchema {
                found: 9,
                supported: tagtally::store::LAYOUT_VERSION,
                ..
            }
        ),
        "{err}"
    );
}
