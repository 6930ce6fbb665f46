//! The daemon (`tagtally run`, and the daemon inside `tagtally demo`): wires readers, engine, store,
//! uplink and control socket together, in a fixed start-up order, and takes them down again cleanly.
//!
//! # Start-up order
//!
//! 1. the config plan (`crate::plan`), checked by whoever called `run` — `tagtally run` exits 78 on
//!    any problem there, with the same `FILE:LINE:COL: message` lines as `check-config`;
//! 2. the state store: created if missing, else opened and checked (I/O errors exit 74, an inconsistent
//!    database exits 65 with the way out in the message);
//! 3. the engine, restored from the stored tag state (tags count again at once; their departure
//!    timers wait for coverage);
//! 4. the uplink (connects in the background; deltas wait in the outbox meanwhile);
//! 5. the first flush and the start-up snapshot;
//! 6. the reader tasks (one span each, supervised);
//! 7. the control socket, and the metrics endpoint when `metrics-listen` is set;
//! 8. `READY=1` to systemd, then the watchdog.
//!
//! # Tasks and what each waits on
//!
//! | task | file | waits on |
//! |---|---|---|
//! | engine | `engine_task.rs` | shutdown, uplink events, flush tick, snapshot tick, reader outputs |
//! | reader (one per reader) | `supervisor.rs` | its driver's outputs (forwarded), shutdown, restart delay |
//! | driver (one per reader) | `reader-drivers` | transport bytes, session timer, shutdown |
//! | uplink | `uplink/task.rs` | MQTT events, input wake-ups, retry/grace timers |
//! | control server (+ one per client) | `control/server.rs` | accept, requests, shutdown |
//! | watchdog | `watchdog.rs` | its tick (half `WATCHDOG_USEC`, else 5 s), shutdown |
//! | main | here | the stop signal (SIGTERM/SIGINT), or an engine failure |
//!
//! # When the state disk is full
//!
//! A commit (or an outbox deletion) that fails for lack of space — `ENOSPC`, `EDQUOT`, or `EFBIG` past a
//! file-size limit; SIGXFSZ is handled so that the limit gives `EFBIG` rather than a core dump — does not
//! stop the daemon, because a restart would not make room: it would only turn a full disk into a restart
//! loop with nothing draining the outbox. Instead (details in `engine_task.rs` and `held.rs`):
//! * the engine task holds the uncommitted delta in memory (later flushes fold into it; bounded by the
//!   tags and cells) and the acknowledgements it could not record, and retries every 5 s; nothing held is
//!   published, and a held delta commits with the next seq, so HQ sees no gap and no reused seq;
//! * the store reopens the database at its last commit at once, so the uplink keeps publishing the outbox;
//!   readers, the control socket and the watchdog carry on (the engine is alive, only not durable);
//! * it says so: one ERROR line (`state disk full: cannot commit to ...`), a WARN reminder every 5 min,
//!   an INFO line with the duration once it recovers, `"database":{"state":"disk_full",...}` in `status`,
//!   and `STATE DISK FULL` in systemd's `STATUS=` line.
//!
//! Every other store error — EIO, corruption, a delta that does not fit the stored counts, a reopened
//! file that is past the store's last commit — still stops the daemon with a non-zero exit: those are
//! not conditions that waiting cures, and the restart starts again from what the disk holds.
//!
//! # Shutdown
//!
//! The stop signal flips one watch channel. Readers stop (an LLRP reader gets its ROSpec deleted and the
//! connection closed); the engine takes their last outputs, flushes and commits once more (also what a
//! full disk held, whatever the retry cadence), gives the uplink up to `drain` to have the outbox
//! acknowledged, then stops it; the control socket is removed. Exit 0. If the disk is still full at that
//! last commit, the exit is 74 with a message that says up to which seq everything is committed and what
//! was not (the uncommitted changes are worked out again from the readers after the restart; unrecorded
//! acks mean identical re-sends). A failure of the engine task (any other store error) stops everything
//! the same way and exits non-zero: systemd restarts the daemon from the last commit.

