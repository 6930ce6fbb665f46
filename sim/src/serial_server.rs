//! Carries an emulated serial module's bytes over a pseudo-terminal or a TCP port (one client
//! at a time, like a serial-over-TCP bridge), runs it on the scenario clock, and injects the
//! link faults: unplug (drop-connection), half-open silence, corrupt frames, junk bytes.
//!
//! The task waits on: the control channel (faults from tests, shutdown), the link (bytes from
//! the driver, or a new TCP client), and one timer (the module's next tick, the next scheduled
//! fault, the end of a silence, the re-plug).

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::fault_schedule::FaultSchedule;
use super::pty::Pty;
use super::rng::SimRng;
use super::scenario::{Fault, Scenario};
use super::serial_module::{EmittedFrame, EmulatedModule};

/// Junk spliced at once is capped: the point is resynchronisation, not memory use.
const MAX_PENDING_JUNK: usize = 64 * 1024;
/// A write the far side does not drain within this is thrown away (nobody is listening).
const WRITE_STALL: Duration = Duration::from_secs(1);

/// Where the emulated module is reachable.
#[derive(Debug, Clone)]
pub enum SerialListen {
    /// A new pseudo-terminal; with `link`, a symlink that always points at the current one.
    Pty { link: Option<PathBuf> },
    /// A TCP port (`127.0.0.1:0` picks a free one).
    Tcp(SocketAddr),
}

/// Server knobs that are not part of the scenario.
#[derive(Debug, Clone)]
pub struct SerialSimOptions {
    /// How long an unplugged module stays away.
    pub replug_after: Duration,
}

impl Default for SerialSimOptions {
    fn default() -> Self {
        Self {
            replug_after: Duration::from_secs(1),
        }
    }
}

/// What a client of the emulator needs to find it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimEndpoint {
    /// The pty's slave (`/dev/pts/N`) while plugged in.
    pub pty: Option<PathBuf>,
    /// The stable symlink, when asked for.
    pub link: Option<PathBuf>,
    /// The TCP address listened on.
    pub tcp: Option<SocketAddr>,
    /// Times the module was plugged in (1 at start, +1 per re-plug).
    pub plug_count: u64,
}

impl SimEndpoint {
    /// The device path a driver should open: the link if any, else the pty.
    pub fn device(&self) -> Option<PathBuf> {
        self.link.clone().or_else(|| self.pty.clone())
    }
}

/// What the emulator put on the line (bytes lost to silence, unplugging or a stalled reader
/// are not counted), so tests can tell exactly which reads a driver should have received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SerialSimStats {
    pub frames: u64,
    pub frames_corrupted: u64,
    /// Tag-read frames sent intact.
    pub reads_intact: u64,
    /// Tag-read frames sent damaged.
    pub reads_corrupted: u64,
    /// Bytes of the damaged frames.
    pub bytes_corrupted: u64,
    pub junk_bytes: u64,
}

impl SerialSimStats {
    fn add(&mut self, other: SerialSimStats) {
        self.frames += other.frames;
        self.frames_corrupted += other.frames_corrupted;
        self.reads_intact += other.reads_intact;
        self.reads_corrupted += other.reads_corrupted;
        self.bytes_corrupted += other.bytes_corrupted;
        self.junk_bytes += other.junk_bytes;
    }
}

#[derive(Debug)]
enum Control {
    Inject(Fault),
    Shutdown,
}

/// A running serial emulator; dropping it stops the emulator.
#[derive(Debug)]
pub struct SerialSim {
    control: mpsc::UnboundedSender<Control>,
    endpoint: watch::Receiver<SimEndpoint>,
    stats: Arc<Mutex<SerialSimStats>>,
    task: Option<JoinHandle<()>>,
}

