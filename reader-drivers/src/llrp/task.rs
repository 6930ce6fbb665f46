//! The thin tokio task of an LLRP driver: carries out the session's actions over any `AsyncRead + AsyncWrite` and feeds it bytes, time and shutdown.
//!
//! The loop waits on three things: the transport's next bytes (read first when several are
//! ready, so a backlog is never mistaken for silence), the session's single timer, and the
//! shutdown signal. Sending downstream awaits the bounded channel: under back-pressure the task
//! stops reading, TCP flow control pushes back, and the reader buffers (see `DriverOutput`).

use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::session::{Action, LlrpSession};
use super::settings::LlrpSettings;
use crate::backoff::jitter;
use crate::connect::Connect;
use crate::{DriverOutput, Micros, Now};

/// TCP to `host:port`, with `TCP_NODELAY` (keepalive acks and requests are tiny).
#[derive(Debug, Clone)]
pub struct TcpConnector {
    pub address: String,
}

impl Connect for TcpConnector {
    type Io = TcpStream;

    async fn connect(&mut self) -> io::Result<TcpStream> {
        let stream = TcpStream::connect(self.address.as_str()).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    fn target(&self) -> String {
        self.address.clone()
    }
}

/// A running LLRP driver.
#[derive(Debug)]
pub struct LlrpDriver {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl LlrpDriver {
    /// Spawns the driver of `settings` over TCP, sending reads and events to `out`.
    pub fn spawn(settings: LlrpSettings, out: mpsc::Sender<DriverOutput>) -> Self {
        let connector = TcpConnector {
            address: settings.address.clone(),
        };
        let session = LlrpSession::new(settings, u64::from(jitter()), now().instant);
        Self::spawn_with(session, connector, out)
    }

    /// Spawns a driver with a prepared session and any connector.
    pub fn spawn_with<C>(
        session: LlrpSession,
        connector: C,
        out: mpsc::Sender<DriverOutput>,
    ) -> Self
    where
        C: Connect + 'static,
        C::Io: 'static,
    {
        let (shutdown, shutdown_rx) = oneshot::channel();
        let task = tokio::spawn(run(session, connector, out, shutdown_rx));
        LlrpDriver {
            shutdown: Some(shutdown),
            task,
        }
    }

    /// Graceful shutdown (disable and delete our ROSpec, close), waiting until it is done.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Stops at once, without telling the reader (what a crash looks like to it).
    pub fn abort(self) {
        self.task.abort();
    }
}

/// Both clocks, read once.
fn now() -> Now {
    Now {
        // tokio's clock, so tests in paused time see virtual instants.
        instant: tokio::time::Instant::now().into_std(),
        utc: Micros(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        ),
    }
}

/// Read buffer size: several full reports per read call at high rates.
const READ_CHUNK: usize = 64 * 1024;

async fn run<C: Connect>(
    mut session: LlrpSession,
    mut connector: C,
    out: mpsc::Sender<DriverOutput>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let connect_timeout = session.settings().connect_timeout;
    // A write that cannot finish within this is a dead link (the peer stopped reading).
    let write_timeout = session.settings().response_timeout;
    let mut io: Option<C::Io> = None;
    let mut timer: Option<Instant> = None;
    let mut shutdown_requested = false;
    // Allocated while a transport is open only: a reader that is down costs no read buffer (a
    // config of thousands of unreachable readers would otherwise hold 64 KiB each).
    let mut buf: Vec<u8> = Vec::new();
    session.start(now());
    loop {
        while let Some(action) = session.poll_action() {
            match action {
                Action::Connect => {
                    match tokio::time::timeout(connect_timeout, connector.connect()).await {
                        Ok(Ok(transport)) => {
                            io = Some(transport);
                            buf = vec![0u8; READ_CHUNK];
                            session.on_connected(now());
                        }
                        Ok(Err(e)) => session.on_connect_failed(now(), &e.to_string()),
                        Err(_) => session.on_connect_failed(
                            now(),
                            &format!("timed out after {connect_timeout:?}"),
                        ),
                    }
                }
                Action::Send(bytes) => {
                    if let Some(transport) = io.as_mut() {
                        match tokio::time::timeout(write_timeout, transport.write_all(&bytes)).await
                        {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => session.on_io_error(now(), &e.to_string()),
                            Err(_) => session.on_io_error(
                                now(),
                                &format!("write blocked for {write_timeout:?}"),
                            ),
                        }
                    }
                }
                Action::Close => {
                    buf = Vec::new();
                    if let Some(mut transport) = io.take() {
                        // Best effort FIN; a half-open peer must not hold us up.
                        let _ = tokio::time::timeout(Duration::from_secs(1), transport.shutdown())
                            .await;
                    }
                }
                Action::Output(output) => {
                    if out.send(output).await.is_err() {
                        // Nobody listens any more: the daemon is going away.
                        return;
                    }
                }
                Action::SetTimer(at) => timer = Some(at),
                Action::ClearTimer => timer = None,
                Action::Finished => return,
            }
        }
        let sleep_until = timer.map(tokio::time::Instant::from_std);
        tokio::select! {
            biased;
            read = read_some(&mut io, &mut buf) => match read {
                Ok(0) => session.on_eof(now()),
                Ok(n) => session.on_bytes(now(), buf.get(..n).unwrap_or(&[])),
                Err(e) => session.on_io_error(now(), &e.to_string()),
            },
            _ = sleep_or_never(sleep_until) => session.on_timer(now()),
            _ = &mut shutdown, if !shutdown_requested => {
                shutdown_requested = true;
                session.shutdown(now());
            }
        }
    }
}

/// Reads from the transport, or waits forever when there is none.
async fn read_some<T: AsyncRead + Unpin>(io: &mut Option<T>, buf: &mut [u8]) -> io::Result<usize> {
    match io {
        Some(transport) => transport.read(buf).await,
        None => std::future::pending().await,
    }
}

async fn sleep_or_never(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