mod backend;
mod book;
mod clock;
pub mod clock_sync;
mod engine_task;
mod error;
mod failure_log;
mod held;
pub mod logging;
pub mod metrics;
mod operations;
mod outbox_source;
mod published;
mod reader_board;
mod reload;
mod replenish;
mod signals;
mod snapshots;
mod supervisor;
mod watchdog;
mod zone_trust;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use crate::control::{ControlServer, ServerLimits, Stock, StockSnapshot, TailHub};
use crate::engine::Engine;
use crate::epcis::location::Locations;
use crate::epcis::stock_events::EventHistory;
use crate::notify;
use crate::operations::ZoneRoles;
use crate::plan::DaemonPlan;
use crate::store::{Opener, Store, DATABASE_FILE};

pub use clock::{ClockStep, DaemonClock, WallAnchor, STEP_THRESHOLD};
pub use error::RunError;
pub use published::{DiskFull, Health};
pub use reader_board::{ReaderTotals, READER_SCHEMA};
pub use signals::Signals;

use backend::DaemonBackend;
use engine_task::EngineTask;
use outbox_source::OutboxSource;
use published::{Progress, Published};
use reader_board::ReaderBoard;
use reload::{Readers, Reloader};

/// Reader outputs queued for the engine: about a flush interval of reports from a busy store; beyond
/// that, drivers wait (back-pressure) rather than grow memory.
const DRIVER_QUEUE: usize = 256;
/// Longest wait at shutdown for the engine's last commit and the uplink's drain (beyond `drain`).
const ENGINE_STOP_EXTRA: Duration = Duration::from_secs(15);

/// How the daemon runs, beyond its config.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Talk to systemd (READY, WATCHDOG, STATUS) when `NOTIFY_SOCKET` is set.
    pub notify: bool,
    /// Longest wait at shutdown for the broker to acknowledge the outbox.
    pub drain: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            notify: true,
            // Well within systemd's TimeoutStopSec=30s, with room for the readers and the uplink's own grace.
            drain: Duration::from_secs(10),
        }
    }
}

/// What a running daemon tells whoever started it once it is ready.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The state database's epoch.
    pub epoch: String,
    /// The database file.
    pub database: PathBuf,
    /// Tags restored as present.
    pub restored_tags: u64,
    /// From process start of `run` to ready.
    pub startup: Duration,
}

/// Where a reload reads the config again, and when it is asked for (`SIGHUP`, see
/// [`Signals::stop_requested`]).
#[derive(Debug)]
pub struct ReloadRequests {
    /// The config file the plan was loaded from.
    pub config: PathBuf,
    /// One message per reload asked for.
    pub requests: mpsc::Receiver<()>,
}

/// The next reload request; pending forever without a source of them.
async fn next_request(requests: &mut Option<mpsc::Receiver<()>>) -> Option<()> {
    match requests {
        Some(requests) => requests.recv().await,
        None => std::future::pending().await,
    }
}

