//! The apply rules on a real PostgreSQL (started by the test in a temporary directory):
//! emulated stores' payloads delivered in random order with duplicates and losses, applied in
//! random batches by two concurrent appliers; the database must equal every store's truth.
//!
//! Skips with a notice when PostgreSQL is not installed; `.ci/run` sets
//! `TAGTALLY_REQUIRE_POSTGRES` so that a missing server fails there instead.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tagtally_contract::SnapshotReason;
use tagtally_hq::db::{connect, Applied, BatchApplier};
use tagtally_hq::fleet::{EmulatedStore, Publication, TempPostgres};
use tagtally_hq::requests::claim_due_gaps;
use tagtally_hq::wire::decode;

macro_rules! require_postgres {
    () => {
        if !TempPostgres::installed() {
            if std::env::var_os("TAGTALLY_REQUIRE_POSTGRES").is_some() {
                panic!("TAGTALLY_REQUIRE_POSTGRES is set but PostgreSQL is not installed");
            }
            eprintln!("skipping: PostgreSQL is not installed (apt-get install postgresql)");
            return;
        }
    };
}

type Truth = BTreeMap<(String, String), u64>;

async fn stock(client: &tokio_postgres::Client, store: &str) -> Truth {
    client
        .query(
            "SELECT zone, sku, count FROM hq_stock WHERE store = $1 AND count > 0",
            &[&store],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let count: i64 = row.get(2);
            ((row.get(0), row.get(1)), count as u64)
        })
        .collect()
}

fn truth(store: &EmulatedStore) -> Truth {
    store
        .counts()
        .iter()
        .map(|(pair, count)| (pair.clone(), u64::from(*count)))
        .collect()
}

