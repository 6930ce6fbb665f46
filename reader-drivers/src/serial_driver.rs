//! The thin tokio task around a [`SerialSession`]: opens the transport, moves bytes and timer
//! expiries into the session, carries out its actions, and reconnects with backoff forever.
//!
//! The loop waits on exactly three things while connected: the shutdown future, one transport
//! read, and the session's next deadline. Everything else is the session's decision.
//!
//! Back-pressure: outputs are sent on a bounded channel with `send().await`; while the daemon is
//! behind, this task does not read the transport, so bytes wait in the kernel's serial (or TCP)
//! buffer and then in the reader. Nothing is dropped inside tagtally, and memory stays bounded
//! by the deframer's capacity and one read buffer.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::backoff::{jitter, Backoff};
use crate::connect::Connect;
use crate::serial_session::{SerialSession, SessionAction};
use crate::{DriverEvent, DriverOutput, Now};

/// Bytes taken from the transport per read.
const READ_CHUNK: usize = 4096;

/// Timing of the task itself (the protocol's timing belongs to the session's settings).
#[derive(Debug, Clone)]
pub struct DriverTiming {
    /// Delays between reconnect attempts (SPEC §7: 1 s doubling to 60 s, jittered).
    pub backoff: Backoff,
    /// A write that takes longer means the line is stuck (a pseudo-terminal nobody reads, a
    /// TCP bridge whose peer vanished): the link is declared broken.
    pub write_timeout: Duration,
    /// A link that stayed up this long counts as healthy: the next outage starts the backoff over.
    pub healthy_after: Duration,
}

impl Default for DriverTiming {
    fn default() -> Self {
        Self {
            backoff: Backoff::standard(),
            write_timeout: Duration::from_secs(2),
            healthy_after: Duration::from_secs(10),
        }
    }
}

/// Why the task returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverExit {
    /// Shutdown was asked and the session stopped the reader (or the link was already gone).
    Stopped,
    /// The daemon dropped the output channel's receiver; nobody listens any more.
    OutputClosed,
}

/// What carrying out the queued actions led to.
enum Flow {
    Continue,
    LinkLost(String),
    Reconnect,
    Exit(DriverExit),
}

/// Runs one serial reader until `shutdown` completes (then stops the reader gracefully) or the
/// output channel closes.
pub async fn run_serial_driver<S, C, F>(
    mut session: S,
    mut connector: C,
    outputs: mpsc::Sender<DriverOutput>,
    mut timing: DriverTiming,
    shutdown: F,
) -> DriverExit
where
    S: SerialSession + Send,
    C: Connect,
    F: Future<Output = ()> + Send,
{
    let mut shutdown = Box::pin(shutdown);
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        let opened = tokio::select! {
            biased;
            () = &mut shutdown => return DriverExit::Stopped,
            opened = connector.connect() => opened,
        };
        let mut up_since = None;
        match opened {
            Err(error) => {
                let reason = format!("cannot open {}: {error}", connector.target());
                session.on_link_lost(&reason, Now::capture());
                if let Flow::Exit(exit) = drain_outputs(&mut session, &outputs, &mut None).await {
                    return exit;
                }
            }
            Ok(mut io) => {
                session.on_connected(Now::capture());
                let mut stopping = false;
                let lost = loop {
                    match carry_out(&mut session, &mut io, &outputs, &timing, &mut up_since).await {
                        Flow::Continue => {}
                        Flow::LinkLost(reason) => break Some(reason),
                        Flow::Reconnect => break None,
                        Flow::Exit(exit) => return exit,
                    }
                    let deadline = session.next_deadline();
                    let sleep = tokio::time::sleep_until(
                        deadline.map_or_else(far_future, tokio::time::Instant::from_std),
                    );
                    tokio::select! {
                        biased;
                        () = &mut shutdown, if !stopping => {
                            stopping = true;
                            session.stop(Now::capture());
                        }
                        read = io.read(&mut buffer) => match read {
                            Ok(0) => break Some("the reader closed the link (end of stream)".to_owned()),
                            Ok(n) => session.on_bytes(&buffer[..n], Now::capture()),
                            Err(error) => break Some(format!("read failed: {error}")),
                        },
                        () = sleep, if deadline.is_some() => session.on_timer(Now::capture()),
                    }
                };
                if let Some(reason) = lost {
                    session.on_link_lost(&reason, Now::capture());
                    if let Flow::Exit(exit) = drain_outputs(&mut session, &outputs, &mut None).await
                    {
                        return exit;
                    }
                }
                if stopping {
                    return DriverExit::Stopped;
                }
            }
        }
        if up_since.is_some_and(|since: Instant| since.elapsed() >= timing.healthy_after) {
            timing.backoff.reset();
        }
        let delay = timing.backoff.next_delay(jitter());
        tokio::select! {
            biased;
            () = &mut shutdown => return DriverExit::Stopped,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// Carries out every queued action on a live transport.
async fn carry_out<S, Io>(
    session: &mut S,
    io: &mut Io,
    outputs: &mpsc::Sender<DriverOutput>,
    timing: &DriverTiming,
    up_since: &mut Option<Instant>,
) -> Flow
where
    S: SerialSession,
    Io: tokio::io::AsyncWrite + Unpin,
{
    while let Some(action) = session.poll_action() {
        match action {
            SessionAction::Send(bytes) => {
                match tokio::time::timeout(timing.write_timeout, io.write_all(&bytes)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => return Flow::LinkLost(format!("write failed: {error}")),
                    Err(_) => {
                        return Flow::LinkLost(format!(
                            "write stuck for {}ms",
                            timing.write_timeout.as_millis()
                        ))
                    }
                }
            }
            SessionAction::Output(output) => {
                if let Flow::Exit(exit) = send_output(output, outputs, up_since).await {
                    return Flow::Exit(exit);
                }
            }
            SessionAction::Reconnect => return Flow::Reconnect,
            SessionAction::Stopped => return Flow::Exit(DriverExit::Stopped),
        }
    }
    Flow::Continue
}

/// Passes on the outputs queued while no transport is open; bytes to send are moot then.
async fn drain_outputs<S: SerialSession>(
    session: &mut S,
    outputs: &mpsc::Sender<DriverOutput>,
    up_since: &mut Option<Instant>,
) -> Flow {
    while let Some(action) = session.poll_action() {
        if let SessionAction::Output(output) = action {
            if let Flow::Exit(exit) = send_output(output, outputs, up_since).await {
                return Flow::Exit(exit);
            }
        }
    }
    Flow::Continue
}

async fn send_output(
    output: DriverOutput,
    outputs: &mpsc::Sender<DriverOutput>,
    up_since: &mut Option<Instant>,
) -> Flow {
    if matches!(output, DriverOutput::Event(DriverEvent::LinkUp { .. })) {
        *up_since = Some(Instant::now());
    }
    match outputs.send(output).await {
        Ok(()) => Flow::Continue,
        Err(_) => Flow::Exit(DriverExit::OutputClosed),
    }
}

/// A deadline that never comes, for the disabled timer branch of `select!`.
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86_400 * 365)
}
