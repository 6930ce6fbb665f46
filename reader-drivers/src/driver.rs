//! The one tokio task every reader session runs in: carries out the session's actions over any
//! `AsyncRead + AsyncWrite` and feeds it bytes, timer expiries and shutdown, with both clocks read once per event.
//!
//! The loop waits on three things: the transport's next bytes (read first when several are
//! ready, so a backlog is never mistaken for silence), the session's single timer, and the
//! shutdown signal. Sending downstream awaits the bounded channel: under back-pressure the task
//! stops reading, the transport's flow control pushes back, and the reader buffers (see
//! `DriverOutput`). Reconnecting, backoff and every timeout of the protocol are the session's; the
//! task only bounds the transport operations by the session's [`TransportTimeouts`].

use std::future::Future;
use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tagtally_core::{LinkLoss, Session, SessionAction, TransportTimeouts};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::connect::Connect;
use crate::{DriverOutput, Micros, Now};

/// Bytes taken from the transport per read: several full LLRP reports at high rates.
const READ_CHUNK: usize = 64 * 1024;

/// Why a driver task returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverExit {
    /// The session finished (after shutdown was asked).
    Stopped,
    /// The daemon dropped the output channel's receiver; nobody listens any more.
    OutputClosed,
}

/// A running driver task.
#[derive(Debug)]
pub struct ReaderDriver {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<DriverExit>,
}

impl ReaderDriver {
    /// Spawns `session` over `connector`'s transports, sending reads and events to `out`.
    pub fn spawn<S, C>(session: S, connector: C, out: mpsc::Sender<DriverOutput>) -> Self
    where
        S: Session + Send + 'static,
        C: Connect + 'static,
        C::Io: 'static,
    {
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let stop = async move {
            let _ = shutdown_rx.await;
        };
        let task = tokio::spawn(run_session(session, connector, out, stop, |_| {}));
        ReaderDriver {
            shutdown: Some(shutdown),
            task,
        }
    }

    /// Graceful shutdown (an LLRP ROSpec disabled and deleted, a serial module stopped), waiting
    /// until it is done.
    pub async fn shutdown(mut self) -> DriverExit {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.unwrap_or(DriverExit::Stopped)
    }

    /// Stops at once, without telling the reader (what a crash looks like to it).
    pub fn abort(self) {
        self.task.abort();
    }
}

/// Both clocks, read once.
pub fn now() -> Now {
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

/// Runs `session` until it finishes after `shutdown` resolved, or until `out` closes.
/// `observe` sees every output before it is sent (the daemon logs events there, in the reader's span).
pub async fn run_session<S, C, F>(
    mut session: S,
    mut connector: C,
    out: mpsc::Sender<DriverOutput>,
    shutdown: F,
    mut observe: impl FnMut(&DriverOutput) + Send,
) -> DriverExit
where
    S: Session + Send,
    C: Connect,
    F: Future<Output = ()> + Send,
{
    let TransportTimeouts {
        connect: connect_timeout,
        write: write_timeout,
    } = session.timeouts();
    let mut shutdown = std::pin::pin!(shutdown);
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
                SessionAction::Connect => {
                    match tokio::time::timeout(connect_timeout, connector.connect()).await {
                        Ok(Ok(transport)) => {
                            io = Some(transport);
                            buf = vec![0u8; READ_CHUNK];
                            session.on_connected(now());
                        }
                        Ok(Err(e)) => session.on_connect_failed(
                            now(),
                            &format!("cannot open {}: {e}", connector.target()),
                        ),
                        Err(_) => session.on_connect_failed(
                            now(),
                            &format!(
                                "cannot open {}: timed out after {connect_timeout:?}",
                                connector.target()
                            ),
                        ),
                    }
                }
                SessionAction::Send(bytes) => {
                    if let Some(transport) = io.as_mut() {
                        let failed =
                            match tokio::time::timeout(write_timeout, transport.write_all(&bytes))
                                .await
                            {
                                Ok(Ok(())) => None,
                                Ok(Err(e)) => Some(format!("write failed: {e}")),
                                Err(_) => Some(format!("write blocked for {write_timeout:?}")),
                            };
                        if let Some(reason) = failed {
                            session.on_link_lost(now(), LinkLoss::Failed(reason));
                        }
                    }
                }
                SessionAction::Close => {
                    buf = Vec::new();
                    if let Some(mut transport) = io.take() {
                        // Best effort FIN; a half-open peer must not hold us up.
                        let _ = tokio::time::timeout(Duration::from_secs(1), transport.shutdown())
                            .await;
                    }
                }
                SessionAction::Output(output) => {
                    observe(&output);
                    if out.send(output).await.is_err() {
                        return DriverExit::OutputClosed;
                    }
                }
                SessionAction::Timer(at) => timer = at,
                SessionAction::Finished => return DriverExit::Stopped,
            }
        }
        let sleep_until = timer.map(tokio::time::Instant::from_std);
        tokio::select! {
            biased;
            read = read_some(&mut io, &mut buf) => match read {
                Ok(0) => session.on_link_lost(now(), LinkLoss::Closed),
                Ok(n) => session.on_bytes(now(), buf.get(..n).unwrap_or(&[])),
                Err(e) => session.on_link_lost(now(), LinkLoss::Failed(format!("read failed: {e}"))),
            },
            () = sleep_or_never(sleep_until) => {
                // A timer fires once; the session announces its next one.
                timer = None;
                session.on_timer(now());
            }
            () = &mut shutdown, if !shutdown_requested => {
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
