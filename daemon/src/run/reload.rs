//! Config reload (`SIGHUP`, `systemctl reload`): the new config goes through the same plan as at
//! start ([`DaemonPlan::load`]); what only a restart can change is refused
//! ([`restart_only_changes`]); the rest applies without losing state.
//!
//! # How it applies
//!
//! 1. Main loads and checks the new plan. Any problem — in the file, or a change to `store`,
//!    `state-dir`, `control-socket`, `log-level` or `[mqtt]` — is logged as `FILE:LINE:COL:
//!    message` and the running config stays in force.
//! 2. When `[[reader]]` tables changed, main stops every reader task and waits for them: reader
//!    numbers (`ReaderId`, the index in the config) may change, and no output of the old numbering
//!    may reach the new engine. Readers whose tables did not change are not touched otherwise.
//! 3. The engine task takes what the stopped readers still had queued, commits a flush, and
//!    rebuilds the engine from the new zones, antennas and `sku-map` and from the tags as
//!    committed, exactly as at start-up: counts stay; tags of a removed zone leave, and tags whose
//!    SKU the new `sku-map` changes move, both published at the next flush as ordinary deltas (no
//!    gap, no new epoch); departures wait for their readers' coverage again, so nothing departs
//!    early. Readers still up count as up at once. Tags not yet arrived start their arrival window
//!    anew.
//! 4. Main starts the new readers.
//!
//! While the state disk is full (a flush held in memory), the engine cannot be rebuilt from what
//! is committed: the reload is refused and the old readers are started again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tagtally_config::Config;
use tagtally_reader_drivers::DriverOutput;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::engine::{CheckedEngineConfig, Engine, RestoreSummary};
use crate::operations::ZoneRoles;
use crate::plan::{restart_only_changes, DaemonPlan, PlannedReader};

use super::engine_task::{on_blocking_pool, EngineTask};
use super::error::RunError;
use super::reader_board::ReaderBoard;
use super::supervisor;

/// Longest wait for the readers to close their sessions (at a reload, and at shutdown).
pub(super) const READER_STOP: Duration = Duration::from_secs(10);

/// A reloaded plan for the engine task.
#[derive(Debug)]
pub struct Reconfigure {
    /// The new store layout.
    pub engine: CheckedEngineConfig,
    /// The board of the new readers, when the readers changed (their tasks are stopped).
    pub board: Option<ReaderBoard>,
    /// The zones' roles in the new config.
    pub roles: ZoneRoles,
    /// The replenishment minimums in the new config.
    pub replenish: crate::plan::ReplenishPlan,
    /// The answer: what the rebuild restored, or why it could not happen now.
    pub done: oneshot::Sender<Result<RestoreSummary, String>>,
}

impl EngineTask {
    /// Applies a reloaded plan (step 3 of the module doc). An error is a store failure: the daemon
    /// must stop.
    pub(super) async fn reconfigure(&mut self, request: Reconfigure) -> Result<(), RunError> {
        // Outputs of stopped readers still queued carry the old numbering: take them first.
        while let Ok(output) = self.drivers.try_recv() {
            self.on_driver(output);
        }
        self.flush_commit().await?;
        if self.held.has_delta() {
            let _ = request.done.send(Err(
                "the state disk is full and changes are held in memory; reload again once it has room".to_owned(),
            ));
            return Ok(());
        }
        let mut engine = Engine::new(&request.engine);
        let store = Arc::clone(&self.store);
        let tags = on_blocking_pool(move || store.present_tags()).await??;
        let summary = engine.restore(tags.iter().map(|tag| tag.as_restored()))?;
        drop(tags);
        if let Some(board) = request.board {
            self.board = board;
        }
        let now = self.clock.now();
        for reader in self.board.up_readers() {
            engine.reader_up(reader, now);
        }
        self.engine = engine;
        self.roles = request.roles;
        self.replenish.reconfigure(request.replenish);
        self.publish_stock();
        self.publish_health();
        let _ = request.done.send(Ok(summary));
        Ok(())
    }
}

