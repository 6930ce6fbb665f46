//! The LLRP reader emulator: a TCP server behaving like a fixed reader, driven by a scenario, usable as a library (`LlrpSim`) and by `tagtally sim llrp`.
//!
//! One client at a time: a second one gets a ConnectionAttemptEvent with status 2
//! ("client-initiated connection already exists") and is closed, and the first one hears status
//! 4 ("another connection attempted"). ROSpecs and configuration live in the emulator, not in
//! the connection, so they survive a client that vanishes, as on a real reader; inventory runs
//! only while a client is connected. Faults come from the scenario's `[[fault]]` schedule or
//! from [`LlrpSim::inject`].

mod connection;
pub mod probe;
pub mod reader_state;
pub mod report_encoder;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use tagtally_protocol::llrp::{
    ConnectionAttemptStatus, Message, ReaderEvent, ReaderEventNotificationData, RoSpec,
};

pub use connection::SimStats;
use connection::{lock, serve, ClientSlot, Command, Shared};
pub use probe::{ProbeRead, ProbeTap};
use reader_state::{ReaderState, Rejection};

use super::scenario::{Fault, Scenario};
use super::tag_field::TagField;

/// A running LLRP reader emulator. Dropping it stops the server and every connection.
#[derive(Debug)]
pub struct LlrpSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl LlrpSim {
    /// Binds `listen` (port 0 picks a free one) and serves `scenario` until dropped.
    pub async fn start(listen: impl ToSocketAddrs, scenario: Scenario) -> io::Result<LlrpSim> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(ReaderState::new(&scenario)),
            field: Mutex::new(TagField::new(&scenario)),
            stats: Mutex::new(SimStats::default()),
            client: Mutex::new(None),
            probes: Mutex::new(None),
            started: Instant::now(),
            scenario,
        });
        let mut tasks = vec![tokio::spawn(accept_loop(listener, Arc::clone(&shared)))];
        for spec in shared.scenario.faults.clone() {
            let shared = Arc::clone(&shared);
            let period = spec.every.or(shared.scenario.repeat_after);
            tasks.push(tokio::spawn(async move {
                let mut at = shared.started + spec.at;
                loop {
                    tokio::time::sleep_until(at).await;
                    inject(&shared, spec.fault.clone());
                    match period {
                        Some(p) if !p.is_zero() => at += p,
                        _ => break,
                    }
                }
            }));
        }
        Ok(LlrpSim {
            addr,
            shared,
            tasks,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Injects a fault now. Returns false when it needs a connected client and there is none
    /// (`reject-add-rospec` and `antenna-event` also apply with no client).
    pub fn inject(&self, fault: Fault) -> bool {
        inject(&self.shared, fault)
    }

    /// The ROSpecs the emulated reader holds now.
    pub fn rospecs(&self) -> Vec<RoSpec> {
        lock(&self.shared.state).rospecs().to_vec()
    }

    /// Counters so far.
    pub fn stats(&self) -> SimStats {
        *lock(&self.shared.stats)
    }

    /// Reports every read of the tap's EPCs once the report carrying it is written to the client
    /// (replacing any earlier tap): see [`probe`].
    pub fn tap_probes(&self, tap: ProbeTap) {
        *lock(&self.shared.probes) = Some(Arc::new(tap));
    }

    /// True while a client holds the reader.
    pub fn has_client(&self) -> bool {
        lock(&self.shared.client)
            .as_ref()
            .is_some_and(|slot| !slot.commands.is_closed())
    }
}

impl Drop for LlrpSim {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn inject(shared: &Shared, fault: Fault) -> bool {
    match &fault {
        Fault::RejectAddRospec {
            status,
            description,
            times,
        } => {
            lock(&shared.state).rejection = Some(Rejection {
                status: *status,
                description: description.clone(),
                remaining: (*times).max(1),
            });
            return true;
        }
        Fault::AntennaEvent { antenna, connected }
            if !lock(&shared.state).set_antenna(*antenna, *connected) =>
        {
            return false;
        }
        // No event and nothing for the connection: the antenna's reads just stop (or resume).
        Fault::AntennaSilence { antenna, silent } => {
            return lock(&shared.state).set_antenna_silent(*antenna, *silent);
        }
        _ => {}
    }
    match lock(&shared.client).as_ref() {
        Some(slot) => slot.commands.send(Command::Fault(fault)).is_ok(),
        None => matches!(fault, Fault::AntennaEvent { .. }),
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Dropping the set (when this task is aborted) aborts every connection with it.
    let mut connections = JoinSet::new();
    let mut generation = 0u64;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        // Some(receiver) when this client may have the reader.
        let admitted = {
            let mut client = lock(&shared.client);
            match client.as_ref() {
                Some(slot) if !slot.commands.is_closed() => {
                    let _ = slot.commands.send(Command::AnotherClientAttempted);
                    None
                }
                _ => {
                    generation += 1;
                    let (tx, rx) = mpsc::unbounded_channel();
                    *client = Some(ClientSlot {
                        generation,
                        commands: tx,
                    });
                    Some(rx)
                }
            }
        };
        match admitted {
            Some(commands) => {
                lock(&shared.stats).connections_accepted += 1;
                let shared = Arc::clone(&shared);
                let this = generation;
                connections.spawn(async move {
                    serve(Arc::clone(&shared), stream, commands).await;
                    let mut client = lock(&shared.client);
                    if client.as_ref().is_some_and(|slot| slot.generation == this) {
                        *client = None;
                    }
                });
            }
            None => {
                lock(&shared.stats).connections_refused += 1;
                connections.spawn(refuse(stream, Arc::clone(&shared)));
            }
        }
    }
}

/// Tells a second client the reader is taken, then closes its connection.
async fn refuse(mut stream: TcpStream, shared: Arc<Shared>) {
    let version = lock(&shared.state).version();
    let mut bytes = Vec::new();
    let _ = Message::ReaderEventNotification(ReaderEventNotificationData {
        timestamp: None,
        events: vec![ReaderEvent::ConnectionAttempt(
            ConnectionAttemptStatus::FailedClientInitiatedConnectionExists,
        )],
    })
    .encode(version, 1, &mut bytes);
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}
