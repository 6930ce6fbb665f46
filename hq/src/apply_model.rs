//! The apply rules against ground truth, without a database: emulated stores publish real
//! payloads (deltas, split snapshots, status, restarts, wipes); the messages are delivered in a
//! random order, with duplicates and losses; after every message the stock must equal the
//! store's truth at the applied (epoch, seq), and at the end the truth itself.

use crate::apply::{apply, Outcome};
use crate::fleet::{EmulatedStore, Publication};
use crate::memory_ledger::MemoryLedger;
use crate::message::StoreMessage;
use crate::wire::decode;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tagtally_contract::SnapshotReason;

type Truth = BTreeMap<(String, String), u64>;

/// Runs a future of the in-memory ledger, which never waits.
fn now<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the memory ledger never waits"),
    }
}

/// Everything one emulated store published, and its truth at every (epoch, seq).
struct History {
    store: String,
    published: Vec<Publication>,
    truth: BTreeMap<(String, u64), Truth>,
    last: (String, u64),
}

#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    deltas: usize,
    snapshot_every: usize,
    per_part: usize,
    wipe_at: Option<usize>,
    restart_at: Option<usize>,
    lossy: bool,
}

fn plans() -> impl Strategy<Value = Plan> {
    (
        any::<u64>(),
        1usize..40,
        2usize..15,
        1usize..4,
        proptest::option::of(0usize..40),
        proptest::option::of(0usize..40),
        any::<bool>(),
    )
        .prop_map(
            |(seed, deltas, snapshot_every, per_part, wipe_at, restart_at, lossy)| Plan {
                seed,
                deltas,
                snapshot_every,
                per_part,
                wipe_at,
                restart_at,
                lossy,
            },
        )
}

/// Small enough that a dozen pairs take several parts.
fn part_bytes(plan: &Plan) -> usize {
    250 + 120 * plan.per_part
}

fn truth(store: &EmulatedStore) -> Truth {
    store
        .counts()
        .iter()
        .map(|(pair, count)| (pair.clone(), u64::from(*count)))
        .collect()
}

fn publish(name: &str, plan: &Plan, rng: &mut fastrand::Rng) -> History {
    let mut store = EmulatedStore::new(name);
    let mut history = History {
        store: name.to_owned(),
        published: vec![store.status(true)],
        truth: BTreeMap::new(),
        last: (String::new(), 0),
    };
    history
        .truth
        .insert((store.epoch().to_owned(), 0), Truth::new());
    for index in 0..plan.deltas {
        if plan.wipe_at == Some(index) {
            history.published.push(store.status(false));
            store.wipe();
            history
                .truth
                .insert((store.epoch().to_owned(), 0), Truth::new());
            history.published.push(store.status(true));
        }
        if plan.restart_at == Some(index) {
            history.published.push(store.status(false));
            store.restart();
            history.published.push(store.status(true));
        }
        let delta = store.churn(rng, 2, 6, 3);
        if !(plan.lossy && rng.u8(0..4) == 0) {
            history.published.push(delta);
        }
        history
            .truth
            .insert((store.epoch().to_owned(), store.seq()), truth(&store));
        if index % plan.snapshot_every == 0 {
            history
                .published
                .extend(store.snapshot(part_bytes(plan), SnapshotReason::Interval));
        }
    }
    if plan.lossy {
        // What the gap requests bring in the end: a snapshot covering the last seq.
        history
            .published
            .extend(store.snapshot(part_bytes(plan), SnapshotReason::Request));
    }
    history.published.push(store.status(true));
    history.last = (store.epoch().to_owned(), store.seq());
    history
}