impl SerialSim {
    /// Starts serving `module` (built from `scenario`) on `listen`.
    pub async fn start<M: EmulatedModule + 'static>(
        module: M,
        scenario: &Scenario,
        listen: SerialListen,
        options: SerialSimOptions,
    ) -> io::Result<Self> {
        let (link, endpoint) = match listen {
            SerialListen::Pty { link } => {
                let pty = Pty::open(link.as_deref())?;
                let endpoint = SimEndpoint {
                    pty: Some(pty.slave_path().to_owned()),
                    link: link.clone(),
                    tcp: None,
                    plug_count: 1,
                };
                (
                    Link::Pty {
                        pty: Some(pty),
                        link,
                    },
                    endpoint,
                )
            }
            SerialListen::Tcp(address) => {
                let listener = TcpListener::bind(address).await?;
                let endpoint = SimEndpoint {
                    tcp: Some(listener.local_addr()?),
                    plug_count: 1,
                    ..SimEndpoint::default()
                };
                (
                    Link::Tcp {
                        listener,
                        client: None,
                    },
                    endpoint,
                )
            }
        };
        let (endpoint_tx, endpoint_rx) = watch::channel(endpoint);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let stats = Arc::new(Mutex::new(SerialSimStats::default()));
        let server = Server {
            stats: Arc::clone(&stats),
            module,
            started: Instant::now(),
            faults: FaultSchedule::new(scenario),
            link,
            silent_until: None,
            replug_at: None,
            corrupt_next: 0,
            line_noise: 0,
            junk_next: 0,
            rng: SimRng::new(scenario.seed ^ 0x5EED),
            endpoint: endpoint_tx,
            options,
        };
        let task = tokio::spawn(server.run(control_rx));
        Ok(Self {
            control: control_tx,
            endpoint: endpoint_rx,
            stats,
            task: Some(task),
        })
    }

    /// Where the module is reachable now.
    pub fn endpoint(&self) -> SimEndpoint {
        self.endpoint.borrow().clone()
    }

    /// What was put on the line so far.
    pub fn stats(&self) -> SerialSimStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// Follows re-plugs (new pty path, plug count).
    pub fn watch_endpoint(&self) -> watch::Receiver<SimEndpoint> {
        self.endpoint.clone()
    }

    /// Injects a fault now, as if the scenario had scheduled it.
    pub fn inject(&self, fault: Fault) {
        // A stopped server has nothing left to break.
        let _ = self.control.send(Control::Inject(fault));
    }

    /// Stops the emulator and waits for it to close its pty or socket.
    pub async fn shutdown(mut self) {
        let _ = self.control.send(Control::Shutdown);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SerialSim {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

enum Link {
    Pty {
        pty: Option<Pty>,
        link: Option<PathBuf>,
    },
    Tcp {
        listener: TcpListener,
        client: Option<TcpStream>,
    },
}

enum LinkEvent {
    Bytes(usize),
    Closed,
    Accepted(TcpStream),
}

impl Link {
    /// Waits for bytes or a client; pends forever while there is nothing to wait on.
    async fn next_event(&mut self, buffer: &mut [u8]) -> LinkEvent {
        match self {
            Link::Pty { pty: Some(pty), .. } => match pty.master().read(buffer).await {
                Ok(0) | Err(_) => LinkEvent::Closed,
                Ok(n) => LinkEvent::Bytes(n),
            },
            Link::Pty { pty: None, .. } => std::future::pending().await,
            Link::Tcp { listener, client } => {
                let read = async {
                    match client {
                        Some(stream) => stream.read(buffer).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => LinkEvent::Accepted(stream),
                        // A failed accept (a client that vanished at once) changes nothing.
                        Err(_) => LinkEvent::Bytes(0),
                    },
                    read = read => match read {
                        Ok(0) | Err(_) => LinkEvent::Closed,
                        Ok(n) => LinkEvent::Bytes(n),
                    },
                }
            }
        }
    }
}

struct Server<M> {
    module: M,
    started: Instant,
    faults: FaultSchedule,
    link: Link,
    silent_until: Option<Instant>,
    replug_at: Option<Instant>,
    corrupt_next: u32,
    /// Frames per million damaged at random (`line-noise`).
    line_noise: u32,
    junk_next: usize,
    rng: SimRng,
    endpoint: watch::Sender<SimEndpoint>,
    stats: Arc<Mutex<SerialSimStats>>,
    options: SerialSimOptions,
}

impl<M: EmulatedModule> Server<M> {
    async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        let mut buffer = vec![0u8; 4096];
        let mut frames = Vec::new();
        loop {
            let wake = self.next_wake();
            let silent = self.silent_until.is_some();
            tokio::select! {
                command = control.recv() => match command {
                    Some(Control::Inject(fault)) => self.apply(fault),
                    Some(Control::Shutdown) | None => {
                        self.unplug();
                        return;
                    }
                },
                event = self.link.next_event(&mut buffer), if !silent => match event {
                    LinkEvent::Bytes(n) => {
                        let elapsed = self.started.elapsed();
                        self.module.on_bytes(&buffer[..n], elapsed, &mut frames);
                    }
                    LinkEvent::Closed => self.client_gone(),
                    LinkEvent::Accepted(stream) => {
                        // One client at a time, like a serial bridge: the newest wins.
                        let _ = stream.set_nodelay(true);
                        if let Link::Tcp { client, .. } = &mut self.link {
                            *client = Some(stream);
                        }
                    }
                },
                () = tokio::time::sleep_until(wake) => {}
            }
            self.on_time();
            let elapsed = self.started.elapsed();
            self.module.on_tick(elapsed, &mut frames);
            self.send(&mut frames).await;
        }
    }

    fn next_wake(&self) -> Instant {
        let on_clock = |d: Duration| self.started + d;
        [
            self.module.next_tick().map(on_clock),
            self.faults.next_due().map(on_clock),
            self.silent_until,
            self.replug_at,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
    }

    fn on_time(&mut self) {
        let now = Instant::now();
        for fault in self.faults.take_due(self.started.elapsed()) {
            self.apply(fault);
        }
        if self.silent_until.is_some_and(|until| until <= now) {
            self.silent_until = None;
            // A module that stayed silent that long was rebooted: the link drops too.
            self.apply(Fault::DropConnection);
        }
        if self.replug_at.is_some_and(|at| at <= now) {
            self.replug_at = None;
            self.replug();
        }
    }

    fn apply(&mut self, fault: Fault) {
        match fault {
            Fault::DropConnection => {
                self.module.power_cycle();
                match &mut self.link {
                    Link::Pty { .. } => {
                        self.unplug();
                        self.replug_at = Some(Instant::now() + self.options.replug_after);
                    }
                    Link::Tcp { client, .. } => *client = None,
                }
            }
            Fault::GoSilent { duration } => {
                self.silent_until = Some(Instant::now() + duration);
            }
            Fault::CorruptFrame { count } => {
                self.corrupt_next = self.corrupt_next.saturating_add(count);
            }
            Fault::LineNoise { per_million } => self.line_noise = per_million,
            Fault::JunkBytes { bytes } => {
                self.junk_next = (self.junk_next + bytes).min(MAX_PENDING_JUNK);
            }
            other @ (Fault::AntennaEvent { .. } | Fault::ReaderException { .. }) => {
                self.module.inject(&other);
            }
            // LLRP-only faults mean nothing on a serial line (antenna silence is emulated by the
            // LLRP reader only).
            Fault::RejectAddRospec { .. } | Fault::AntennaSilence { .. } => {}
        }
    }

    fn unplug(&mut self) {
        if let Link::Pty { pty, .. } = &mut self.link {
            if let Some(pty) = pty.take() {
                pty.unplug();
            }
            self.endpoint.send_modify(|e| e.pty = None);
        }
    }

    fn replug(&mut self) {
        if let Link::Pty { pty, link } = &mut self.link {
            match Pty::open(link.as_deref()) {
                Ok(new) => {
                    let path = new.slave_path().to_owned();
                    *pty = Some(new);
                    self.endpoint.send_modify(|e| {
                        e.pty = Some(path);
                        e.plug_count += 1;
                    });
                }
                // Out of ptys for now: try again after another pause.
                Err(_) => self.replug_at = Some(Instant::now() + self.options.replug_after),
            }
        }
    }

    fn client_gone(&mut self) {
        match &mut self.link {
            Link::Tcp { client, .. } => *client = None,
            // The master only reads an error when every slave closed, which the idle slave
            // prevents; if it happens anyway the pty is dead: plug in a fresh one.
            Link::Pty { .. } => {
                self.unplug();
                self.replug_at = Some(Instant::now() + self.options.replug_after);
            }
        }
    }

    /// Writes `frames` with the pending junk and corruption applied; drops them while silent
    /// or unplugged.
    async fn send(&mut self, frames: &mut Vec<EmittedFrame>) {
        if frames.is_empty() {
            return;
        }
        if self.silent_until.is_some() {
            frames.clear();
            return;
        }
        let mut bytes = Vec::new();
        let mut stats = SerialSimStats::default();
        for EmittedFrame {
            bytes: mut frame,
            carries_read,
        } in frames.drain(..)
        {
            if self.junk_next > 0 {
                stats.junk_bytes += self.junk_next as u64;
                bytes.push(self.module.frame_header());
                for _ in 1..self.junk_next {
                    bytes.push(self.rng.next_u64() as u8);
                }
                self.junk_next = 0;
            }
            stats.frames += 1;
            let noise =
                self.line_noise > 0 && self.rng.next_u64() % 1_000_000 < u64::from(self.line_noise);
            if (self.corrupt_next > 0 || noise) && frame.len() > 4 {
                self.corrupt_next = self.corrupt_next.saturating_sub(u32::from(!noise));
                let middle = frame.len() / 2;
                frame[middle] ^= 0x5A;
                stats.frames_corrupted += 1;
                stats.bytes_corrupted += frame.len() as u64;
                stats.reads_corrupted += u64::from(carries_read);
            } else {
                stats.reads_intact += u64::from(carries_read);
            }
            bytes.extend_from_slice(&frame);
        }
        let delivered = match &mut self.link {
            Link::Pty { pty: Some(pty), .. } => {
                let written =
                    tokio::time::timeout(WRITE_STALL, pty.master().write_all(&bytes)).await;
                let delivered = matches!(written, Ok(Ok(())));
                if !delivered {
                    // Nobody drains the line: the bytes are lost, as on a real UART.
                    let _ = pty.discard_unread();
                }
                delivered
            }
            Link::Tcp {
                client: Some(stream),
                ..
            } => {
                let written = tokio::time::timeout(WRITE_STALL, stream.write_all(&bytes)).await;
                let delivered = matches!(written, Ok(Ok(())));
                if !delivered {
                    self.client_gone();
                }
                delivered
            }
            _ => false,
        };
        if delivered {
            if let Ok(mut total) = self.stats.lock() {
                total.add(stats);
            }
        }
    }
}
