//! Shared by the serial driver tests: run a driver task against an emulator and wait on what it
//! reports, with bounded timeouts instead of sleeps.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use tagtally_config::SerialPort;
use tagtally_core::{BackoffPolicy, Session};
use tagtally_reader_drivers::connect::Connect;
use tagtally_reader_drivers::driver::{run_session, DriverExit};
use tagtally_reader_drivers::serial_port::SerialConnector;
use tagtally_reader_drivers::{
    DriverCounters, DriverEvent, DriverOutput, SerialLinkTiming, TagRead,
};
use tagtally_sim::{EmulatedModule, Scenario, SerialListen, SerialSim, SerialSimOptions};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The longest any test waits for one thing to happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A driver task under test and everything it said so far.
pub struct DriverUnderTest {
    outputs: mpsc::Receiver<DriverOutput>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<DriverExit>>,
    pub reads: Vec<TagRead>,
    pub events: Vec<DriverEvent>,
    /// For each event, how many reads had arrived before it.
    reads_before_event: Vec<usize>,
    pub batches: usize,
}

/// Fast reconnects, so tests spend their time on behaviour, not on backoff.
pub fn quick_timing() -> SerialLinkTiming {
    SerialLinkTiming {
        reconnect: BackoffPolicy {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
        },
        ..SerialLinkTiming::default()
    }
}

impl DriverUnderTest {
    pub fn start<S, C>(session: S, connector: C) -> Self
    where
        S: Session + Send + 'static,
        C: Connect + 'static,
    {
        let (tx, rx) = mpsc::channel(64);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        let task = tokio::spawn(run_session(session, connector, tx, shutdown, |_| {}));
        Self {
            outputs: rx,
            stop: Some(stop_tx),
            task: Some(task),
            reads: Vec::new(),
            events: Vec::new(),
            reads_before_event: Vec::new(),
            batches: 0,
        }
    }

    fn take(&mut self, output: DriverOutput) {
        match output {
            DriverOutput::Reads(reads) => {
                self.batches += 1;
                self.reads.extend(reads);
            }
            DriverOutput::Event(event) => {
                self.reads_before_event.push(self.reads.len());
                self.events.push(event);
            }
        }
    }

    /// Collects outputs until `done` holds, failing the test after [`PATIENCE`].
    pub async fn until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.outputs.recv()).await {
                Ok(Some(output)) => self.take(output),
                Ok(None) => panic!("driver ended while waiting for {what}: {:?}", self.events),
                Err(_) => panic!(
                    "timed out waiting for {what}; events: {:?}; {} reads",
                    self.events,
                    self.reads.len()
                ),
            }
        }
    }

    /// Asks for a graceful stop and collects everything until the task ends.
    pub async fn stop(&mut self) -> DriverExit {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.outputs.recv()).await {
                Ok(Some(output)) => self.take(output),
                Ok(None) => break,
                Err(_) => panic!("driver did not stop; events: {:?}", self.events),
            }
        }
        let task = self.task.take().expect("stopped once");
        task.await.expect("driver task ran to the end")
    }

    pub fn link_ups(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, DriverEvent::LinkUp { .. }))
            .count()
    }

    pub fn link_downs(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                DriverEvent::LinkDown { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn reader_errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                DriverEvent::ReaderError { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    }

    /// The last counters reported.
    pub fn counters(&self) -> Option<DriverCounters> {
        self.events.iter().rev().find_map(|e| match e {
            DriverEvent::Counters { counters, .. } => Some(*counters),
            _ => None,
        })
    }

    /// Reads received after the `n`th `LinkUp` (1-based).
    pub fn reads_after_link_up(&self, n: usize) -> usize {
        self.events
            .iter()
            .zip(&self.reads_before_event)
            .filter(|(e, _)| matches!(e, DriverEvent::LinkUp { .. }))
            .nth(n.saturating_sub(1))
            .map_or(0, |(_, &before)| self.reads.len() - before)
    }
}

/// Runs `body` under a runtime-wide timeout so a hung test fails instead of hanging CI.
pub async fn bounded<F: Future<Output = ()>>(body: F) {
    tokio::time::timeout(Duration::from_secs(60), body)
        .await
        .expect("test finished within a minute");
}

/// Whether `epc` was read at least once.
pub fn has_epc(driver: &DriverUnderTest, epc: &str) -> bool {
    driver.reads.iter().any(|r| r.epc.to_string() == epc)
}

/// An emulated module on a real pseudo-terminal and a driver task reading it.
pub struct Bench {
    pub sim: SerialSim,
    pub driver: DriverUnderTest,
    _dir: tempfile::TempDir,
}

impl Bench {
    /// Starts `module` playing `scenario` on a pty linked at `tty` in a fresh temp dir (replugged
    /// 300 ms after an unplug), then a driver running `session` on that path at 115200 baud.
    pub async fn on_pty<M, S>(module: M, scenario: &Scenario, tty: &str, session: S) -> Self
    where
        M: EmulatedModule + 'static,
        S: Session + Send + 'static,
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let link: PathBuf = dir.path().join(tty);
        let sim = SerialSim::start(
            module,
            scenario,
            SerialListen::Pty {
                link: Some(link.clone()),
            },
            SerialSimOptions {
                replug_after: Duration::from_millis(300),
            },
        )
        .await
        .expect("emulator starts");
        let connector = SerialConnector::new(SerialPort::Device(link), 115_200);
        let driver = DriverUnderTest::start(session, connector);
        Bench {
            sim,
            driver,
            _dir: dir,
        }
    }
}