/// Runs the daemon of `plan` until `stop` completes, then shuts down cleanly. `ready` is called
/// once READY. With `reload`, the config is read again and applied at each request (see
/// `reload.rs`).
pub async fn run(
    plan: DaemonPlan,
    options: RunOptions,
    stop: impl Future<Output = ()> + Send,
    reload: Option<ReloadRequests>,
    ready: impl FnOnce(&Ready) + Send,
) -> Result<(), RunError> {
    let started = Instant::now();
    let clock = DaemonClock::start();
    let build = crate::build_info::build_info();
    info!(version = build.version, commit = build.commit, store = %plan.config.store, "starting");
    if clock_sync::clock_sync() == crate::control::ClockSync::Unsynchronized {
        warn!("system clock not synchronised yet: published times follow it and step with it once NTP sets it (the unit waits for time-sync.target)");
    }

    // 1. Everything the config alone decides was decided by the plan.
    let DaemonPlan {
        config,
        engine: engine_config,
        readers: plans,
        uplink: mut uplink_settings,
        store: options_store,
        replenish,
    } = plan;

    // 2. The state store.
    std::fs::create_dir_all(&config.state_dir).map_err(|source| RunError::StateDir {
        path: config.state_dir.clone(),
        source,
    })?;
    let path = config.state_dir.join(DATABASE_FILE);
    let opener = Opener::file_with_cache(config.state_cache_bytes);
    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || Store::open_with(&path, options_store, opener))
            .await
            .map_err(|_| RunError::TaskEnded {
                task: "state store",
            })??
    };
    let store = Arc::new(opened.store);
    if opened.created {
        info!(database = %path.display(), epoch = %store.epoch(), "created the state database (new epoch)");
    }
    if let Some(from) = opened.upgraded_from {
        info!(database = %path.display(), from, to = crate::store::LAYOUT_VERSION, epoch = %store.epoch(), "upgraded the state database in place (same epoch, outbox kept)");
    }
    uplink_settings.identity = crate::uplink::StatusIdentity {
        epoch: store.epoch().to_owned(),
        boot: store.boot(),
        version: crate::build_info::build_info().version_with_commit(),
    };
    let layout = snapshots::SnapshotLayout {
        topics: uplink_settings.topics.clone(),
        v5: uplink_settings.protocol == crate::uplink::Protocol::V5,
    };
    store.set_max_delta_payload(layout.delta_budget(uplink_settings.max_message_bytes));
    store.set_max_epcis_payload(layout.epcis_budget(uplink_settings.max_message_bytes));
    let max_message_bytes = uplink_settings.max_message_bytes;
    if opened.adopted_store_name {
        info!(database = %path.display(), store = %store.store_name(), "the state database had no store name recorded (older layout); recorded this store's");
    }

    // 3. The engine, restored.
    let mut engine = Engine::new(&engine_config);
    let summary = engine.restore(opened.tags.iter().map(|t| t.as_restored()))?;
    drop(opened.tags);
    let outbox = store.outbox_stats();
    info!(
        tags = summary.tags,
        reclassified = summary.reclassified,
        in_retired_zones = summary.in_retired_zones,
        epoch = %store.epoch(),
        last_seq = store.last_seq(),
        outbox_deltas = outbox.deltas,
        "state restored"
    );

    // 4. The uplink.
    let uplink = crate::uplink::spawn(uplink_settings, OutboxSource::new(Arc::clone(&store)));
    let uplink_status = uplink.handle.status();

    // 5. The engine task, primed: first flush and the start-up snapshot.
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (driver_tx, driver_rx) = mpsc::channel(DRIVER_QUEUE);
    let tail = TailHub::default();
    let empty = Stock {
        store: config.store.clone(),
        epoch: store.epoch().to_owned(),
        seq: store.last_seq(),
        counts: Vec::new(),
        zones: ZoneRoles::from_config(&config).views(),
    };
    let (stock_tx, stock_rx) = watch::channel(Arc::new(StockSnapshot::new(empty)));
    let (health_tx, health_rx) = watch::channel(Arc::new(Health::default()));
    let progress = Arc::new(Progress::default());
    let (reconfigure_tx, reconfigure_rx) = mpsc::channel(1);
    let (operations_tx, operations_rx) = mpsc::channel(operations::OPERATION_QUEUE);
    let mut engine_task = EngineTask {
        engine,
        store: Arc::clone(&store),
        clock,
        wall: WallAnchor::new(
            clock.now(),
            clock::wall_micros(std::time::SystemTime::now()),
        ),
        uplink: uplink.handle.clone(),
        uplink_events: uplink.events,
        drivers: driver_rx,
        board: ReaderBoard::new(&config),
        tail: tail.clone(),
        stock_tx,
        health_tx,
        progress: Arc::clone(&progress),
        flush_interval: config.mqtt.flush_interval,
        snapshot_interval: config.mqtt.snapshot_interval,
        drain: options.drain,
        resync_snapshot: None,
        held: held::Held::default(),
        layout,
        max_message_bytes,
        settled: false,
        was_online: false,
        deferred_snapshot: None,
        commit_latency: crate::metrics::LatencyHistogram::default(),
        reconfigure: reconfigure_rx,
        roles: ZoneRoles::from_config(&config),
        replenish: replenish::ReplenishDesk::new(replenish),
        operations: operations::Operations::new(
            operations_rx,
            config.count_max_duration,
            clock.now(),
        ),
    };
    engine_task.prime().await?;
    let published = Published {
        stock: stock_rx,
        health: health_rx,
        progress,
    };

    // 6. Readers.
    let mut readers = Readers::spawn(plans.clone(), driver_tx.clone());
    let (mut reload_requests, mut reloader) = match reload {
        Some(reload) => (
            Some(reload.requests),
            Some(Reloader {
                path: reload.config,
                config: config.clone(),
                plans,
                driver_tx,
                reconfigure: reconfigure_tx,
            }),
        ),
        // Only reader tasks may hold a sender: the engine knows the readers are done when the
        // last one is gone.
        None => {
            drop(driver_tx);
            (None, None)
        }
    };

    // 7. The control socket.
    let server = ControlServer::bind(&config.control_socket, ServerLimits::default())?;
    let backend = Arc::new(DaemonBackend {
        store: config.store.clone(),
        epoch: store.epoch().to_owned(),
        database: path.clone(),
        clock,
        published: published.clone(),
        uplink: uplink_status.clone(),
        tail,
        stopping: shutdown_rx.clone(),
        events: config.epcis.as_ref().map(|epcis| EventHistory {
            store: Arc::clone(&store),
            locations: Locations::of(&config.store, epcis.gln.as_ref()),
        }),
        operations: operations_tx,
    });
    // 7b. The metrics endpoint, when configured (loopback only; the config loader checked that).
    let metrics = match config.metrics_listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|source| RunError::MetricsListen { address, source })?;
            let bound = listener.local_addr().unwrap_or(address);
            info!(address = %bound, "metrics endpoint listening: http://{bound}/metrics");
            Some(tokio::spawn(crate::metrics::serve(
                listener,
                Arc::clone(&backend),
                supervisor::stop_signal(shutdown_rx.clone()),
            )))
        }
        None => None,
    };
    let control = tokio::spawn(server.serve(backend, supervisor::stop_signal(shutdown_rx.clone())));
    let mut engine_handle = tokio::spawn(engine_task.run(shutdown_rx.clone()));

    // 8. Ready.
    let ready_info = Ready {
        epoch: store.epoch().to_owned(),
        database: path,
        restored_tags: summary.tags,
        startup: started.elapsed(),
    };
    info!(
        startup_ms = ready_info.startup.as_millis() as u64,
        control_socket = %config.control_socket.display(),
        readers = config.readers.len(),
        "ready"
    );
    let watchdog_period = notify::watchdog_period().filter(|_| options.notify);
    if options.notify {
        if let Err(e) = notify::notify("READY=1") {
            warn!(error = %e, "cannot notify systemd");
        }
        let watchdog = watchdog::Watchdog {
            period: watchdog_period,
            published,
            uplink: uplink_status,
            engine_limit: (config.mqtt.flush_interval * 3).max(Duration::from_secs(10)),
            uplink_limit: (config.mqtt.keep_alive * 3).max(Duration::from_secs(60)),
        };
        tokio::spawn(watchdog.run(shutdown_rx.clone()));
    }
    ready(&ready_info);

    // Run until asked to stop, or until the engine fails; reload when asked.
    tokio::pin!(stop);
    let early = loop {
        tokio::select! {
            () = &mut stop => break None,
            result = &mut engine_handle => break Some(result),
            Some(()) = next_request(&mut reload_requests) => {
                if let Some(reloader) = &mut reloader {
                    if options.notify {
                        let _ = notify::notify("RELOADING=1");
                    }
                    reloader.reload(&mut readers).await;
                    if options.notify {
                        let _ = notify::notify("READY=1");
                    }
                }
            }
        }
    };
    if options.notify {
        let _ = notify::notify("STOPPING=1");
    }
    let _ = shutdown_tx.send(true);

    // Readers first, so their last reads and link changes reach the engine; then nothing can send
    // to the engine any more, which is how it knows the readers are done.
    readers.stop().await;
    drop(reloader);
    let result = match early {
        Some(result) => result,
        None => {
            match tokio::time::timeout(options.drain + ENGINE_STOP_EXTRA, engine_handle).await {
                Ok(result) => result,
                Err(_) => {
                    error!("the engine did not finish its last commit in time");
                    Ok(Err(RunError::TaskEnded { task: "engine" }))
                }
            }
        }
    };
    let result = result.unwrap_or(Err(RunError::TaskEnded { task: "engine" }));
    if result.is_err() {
        // The engine is gone, so nobody drains the uplink: let it say offline and go.
        uplink.handle.shutdown();
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), uplink.task).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), control).await;
    if let Some(metrics) = metrics {
        let _ = tokio::time::timeout(Duration::from_secs(5), metrics).await;
    }
    match &result {
        Ok(()) => info!("stopped"),
        Err(e) => error!(error = %e, "stopped on an error"),
    }
    result
}
