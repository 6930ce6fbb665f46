//! The load of `tagtally bench hq`: every store commits and publishes deltas at its rate
//! (phases spread evenly), a periodic snapshot each per snapshot interval (spread too), and, while
//! faults are on, duplicates, lost deltas, restarts with a late `offline`, and wipes.
//!
//! Publish times are taken just before a message is handed to the publishing client, so a
//! latency measured from them includes any queueing in the client and the broker.

use crate::fleet::Fleet;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
use tagtally_contract::SnapshotReason;
use tokio::sync::watch;

/// Zones per store.
pub const ZONES: u32 = 4;
/// SKUs per store.
pub const SKUS: u32 = 250;
/// (zone, sku) pairs a delta changes.
pub const PAIRS_PER_DELTA: usize = 4;
/// Work is scheduled in ticks this long.
const TICK: Duration = Duration::from_millis(10);

/// What the driver does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Publish, record publish times, inject faults if `faults`.
    Measured {
        /// Whether faults are injected.
        faults: bool,
    },
    /// Publish only (an outage, a catch-up: nothing recorded, no faults).
    Quiet,
    /// Stop publishing and return.
    Stop,
}

/// Publish times of the measured phase.
#[derive(Debug, Default)]
pub struct Recorded {
    /// (store, epoch, seq) → when the delta was handed to the client.
    pub deltas: HashMap<(String, String, u64), SystemTime>,
    /// store → (snapshot id, when) of its last periodic snapshot.
    pub snapshots: HashMap<String, (String, SystemTime)>,
    /// Deltas committed by a store and never published (lost on the way).
    pub lost: u64,
    /// Deltas published twice.
    pub duplicated: u64,
    /// Restarts (with a late `offline`).
    pub restarts: u64,
    /// Wipes (new epochs).
    pub wipes: u64,
}

/// What every phase counts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Published {
    /// Deltas published.
    pub deltas: u64,
    /// Snapshots published (all parts of one count once).
    pub snapshots: u64,
}

/// The shared record, locked briefly by the driver and read by the bench between phases.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    recorded: Arc<Mutex<Recorded>>,
    published: Arc<Mutex<Published>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// The measured phase's record.
    pub fn recorded(&self) -> MutexGuard<'_, Recorded> {
        lock(&self.recorded)
    }

    /// Counts so far.
    pub fn published(&self) -> Published {
        *lock(&self.published)
    }
}

/// Drives `names` at `rate` deltas per second each until the phase says stop.
pub async fn drive(
    fleet: Arc<Fleet>,
    names: Vec<String>,
    rate: f64,
    snapshot_interval: Duration,
    mut phase: watch::Receiver<Phase>,
    shared: Shared,
    seed: u64,
) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let stores = names.len().max(1) as f64;
    let started = Instant::now();
    let mut deltas_done: u64 = 0;
    let mut snapshots_done: u64 = 0;
    let mut fault_clock = Instant::now();
    let mut faults_done: u64 = 0;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let now = *phase.borrow_and_update();
        let (record, faults) = match now {
            Phase::Measured { faults } => (true, faults),
            Phase::Quiet => (false, false),
            Phase::Stop => return,
        };
        let elapsed = started.elapsed().as_secs_f64();
        let deltas_due = (elapsed * rate * stores) as u64;
        while deltas_done < deltas_due {
            let name = &names[(deltas_done % names.len() as u64) as usize];
            deltas_done += 1;
            let mut store_rng = fastrand::Rng::with_seed(rng.u64(..));
            let mut key = None;
            let at = SystemTime::now();
            fleet
                .act(name, |store, _| {
                    let delta = store.churn(&mut store_rng, ZONES, SKUS, PAIRS_PER_DELTA);
                    key = Some((name.clone(), store.epoch().to_owned(), store.seq()));
                    vec![delta]
                })
                .await;
            lock(&shared.published).deltas += 1;
            if let (true, Some(key)) = (record, key) {
                shared.recorded().deltas.insert(key, at);
            }
        }
        let snapshots_due = (elapsed / snapshot_interval.as_secs_f64() * stores) as u64;
        while snapshots_done < snapshots_due {
            let name = &names[(snapshots_done % names.len() as u64) as usize];
            snapshots_done += 1;
            let mut id = None;
            let at = SystemTime::now();
            fleet
                .act(name, |store, max| {
                    let parts = store.snapshot(max, SnapshotReason::Interval);
                    id = parts.first().and_then(|part| {
                        serde_json::from_slice::<serde_json::Value>(&part.payload)
                            .ok()?
                            .get("snapshot_id")?
                            .as_str()
                            .map(str::to_owned)
                    });
                    parts
                })
                .await;
            lock(&shared.published).snapshots += 1;
            if let (true, Some(id)) = (record, id) {
                shared.recorded().snapshots.insert(name.clone(), (id, at));
            }
        }
        if faults && fault_clock.elapsed() >= Duration::from_secs(1) {
            fault_clock = Instant::now();
            faults_done += 1;
            let name = &names[rng.usize(..names.len())];
            inject(&fleet, name, faults_done, &mut rng, &shared).await;
        }
    }
}

/// One fault a second, in turn: a duplicate, a lost delta, a restart every 10 s, a wipe
/// every 30 s.
async fn inject(fleet: &Fleet, name: &str, count: u64, rng: &mut fastrand::Rng, shared: &Shared) {
    if count.is_multiple_of(30) {
        fleet
            .act(name, |store, max| {
                let mut out = vec![store.status(false)];
                store.wipe();
                out.push(store.status(true));
                out.extend(store.snapshot(max, SnapshotReason::Startup));
                out
            })
            .await;
        shared.recorded().wipes += 1;
    } else if count.is_multiple_of(10) {
        fleet
            .act(name, |store, max| {
                let late_offline = store.status(false);
                store.restart();
                let mut out = vec![store.status(true)];
                out.extend(store.snapshot(max, SnapshotReason::Startup));
                out.push(late_offline);
                out
            })
            .await;
        shared.recorded().restarts += 1;
    } else if count.is_multiple_of(2) {
        let mut store_rng = fastrand::Rng::with_seed(rng.u64(..));
        fleet
            .act(name, |store, _| {
                // Committed by the store, lost on the way: the next delta opens a gap.
                store.churn(&mut store_rng, ZONES, SKUS, PAIRS_PER_DELTA);
                Vec::new()
            })
            .await;
        shared.recorded().lost += 1;
    } else {
        let mut sent = false;
        fleet
            .act(name, |store, _| {
                let again = store.replay(store.seq(), store.seq()).unwrap_or_default();
                sent = !again.is_empty();
                again
            })
            .await;
        if sent {
            shared.recorded().duplicated += 1;
        }
    }
}
