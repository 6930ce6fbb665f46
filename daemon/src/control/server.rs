//! The control socket server: owns the socket file, accepts clients, one task per client.
//!
//! Resource bounds, because every local group member can connect: at most
//! [`ServerLimits::max_clients`] connections (further ones get an error line and are closed), a
//! request line of at most [`MAX_REQUEST_BYTES`] (a longer one gets an error and the connection
//! is closed: there is no trustworthy place to resume), an idle connection closed after
//! [`ServerLimits::idle_timeout`], and a reply not taken within
//! [`ServerLimits::write_timeout`] closes the connection. A `tail` client is never timed out
//! (a paused terminal is legitimate); it reads from a bounded ring and is told what it missed. So
//! that tails that never read cannot hold every connection, at most [`ServerLimits::max_tails`]
//! connections stream at once (fewer than `max_clients`): the rest are kept for `status`,
//! `readers` and `stock`, and a further `tail` request gets an error reply.

use super::backend::{BackendError, ControlBackend};
use super::filter::TailFilter;
use super::protocol::{
    encode_line, receive, EventLine, Received, Reply, Request, RequestError, MAX_REQUEST_BYTES,
    MAX_REQUEST_READ,
};
use super::tail::TailItem;
use std::fs;
use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener as StdUnixListener, UnixStream as StdUnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// The socket file's mode: owner and service group read/write, nobody else (SPEC §9).
pub const SOCKET_MODE: u32 = 0o660;

/// A `tail` write gathers events already waiting up to about this many bytes, so a busy stream
/// costs one syscall per batch rather than per event, and a slow client still sees steady lines.
const TAIL_BATCH_BYTES: usize = 64 * 1024;

/// Pause after an accept error such as a full descriptor table, so the loop does not spin
/// while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Bounds on what clients may cost the daemon.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Connections served at once.
    pub max_clients: usize,
    /// Of those, `tail` streams at once; keep it below `max_clients` so requests always find a slot.
    pub max_tails: usize,
    /// A connection that sends no request for this long is closed (tail streams excepted).
    pub idle_timeout: Duration,
    /// A reply that the client does not take within this long closes the connection.
    pub write_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_clients: 16,
            max_tails: 12,
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// A live daemon answers on the path.
    #[error("another tagtally daemon already answers on {path}")]
    InUse {
        /// The socket path.
        path: PathBuf,
    },
    /// Something other than a socket sits at the path; it is not ours to delete.
    #[error("{path} exists and is not a socket; refusing to replace it")]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// An existing socket file could not be probed or removed, or the new one not created.
    #[error("control socket {path}: cannot {action}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The system's reason.
        source: io::Error,
    },
}

/// A bound control socket, ready to [`serve`](ControlServer::serve).
#[derive(Debug)]
pub struct ControlServer {
    listener: StdUnixListener,
    socket: SocketFile,
    limits: ServerLimits,
}

impl ControlServer {
    /// Creates the socket at `path` with mode 0660. A leftover socket file that nobody answers
    /// on (a crashed daemon's) is replaced; a live one is refused with [`BindError::InUse`].
    pub fn bind(path: impl Into<PathBuf>, limits: ServerLimits) -> Result<Self, BindError> {
        let path = path.into();
        let io_error = |action: &'static str| {
            let path = path.clone();
            move |source| BindError::Io {
                path,
                action,
                source,
            }
        };
        remove_stale_socket(&path)?;
        let listener = StdUnixListener::bind(&path).map_err(io_error("bind"))?;
        // The file exists from here on: remove it again if anything below fails.
        let metadata = fs::symlink_metadata(&path).map_err(io_error("stat"))?;
        let socket = SocketFile {
            path: path.clone(),
            dev: metadata.dev(),
            ino: metadata.ino(),
        };
        // bind() applied the umask; set the mode explicitly so the group can always connect
        // and others never can, whatever the umask of whoever started us.
        fs::set_permissions(&path, fs::Permissions::from_mode(SOCKET_MODE))
            .map_err(io_error("set mode 0660"))?;
        listener
            .set_nonblocking(true)
            .map_err(io_error("set non-blocking"))?;
        Ok(ControlServer {
            listener,
            socket,
            limits,
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.socket.path
    }

    /// Serves clients until `shutdown` completes, then closes every connection, waits for the
    /// client tasks and removes the socket file. Must run inside a tokio runtime; the only
    /// error is failing to register the socket with it.
    pub async fn serve<B: ControlBackend>(
        self,
        backend: Arc<B>,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let ControlServer {
            listener,
            socket,
            limits,
        } = self;
        let listener = UnixListener::from_std(listener)?;
        let (stop_sender, stop) = watch::channel(false);
        let slots = Arc::new(Semaphore::new(limits.max_clients));
        let tails = Arc::new(Semaphore::new(limits.max_tails));
        let mut clients = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                // Reap finished client tasks so the set does not grow with every connection.
                Some(_) = clients.join_next(), if !clients.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => match Arc::clone(&slots).try_acquire_owned() {
                        Ok(slot) => {
                            let session = session(
                                stream,
                                Arc::clone(&backend),
                                limits,
                                stop.clone(),
                                (slot, Arc::clone(&tails)),
                            );
                            clients.spawn(session);
                        }
                        Err(_) => refuse(&stream, limits.max_clients),
                    },
                    Err(error) => {
                        tracing::warn!(%error, socket = %socket.path.display(), "control socket accept failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                },
            }
        }
        drop(listener);
        // Sending cannot fail while `stop` is alive; sessions end at their next await point.
        let _ = stop_sender.send(true);
        while clients.join_next().await.is_some() {}
        drop(socket);
        Ok(())
    }
}

/// The socket file we created; removed on drop unless someone replaced it meanwhile.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        // Another daemon may have replaced a socket it judged stale; its file is not ours.
        if let Ok(metadata) = fs::symlink_metadata(&self.path) {
            if metadata.dev() == self.dev && metadata.ino() == self.ino {
                let _ = fs::remove_file(&self.path);
            }
        }
    }
}