/// Publishes a store's life: churn, snapshots (split), a restart, a wipe, lost deltas and the
/// snapshot a gap request brings at the end.
fn life(name: &str, rng: &mut fastrand::Rng, wipe: bool) -> (EmulatedStore, Vec<Publication>) {
    let mut store = EmulatedStore::new(name);
    let mut published = vec![store.status(true)];
    for index in 0..40 {
        if wipe && index == 15 {
            published.push(store.status(false));
            store.wipe();
            published.push(store.status(true));
        }
        if index == 25 {
            published.push(store.status(false));
            store.restart();
            published.push(store.status(true));
        }
        let delta = store.churn(rng, 3, 8, 4);
        if rng.u8(0..6) != 0 {
            published.push(delta);
        }
        if index % 9 == 0 {
            published.extend(store.snapshot(400, SnapshotReason::Interval));
        }
    }
    published.extend(store.snapshot(400, SnapshotReason::Request));
    published.push(store.status(true));
    (store, published)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_deliveries_in_concurrent_batches_equal_every_store_truth() {
    require_postgres!();
    let server = TempPostgres::start(false).await.expect("postgres starts");
    let url = server.create_database("apply").await.unwrap();
    let pool = connect(&url, None, 4).await.expect("connects and migrates");

    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut stores = Vec::new();
    let mut deliveries = Vec::new();
    for index in 0..6 {
        let name = format!("store-{index}");
        let (store, published) = life(&name, &mut rng, index % 2 == 0);
        for publication in published {
            let copies = 1 + usize::from(rng.u8(0..4) == 0);
            for _ in 0..copies {
                deliveries.push((name.clone(), publication.clone()));
            }
        }
        stores.push(store);
    }
    rng.shuffle(&mut deliveries);
    let messages: Vec<_> = deliveries
        .iter()
        .map(|(name, publication)| {
            let topic = format!("tagtally/v1/{name}/{}", publication.suffix);
            decode(
                "tagtally/v1",
                topic.as_bytes(),
                &publication.payload,
                1 << 20,
            )
            .unwrap()
        })
        .collect();

    // Two appliers take random-sized batches off one queue, as two instances would.
    let queue = Arc::new(Mutex::new(messages));
    let mut workers = Vec::new();
    for seed in 0..2u64 {
        let queue = Arc::clone(&queue);
        let applier = BatchApplier::new(pool.clone(), Duration::from_secs(5));
        workers.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed);
            loop {
                let batch: Vec<_> = {
                    let mut queue = queue.lock().unwrap();
                    let take = rng.usize(1..20).min(queue.len());
                    queue.drain(..take).collect()
                };
                if batch.is_empty() {
                    return;
                }
                let applied = applier.apply(&batch).await.expect("batch applies");
                assert!(!applied.contains(&Applied::Refused), "{applied:?}");
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }

    let client = pool.get().await.unwrap();
    for store in &stores {
        assert_eq!(
            stock(&client, store.name()).await,
            truth(store),
            "{}",
            store.name()
        );
        let row = client
            .query_one(
                "SELECT epoch, applied_seq, online FROM hq_stores WHERE store = $1",
                &[&store.name()],
            )
            .await
            .unwrap();
        let (epoch, applied, online): (String, i64, bool) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            (epoch.as_str(), applied as u64),
            (store.epoch(), store.seq())
        );
        assert!(
            online,
            "{}: a stale offline hid the newer online",
            store.name()
        );
    }
    let gaps: i64 = client
        .query_one("SELECT count(*) FROM hq_gaps", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(gaps, 0, "every gap closed by the final snapshots");
    let pending: i64 = client
        .query_one("SELECT count(*) FROM hq_pending", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn a_gap_is_recorded_until_it_closes() {
    require_postgres!();
    let server = TempPostgres::start(false).await.expect("postgres starts");
    let url = server.create_database("gap").await.unwrap();
    let pool = connect(&url, None, 2).await.unwrap();
    let applier = BatchApplier::new(pool.clone(), Duration::from_secs(5));
    let mut store = EmulatedStore::new("lyon-2");
    let deltas: Vec<_> = (0..4)
        .map(|_| store.churn(&mut fastrand::Rng::with_seed(1), 2, 4, 2))
        .collect();
    let decode_delta = |publication: &Publication| {
        decode("p", b"p/lyon-2/delta", &publication.payload, 1 << 20).unwrap()
    };
    applier
        .apply(&[decode_delta(&deltas[0]), decode_delta(&deltas[3])])
        .await
        .unwrap();
    let client = pool.get().await.unwrap();
    let gap = client
        .query_one(
            "SELECT from_seq, to_seq FROM hq_gaps WHERE store = 'lyon-2'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((gap.get::<_, i64>(0), gap.get::<_, i64>(1)), (2, 4));
    applier
        .apply(&[decode_delta(&deltas[2]), decode_delta(&deltas[1])])
        .await
        .unwrap();
    let open: i64 = client
        .query_one("SELECT count(*) FROM hq_gaps", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(open, 0);
    assert_eq!(stock(&client, "lyon-2").await, truth(&store));
}

#[tokio::test]
async fn instances_starting_together_migrate_once() {
    require_postgres!();
    let server = TempPostgres::start(false).await.expect("postgres starts");
    let url = server.create_database("migrate").await.unwrap();
    let (first, second) = tokio::join!(connect(&url, None, 1), connect(&url, None, 1));
    let pool = first.expect("first instance");
    second.expect("second instance");
    let client = pool.get().await.unwrap();
    let rows: i64 = client
        .query_one("SELECT count(*) FROM hq_schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows as usize, tagtally_hq::db::MIGRATIONS.len());
}

/// Gap claims and applies lock a store's row before its gap row, both of them: a batch that
/// extends the gaps of many stores racing an instance that claims those gaps never deadlocks
/// (PostgreSQL would cancel one of them after `deadlock_timeout`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gap_claims_racing_applies_never_deadlock() {
    require_postgres!();
    let server = TempPostgres::start_with(false, &["deadlock_timeout=20ms"])
        .await
        .expect("postgres starts");
    let url = server.create_database("claims").await.unwrap();
    let pool = connect(&url, None, 4).await.unwrap();
    let applier = BatchApplier::new(pool.clone(), Duration::ZERO);
    let mut rng = fastrand::Rng::with_seed(11);
    let mut stores: Vec<EmulatedStore> = (0..16)
        .map(|index| EmulatedStore::new(&format!("store-{index:02}")))
        .collect();
    // Seq 1 of every store is lost: everything after it waits, and its gap grows.
    for store in &mut stores {
        store.churn(&mut rng, 2, 6, 2);
    }
    let mut batches = Vec::new();
    for _ in 0..40 {
        let batch: Vec<_> = stores
            .iter_mut()
            .map(|store| {
                let delta = store.churn(&mut rng, 2, 6, 2);
                let topic = format!("tagtally/v1/{}/delta", store.name());
                decode("tagtally/v1", topic.as_bytes(), &delta.payload, 1 << 20).unwrap()
            })
            .collect();
        batches.push(batch);
    }
    let claims = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut asks = 0;
            for _ in 0..200 {
                let claimed = claim_due_gaps(&pool, "tagtally/v1", Duration::ZERO, Duration::ZERO)
                    .await
                    .expect("a claim never fails against applies");
                asks += claimed.len();
                tokio::task::yield_now().await;
            }
            asks
        })
    };
    for batch in &batches {
        applier.apply(batch).await.expect("batch applies");
    }
    let asks = claims.await.unwrap();
    assert!(asks > 0, "the gaps were claimed");
}