fn check(plan: &Plan) -> Result<(), TestCaseError> {
    let mut rng = fastrand::Rng::with_seed(plan.seed);
    let histories: Vec<History> = ["north-1", "south_2"]
        .iter()
        .map(|name| publish(name, plan, &mut rng))
        .collect();
    let mut deliveries: Vec<(&History, &Publication)> = histories
        .iter()
        .flat_map(|history| history.published.iter().map(move |p| (history, p)))
        .flat_map(|delivery| std::iter::repeat_n(delivery, 1 + usize::from(rng.u8(0..4) == 0)))
        .collect();
    rng.shuffle(&mut deliveries);

    let mut ledger = MemoryLedger::default();
    for (history, publication) in deliveries {
        let topic = format!("p/{}/{}", history.store, publication.suffix);
        let message = decode("p", topic.as_bytes(), &publication.payload, 1 << 20)
            .map_err(|refusal| TestCaseError::fail(format!("{topic}: {refusal}")))?;
        let outcome = now(apply(&mut ledger, &message)).unwrap_or_else(|never| match never {});
        prop_assert_ne!(outcome, Outcome::PartRefused);
        let book = &ledger.stores[&history.store];
        if book.head.epoch.is_empty() {
            // Only parts of an incomplete snapshot heard of so far.
            prop_assert!(book.stock.is_empty());
            continue;
        }
        let at = (book.head.epoch.clone(), book.head.applied);
        let expected = history.truth.get(&at);
        prop_assert!(
            expected.is_some(),
            "applied {at:?} is no state the store had"
        );
        prop_assert_eq!(&book.nonzero_stock(), expected.unwrap(), "at {:?}", at);
        if let StoreMessage::Delta(_) = message {
            prop_assert_ne!(outcome, Outcome::PendingFull);
        }
    }
    for history in &histories {
        let book = &ledger.stores[&history.store];
        prop_assert_eq!(
            (book.head.epoch.clone(), book.head.applied),
            history.last.clone()
        );
        prop_assert_eq!(&book.nonzero_stock(), &history.truth[&history.last]);
        prop_assert_eq!(book.head.gap(), None);
        prop_assert!(book.pending.is_empty());
        prop_assert!(book.head.online, "the newest status is online");
        let mut once = HashSet::new();
        for applied in &book.applied_log {
            prop_assert!(once.insert(applied.clone()), "{applied:?} applied twice");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn stock_equals_the_store_truth_whatever_the_delivery_order(plan in plans()) {
        check(&plan)?;
    }
}

#[test]
fn a_stale_offline_never_hides_a_newer_online() {
    let mut store = EmulatedStore::new("s");
    let old_offline = store.status(false);
    store.restart();
    let online = store.status(true);
    let mut ledger = MemoryLedger::default();
    for publication in [&online, &old_offline] {
        let message = decode("p", b"p/s/status", &publication.payload, 4096).unwrap();
        now(apply(&mut ledger, &message)).unwrap_or_else(|never| match never {});
    }
    assert!(ledger.stores["s"].head.online);
}

#[test]
fn a_new_epoch_starts_over_and_the_old_one_is_ignored_after() {
    let mut store = EmulatedStore::new("s");
    let old = store.commit(&[("f".into(), "x".into(), 5)]);
    store.wipe();
    let new = store.commit(&[("f".into(), "y".into(), 1)]);
    let mut ledger = MemoryLedger::default();
    let mut outcomes = Vec::new();
    for publication in [&old, &new, &old] {
        let message = decode("p", b"p/s/delta", &publication.payload, 4096).unwrap();
        outcomes.push(now(apply(&mut ledger, &message)).unwrap_or_else(|never| match never {}));
    }
    assert_eq!(
        outcomes,
        [
            Outcome::Applied { drained: 0 },
            Outcome::Applied { drained: 0 },
            Outcome::OlderEpoch
        ]
    );
    assert_eq!(ledger.stores["s"].nonzero_stock(), truth(&store));
}

#[test]
fn parts_that_disagree_on_their_snapshot_are_refused() {
    let mut store = EmulatedStore::new("s");
    for count in 1..=4 {
        store.commit(&[("f".into(), format!("sku-{count}"), count)]);
    }
    let parts = store.snapshot(300, SnapshotReason::Interval);
    assert!(parts.len() >= 2);
    let mut forged: serde_json::Value = serde_json::from_slice(&parts[1].payload).unwrap();
    forged["seq"] = 3.into();
    let mut ledger = MemoryLedger::default();
    let first = decode("p", b"p/s/snapshot", &parts[0].payload, 4096).unwrap();
    assert_eq!(
        now(apply(&mut ledger, &first)).unwrap_or_else(|never| match never {}),
        Outcome::PartKept
    );
    let forged = decode("p", b"p/s/snapshot/2", forged.to_string().as_bytes(), 4096).unwrap();
    assert_eq!(
        now(apply(&mut ledger, &forged)).unwrap_or_else(|never| match never {}),
        Outcome::PartRefused
    );
    let mut outcomes = Vec::new();
    for part in &parts[1..] {
        let topic = format!("p/s/{}", part.suffix);
        let message = decode("p", topic.as_bytes(), &part.payload, 4096).unwrap();
        outcomes.push(now(apply(&mut ledger, &message)).unwrap_or_else(|never| match never {}));
    }
    assert_eq!(
        outcomes.last(),
        Some(&Outcome::SnapshotApplied { drained: 0 })
    );
    assert_eq!(ledger.stores["s"].nonzero_stock(), truth(&store));
}