/// The running reader tasks, stoppable on their own (at a reload) before the daemon stops.
#[derive(Debug)]
pub(super) struct Readers {
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

impl Readers {
    /// Starts `plans`, sending into `out`.
    pub(super) fn spawn(plans: Vec<PlannedReader>, out: mpsc::Sender<DriverOutput>) -> Readers {
        let (stop, stopping) = watch::channel(false);
        Readers {
            tasks: supervisor::spawn(plans, out, stopping),
            stop,
        }
    }

    /// Stops every reader (LLRP ROSpecs deleted, serial reading halted) and waits for them, at
    /// most [`READER_STOP`]; then the stragglers are aborted.
    pub(super) async fn stop(&mut self) {
        let _ = self.stop.send(true);
        let tasks = &mut self.tasks;
        let done = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(READER_STOP, done).await.is_err() {
            warn!("readers did not stop in time; closing them");
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

/// What main keeps to apply a reload: where the config is, what runs, and the way to the engine.
#[derive(Debug)]
pub(super) struct Reloader {
    /// The config file, read again at each reload.
    pub path: PathBuf,
    /// The config in force.
    pub config: Config,
    /// The readers of the config in force, to start them again when a reload cannot apply.
    pub plans: Vec<PlannedReader>,
    /// Where reader tasks send (dropped at shutdown, so the engine sees the readers gone).
    pub driver_tx: mpsc::Sender<DriverOutput>,
    /// To the engine task.
    pub reconfigure: mpsc::Sender<Reconfigure>,
}

impl Reloader {
    /// Reads the config again and applies it, or logs why not (the running config stays).
    pub(super) async fn reload(&mut self, readers: &mut Readers) {
        info!(config = %self.path.display(), "reloading the config");
        let path = self.path.clone();
        let loaded = tokio::task::spawn_blocking(move || DaemonPlan::load(&path)).await;
        let plan = match loaded {
            Ok(Ok(plan)) => plan,
            Ok(Err(errors)) => return refused(errors.iter().map(ToString::to_string)),
            Err(_) => return refused(["the config could not be read".to_owned()].into_iter()),
        };
        let refusals = restart_only_changes(&self.config, &plan.config, &self.path);
        if !refusals.is_empty() {
            return refused(refusals.iter().map(ToString::to_string));
        }
        let readers_changed = self.config.readers != plan.config.readers;
        if readers_changed {
            readers.stop().await;
        }
        let (done, answer) = oneshot::channel();
        let request = Reconfigure {
            engine: plan.engine,
            board: readers_changed.then(|| ReaderBoard::new(&plan.config)),
            roles: ZoneRoles::from_config(&plan.config),
            replenish: plan.replenish.clone(),
            done,
        };
        // A closed channel or a dropped answer: the engine task ended, which main notices next.
        if self.reconfigure.send(request).await.is_err() {
            return;
        }
        let Ok(outcome) = answer.await else {
            return;
        };
        match outcome {
            Ok(summary) => {
                if readers_changed {
                    *readers = Readers::spawn(plan.readers.clone(), self.driver_tx.clone());
                    self.plans = plan.readers;
                }
                info!(
                    zones = plan.config.zones.len(),
                    readers = plan.config.readers.len(),
                    readers_restarted = readers_changed,
                    sku_map = plan.config.sku_map.len(),
                    tags = summary.tags,
                    reclassified = summary.reclassified,
                    in_removed_zones = summary.in_retired_zones,
                    "config reloaded"
                );
                self.config = plan.config;
            }
            Err(reason) => {
                if readers_changed {
                    *readers = Readers::spawn(self.plans.clone(), self.driver_tx.clone());
                }
                refused([reason].into_iter());
            }
        }
    }
}

fn refused(reasons: impl Iterator<Item = String>) {
    for reason in reasons {
        error!("reload refused: {reason}");
    }
    warn!("the running config stays in force");
}
