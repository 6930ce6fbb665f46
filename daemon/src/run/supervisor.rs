//! Reader tasks: one per configured reader, each in its own tracing span, running its session in
//! the drivers' one I/O loop, restarted if it ever ends while the daemon still runs, and stopped
//! gracefully (LLRP ROSpec removed, serial reading halted) on shutdown.
//!
//! The loop sends straight into the engine's bounded channel, so back-pressure reaches the reader
//! unchanged; driver events are logged on their way (inside the reader's span).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tagtally_core::{Backoff, BackoffPolicy};
use tagtally_reader_drivers::connect::TcpConnector;
use tagtally_reader_drivers::driver::{self, run_session, DriverExit};
use tagtally_reader_drivers::llrp::LlrpSession;
use tagtally_reader_drivers::serial_reader::SerialReader;
use tagtally_reader_drivers::{DriverEvent, DriverOutput};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{error, info, info_span, warn, Instrument};

use super::failure_log::{FailureBudget, FailureLog};
use crate::plan::{DriverSettings, PlannedReader};

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

async fn supervise(
    plan: PlannedReader,
    out: mpsc::Sender<DriverOutput>,
    shutdown: watch::Receiver<bool>,
    budget: Arc<FailureBudget>,
) {
    let mut backoff = Backoff::new(BackoffPolicy::STANDARD, fastrand::u64(..));
    loop {
        let started = Instant::now();
        let mut failures = FailureLog::new(Arc::clone(&budget));
        let observe = |output: &DriverOutput| log_output(output, &mut failures);
        let stop = stop_signal(shutdown.clone());
        // A session is consumed by its run: each (re)start gets a fresh one.
        let exit = match &plan.driver {
            DriverSettings::Llrp(settings) => {
                let connector = TcpConnector {
                    address: settings.address.clone(),
                };
                let session =
                    LlrpSession::new(settings.clone(), fastrand::u64(..), driver::now().instant);
                run_session(session, connector, out.clone(), stop, observe).await
            }
            DriverSettings::Serial(serial) => {
                let (reader, link) = &**serial;
                SerialReader::from_config(plan.id, reader, link, fastrand::u64(..))
                    .run(out.clone(), stop, observe)
                    .await
            }
        };
        match exit {
            // The engine is gone (the daemon is exiting).
            DriverExit::OutputClosed => return,
            DriverExit::Stopped if *shutdown.borrow() => {
                info!("reader stopped");
                return;
            }
            // Sessions finish only when asked to; anything else is restarted rather than lost.
            DriverExit::Stopped => {}
        }
        if started.elapsed() >= HEALTHY_AFTER {
            backoff.reset();
        }
        let delay = backoff.next_delay();
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
