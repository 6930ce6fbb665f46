//! Reader tasks: one per configured reader, each in its own tracing span, restarted if it ever ends
//! while the daemon still runs, and stopped gracefully (LLRP ROSpec removed, serial reading halted)
//! on shutdown.
//!
//! Each reader's driver sends into a small channel of its own that a forwarder drains into the
//! engine's bounded channel. The forwarder is where driver events are logged (inside the reader's
//! span), and where the end of a driver is noticed: its channel closes. Back-pressure passes through
//! unchanged: the forwarder awaits the engine's channel, the driver awaits the forwarder's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tagtally_reader_drivers::backoff::{jitter, Backoff};
use tagtally_reader_drivers::llrp::{LlrpDriver, LlrpSettings};
use tagtally_reader_drivers::serial_driver::DriverExit;
use tagtally_reader_drivers::serial_reader::SerialReader;
use tagtally_reader_drivers::{DriverEvent, DriverOutput};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{error, info, info_span, warn, Instrument};

use super::failure_log::{FailureBudget, FailureLog};
use crate::plan::{DriverSettings, PlannedReader};

/// Outputs one reader may have queued ahead of its forwarder: small, so back-pressure stays prompt.
const READER_QUEUE: usize = 4;
/// A restarted reader task that then ran this long is healthy again: the restart delay starts over.
const HEALTHY_AFTER: Duration = Duration::from_secs(60);

/// Starts every reader; the returned set finishes once all of them stopped (after `shutdown` turns true).
pub fn spawn(
    plans: Vec<PlannedReader>,
    out: mpsc::Sender<DriverOutput>,
    shutdown: watch::Receiver<bool>,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    let budget = FailureBudget::shared();
    for plan in plans {
        let span = info_span!("reader", reader = %plan.name, kind = plan.kind);
        let supervised = supervise(plan, out.clone(), shutdown.clone(), Arc::clone(&budget));
        set.spawn(supervised.instrument(span));
    }
    set
}

/// How one run of a driver ended.
enum End {
    /// Shutdown was asked and the driver stopped.
    Stopped,
    /// The engine is gone (the daemon is exiting).
    DaemonGone,
    /// The driver ended on its own: restart it.
    Ended,
}

async fn supervise(
    plan: PlannedReader,
    out: mpsc::Sender<DriverOutput>,
    shutdown: watch::Receiver<bool>,
    budget: Arc<FailureBudget>,
) {
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        let started = Instant::now();
        let end = match &plan.driver {
            DriverSettings::Llrp(settings) => {
                let failures = FailureLog::new(Arc::clone(&budget));
                run_llrp(settings.clone(), &out, shutdown.clone(), failures).await
            }
            DriverSettings::Serial(serial) => {
                // A session is consumed by its run: each (re)start gets a fresh one.
                let (reader, link) = &**serial;
                let driver = SerialReader::from_config(plan.id, reader, link);
                let failures = FailureLog::new(Arc::clone(&budget));
                run_serial(driver, &out, shutdown.clone(), failures).await
            }
        };
        match end {
            End::Stopped => {
                info!("reader stopped");
                return;
            }
            End::DaemonGone => return,
            End::Ended => {}
        }
        if *shutdown.borrow() {
            return;
        }
        if started.elapsed() >= HEALTHY_AFTER {
            backoff.reset();
        }
        let delay = backoff.next_delay(jitter());
        error!(
            retry_in_ms = delay.as_millis() as u64,
            "reader task ended unexpectedly; restarting it"
        );
        // The engine must see the link go away, or the reader's zones would stay covered.
        let down = DriverOutput::Event(DriverEvent::LinkDown {
            reader: plan.id,
            reason: "reader task ended; restarting".into(),
        });
        if out.send(down).await.is_err() {
            return;
        }
        let mut stop = shutdown.clone();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Resolves once `shutdown` turns true (or its sender is gone, which also means stop).
pub async fn stop_signal(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

async fn run_llrp(
    settings: LlrpSettings,
    out: &mpsc::Sender<DriverOutput>,
    shutdown: watch::Receiver<bool>,
    mut failures: FailureLog,
) -> End {
    let (tx, mut rx) = mpsc::channel(READER_QUEUE);
    let mut driver = Some(LlrpDriver::spawn(settings, tx));
    let stop = stop_signal(shutdown);
    tokio::pin!(stop);
    let mut stopping = false;
    loop {
        tokio::select! {
            item = rx.recv() => match item {
                Some(output) => {
                    log_output(&output, &mut failures);
                    if out.send(output).await.is_err() {
                        return End::DaemonGone;
                    }
                }
                // The driver task is gone (its sender dropped).
                None => return if stopping { End::Stopped } else { End::Ended },
            },
            () = &mut stop, if !stopping => {
                stopping = true;
                if let Some(d) = driver.take() {
                    // Runs beside the forwarding: the driver's last outputs (link down) must still flow.
                    tokio::spawn(d.shutdown());
                }
            }
        }
    }
}

async fn run_serial(
    driver: SerialReader,
    out: &mpsc::Sender<DriverOutput>,
    shutdown: watch::Receiver<bool>,
    mut failures: FailureLog,
) -> End {
    let (tx, mut rx) = mpsc::channel(READER_QUEUE);
    let stopped = shutdown.clone();
    let run = driver.run(tx, stop_signal(shutdown));
    let forward = async {
        while let Some(output) = rx.recv().await {
            log_output(&output, &mut failures);
            if out.send(output).await.is_err() {
                return false;
            }
        }
        true
    };
    let (exit, delivered) = tokio::join!(run, forward);
    match exit {
        DriverExit::OutputClosed if !delivered => End::DaemonGone,
        _ if *stopped.borrow() => End::Stopped,
        _ => End::Ended,
    }
}

/// Logs what a technician should see in the journal; reads are not logged, counters only as
/// failed connection attempts (rate-limited).
fn log_output(output: &DriverOutput, failures: &mut FailureLog) {
    let DriverOutput::Event(event) = output else {
        return;
    };
    match event {
        DriverEvent::LinkUp { info, .. } => {
            info!(model = %info.model, firmware = %info.firmware, "link up")
        }
        DriverEvent::LinkDown { reason, .. } => warn!(%reason, "link down"),
        DriverEvent::Antenna {
            antenna, connected, ..
        } => {
            if *connected {
                info!(antenna, "antenna connected");
            } else {
                warn!(antenna, "antenna disconnected");
            }
        }
        DriverEvent::ReaderError { message, .. } => warn!(%message, "reader reported an error"),
        DriverEvent::ClockSkew { skew_ms, .. } => {
            warn!(skew_ms, "reader clock is off; reads are stamped on arrival")
        }
        DriverEvent::Counters { counters, .. } => failures.counters(counters.failed_connects),
        DriverEvent::Heard { .. } => {}
    }
}