/// Removes a socket file nobody answers on; refuses a live socket or a non-socket file.
fn remove_stale_socket(path: &Path) -> Result<(), BindError> {
    let io_error = |action: &'static str| {
        move |source| BindError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(io_error("stat")(error)),
    };
    if !metadata.file_type().is_socket() {
        return Err(BindError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match StdUnixStream::connect(path) {
        Ok(_) => Err(BindError::InUse {
            path: path.to_path_buf(),
        }),
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(socket = %path.display(), "removing stale control socket");
            match fs::remove_file(path) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => {
                    Err(io_error("remove the stale socket")(error))
                }
                _ => Ok(()),
            }
        }
        // It vanished between stat and connect: nothing to remove.
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_error("probe the existing socket")(error)),
    }
}

/// Tells a client over the limit why it is closed. The socket buffer of a fresh connection is
/// empty, so a non-blocking write of one short line goes through; if not, closing says enough.
fn refuse(stream: &UnixStream, max_clients: usize) {
    let mut out = Vec::new();
    let reason = format!("too many control clients (at most {max_clients}); try again later");
    encode_line(&Reply::Error(reason), &mut out);
    let _ = stream.try_write(&out);
}

/// Completes once the server asks sessions to stop (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Reads up to and including the next `\n` into `line`, never more than [`MAX_REQUEST_READ`]
/// bytes; [`receive`] says what the bytes are.
async fn read_line(reader: &mut BufReader<OwnedReadHalf>, line: &mut Vec<u8>) -> io::Result<()> {
    let limit = MAX_REQUEST_READ as u64;
    (&mut *reader).take(limit).read_until(b'\n', line).await?;
    Ok(())
}

/// Writes `bytes`, giving up when `limit` passes or the server stops; false means close.
async fn send(
    write: &mut OwnedWriteHalf,
    bytes: &[u8],
    limit: Option<Duration>,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let write_all = write.write_all(bytes);
    tokio::select! {
        () = stopped(stop) => false,
        written = async {
            match limit {
                Some(limit) => tokio::time::timeout(limit, write_all).await.unwrap_or_else(|_| {
                    Err(io::Error::new(io::ErrorKind::TimedOut, "client does not read"))
                }),
                None => write_all.await,
            }
        } => written.is_ok(),
    }
}

/// One client connection: requests and replies until it closes, or a tail stream.
async fn session<B: ControlBackend>(
    stream: UnixStream,
    backend: Arc<B>,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
    (_slot, tails): (OwnedSemaphorePermit, Arc<Semaphore>),
) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::with_capacity(256);
    let mut out = Vec::with_capacity(4096);
    loop {
        line.clear();
        let read = tokio::select! {
            () = stopped(&mut stop) => return,
            read = tokio::time::timeout(limits.idle_timeout, read_line(&mut reader, &mut line)) => read,
        };
        // Idle too long, or the link broke: nothing to answer.
        if !matches!(read, Ok(Ok(()))) {
            return;
        }
        out.clear();
        let answered = match receive(&line) {
            Received::Closed => return,
            Received::Blank => continue,
            Received::TooLong => {
                let reason = RequestError::TooLong {
                    max: MAX_REQUEST_BYTES,
                };
                encode_line(&Reply::Error(reason.to_string()), &mut out);
                send(&mut write, &out, Some(limits.write_timeout), &mut stop).await;
                return;
            }
            Received::Request(Err(error)) => Some(Reply::Error(error.to_string())),
            Received::Request(Ok(Request::Tail(filter))) => {
                match Arc::clone(&tails).try_acquire_owned() {
                    Ok(_streaming) => {
                        return tail(reader, write, &*backend, filter, limits, stop).await;
                    }
                    Err(_) => Some(Reply::Error(format!(
                        "too many tail clients (at most {}); try again later",
                        limits.max_tails
                    ))),
                }
            }
            Received::Request(Ok(Request::Status)) => {
                until_stopped(&mut stop, reply(backend.status(), Reply::Status)).await
            }
            Received::Request(Ok(Request::Readers)) => {
                until_stopped(&mut stop, reply(backend.readers(), Reply::Readers)).await
            }
            Received::Request(Ok(Request::Stock(filter))) => {
                until_stopped(&mut stop, reply(backend.stock(&filter), Reply::Stock)).await
            }
            Received::Request(Ok(Request::Metrics)) => {
                until_stopped(&mut stop, reply(backend.metrics(), Reply::Metrics)).await
            }
            Received::Request(Ok(Request::Epcis(range))) => {
                until_stopped(&mut stop, reply(backend.epcis(&range), Reply::Epcis)).await
            }
            Received::Request(Ok(
                request @ (Request::Count(_)
                | Request::Sale(_)
                | Request::Departures(_)
                | Request::Expected(_)
                | Request::Reconcile(_)
                | Request::Replenish(_)),
            )) => until_stopped(&mut stop, reply(backend.operate(request), |r| r)).await,
        };
        let Some(reply) = answered else { return };
        encode_line(&reply, &mut out);
        if !send(&mut write, &out, Some(limits.write_timeout), &mut stop).await {
            return;
        }
    }
}

/// The backend's answer as a reply line's payload; its failure as an error reply.
async fn reply<T>(
    answer: impl Future<Output = Result<T, BackendError>>,
    wrap: fn(T) -> Reply,
) -> Reply {
    answer
        .await
        .map_or_else(|error| Reply::Error(error.to_string()), wrap)
}

/// `future`'s output, or `None` if the server stops first.
async fn until_stopped<F: Future>(
    stop: &mut watch::Receiver<bool>,
    future: F,
) -> Option<F::Output> {
    tokio::select! {
        () = stopped(stop) => None,
        output = future => Some(output),
    }
}

/// Streams events to a `tail` client until it disconnects or the server stops.
async fn tail<B: ControlBackend>(
    mut reader: BufReader<OwnedReadHalf>,
    mut write: OwnedWriteHalf,
    backend: &B,
    filter: TailFilter,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
) {
    let mut out = Vec::with_capacity(TAIL_BATCH_BYTES + 1024);
    // Subscribe before acknowledging: whatever happens after the client sees `subscribed`
    // reaches it (or is counted as dropped).
    let mut subscription = match backend.tail() {
        Ok(subscription) => subscription,
        Err(error) => {
            encode_line(&Reply::Error(error.to_string()), &mut out);
            send(&mut write, &out, Some(limits.write_timeout), &mut stop).await;
            return;
        }
    };
    encode_line(&Reply::Subscribed(filter.clone()), &mut out);
    if !send(&mut write, &out, Some(limits.write_timeout), &mut stop).await {
        return;
    }
    let mut ignored = [0u8; 512];
    loop {
        let item = tokio::select! {
            biased;
            () = stopped(&mut stop) => return,
            // Nothing more is expected from a tail client; reading only notices it leaving,
            // and whatever it sends is discarded into a fixed buffer.
            read = reader.read(&mut ignored) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            },
            item = subscription.recv() => match item {
                Some(item) => item,
                None => return,
            },
        };
        out.clear();
        push_item(&filter, item, &mut out);
        while out.len() < TAIL_BATCH_BYTES {
            match subscription.try_recv() {
                Some(item) => push_item(&filter, item, &mut out),
                None => break,
            }
        }
        if !out.is_empty() && !send(&mut write, &out, None, &mut stop).await {
            return;
        }
    }
}

fn push_item(filter: &TailFilter, item: TailItem, out: &mut Vec<u8>) {
    match item {
        TailItem::Event(event) if filter.matches(&event) => {
            encode_line(&EventLine { event: &event }, out)
        }
        TailItem::Event(_) => {}
        TailItem::Dropped(count) => encode_line(&Reply::Dropped(count), out),
    }
}
