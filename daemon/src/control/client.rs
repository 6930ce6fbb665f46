//! The blocking client the CLI uses: one connection, requests and replies, or a tail stream.

use super::filter::{EpcisRange, StockFilter, TailFilter};
use super::model::{ReaderStatus, Status, Stock, TailEvent};
use super::protocol::{encode_line, Envelope, Reply, Request, MAX_REPLY_BYTES, PROTOCOL_VERSION};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a request waits for its reply before the client gives up.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why talking to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing answers on the socket (no file, nobody listening, or no permission).
    #[error("no tagtally daemon answers on {path}: {}", describe(source))]
    Unavailable {
        /// The socket tried.
        path: PathBuf,
        /// Why the connection failed.
        source: io::Error,
    },
    /// The connection broke or timed out mid-conversation.
    #[error("control socket {path}: {}", describe(source))]
    Io {
        /// The socket.
        path: PathBuf,
        /// What happened.
        source: io::Error,
    },
    /// The daemon closed the connection before replying.
    #[error("the daemon on {path} closed the connection without replying")]
    Closed {
        /// The socket.
        path: PathBuf,
    },
    /// A reply that is not what this protocol version promises.
    #[error("unexpected reply from {path}: {reason}")]
    BadReply {
        /// The socket.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The daemon understood and said no.
    #[error("the daemon on {path} answered: {message}")]
    Refused {
        /// The socket.
        path: PathBuf,
        /// Its error text.
        message: String,
    },
}

/// One connection to the daemon's control socket.
#[derive(Debug)]
pub struct ControlClient {
    path: PathBuf,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    line: Vec<u8>,
}

impl ControlClient {
    /// Connects to the socket at `path`; replies are awaited for [`DEFAULT_REPLY_TIMEOUT`].
    pub fn connect(path: impl AsRef<Path>) -> Result<Self, ClientError> {
        let path = path.as_ref().to_path_buf();
        let unavailable = |source| ClientError::Unavailable {
            path: path.clone(),
            source,
        };
        let stream = UnixStream::connect(&path).map_err(unavailable)?;
        let writer = stream.try_clone().map_err(unavailable)?;
        let client = ControlClient {
            reader: BufReader::new(stream),
            writer,
            line: Vec::new(),
            path,
        };
        client.set_reply_timeout(Some(DEFAULT_REPLY_TIMEOUT))?;
        Ok(client)
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How long to wait for a reply line; `None` waits forever.
    pub fn set_reply_timeout(&self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.writer
            .set_read_timeout(timeout)
            .map_err(|source| self.io(source))
    }

    /// Daemon health.
    pub fn status(&mut self) -> Result<Status, ClientError> {
        match self.request(&Request::Status)? {
            Reply::Status(status) => Ok(status),
            other => Err(self.unexpected("status", &other)),
        }
    }

    /// Reader and antenna links.
    pub fn readers(&mut self) -> Result<Vec<ReaderStatus>, ClientError> {
        match self.request(&Request::Readers)? {
            Reply::Readers(readers) => Ok(readers),
            other => Err(self.unexpected("readers", &other)),
        }
    }

    /// The daemon's metrics, in the Prometheus text exposition format.
    pub fn metrics(&mut self) -> Result<String, ClientError> {
        match self.request(&Request::Metrics)? {
            Reply::Metrics(text) => Ok(text),
            other => Err(self.unexpected("metrics", &other)),
        }
    }

    /// The committed EPCIS events of `range`, as one EPCISDocument.
    pub fn epcis(&mut self, range: &EpcisRange) -> Result<serde_json::Value, ClientError> {
        match self.request(&Request::Epcis(range.clone()))? {
            Reply::Epcis(document) => Ok(document),
            other => Err(self.unexpected("epcis", &other)),
        }
    }

    /// Current counts passing `filter`.
    pub fn stock(&mut self, filter: &StockFilter) -> Result<Stock, ClientError> {
        match self.request(&Request::Stock(filter.clone()))? {
            Reply::Stock(stock) => Ok(stock),
            other => Err(self.unexpected("stock", &other)),
        }
    }

    /// Turns this connection into a stream of events passing `filter`, waiting without a
    /// timeout (a quiet store sends nothing for a long time).
    pub fn tail(mut self, filter: &TailFilter) -> Result<TailStream, ClientError> {
        match self.request(&Request::Tail(filter.clone()))? {
            Reply::Subscribed(_) => {
                self.set_reply_timeout(None)?;
                Ok(TailStream { client: self })
            }
            other => Err(self.unexpected("subscribed", &other)),
        }
    }

    /// A store operation (`count`, `sale`, `departures`): the daemon's answer, a
    /// [`Reply::Refused`] included (an error reply is an `Err`, as for every request).
    pub fn operate(&mut self, request: &Request) -> Result<Reply, ClientError> {
        self.request(request)
    }

    fn request(&mut self, request: &Request) -> Result<Reply, ClientError> {
        let mut out = Vec::with_capacity(128);
        encode_line(request, &mut out);
        if let Err(source) = self.writer.write_all(&out) {
            // A daemon that refuses a client writes why and closes at once, so the request can
            // meet a closed socket while the reason waits in ours: say that reason, not the pipe.
            if let Err(refused @ ClientError::Refused { .. }) = self.next_reply() {
                return Err(refused);
            }
            return Err(self.io(source));
        }
        self.next_reply()?.ok_or_else(|| ClientError::Closed {
            path: self.path.clone(),
        })
    }

    /// The next reply line; `None` when the daemon closed the connection. Error replies
    /// become [`ClientError::Refused`].
    fn next_reply(&mut self) -> Result<Option<Reply>, ClientError> {
        self.line.clear();
        let limit = MAX_REPLY_BYTES as u64 + 1;
        let read = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.line)
            .map_err(|source| ClientError::Io {
                path: self.path.clone(),
                source,
            })?;
        if read == 0 {
            return Ok(None);
        }
        if self.line.last() != Some(&b'\n') {
            let reason = if read > MAX_REPLY_BYTES {
                format!("a reply line longer than {MAX_REPLY_BYTES} bytes")
            } else {
                "the connection closed in the middle of a reply".to_owned()
            };
            return Err(self.bad_reply(reason));
        }
        let envelope: Envelope<Reply> = serde_json::from_slice(&self.line)
            .map_err(|error| self.bad_reply(format!("not a reply line: {error}")))?;
        if envelope.version != PROTOCOL_VERSION {
            let reason = format!(
                "protocol version {} (this client speaks version {PROTOCOL_VERSION})",
                envelope.version
            );
            return Err(self.bad_reply(reason));
        }
        match envelope.body {
            Reply::Error(message) => Err(ClientError::Refused {
                path: self.path.clone(),
                message,
            }),
            reply => Ok(Some(reply)),
        }
    }

    fn io(&self, source: io::Error) -> ClientError {
        ClientError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn bad_reply(&self, reason: String) -> ClientError {
        ClientError::BadReply {
            path: self.path.clone(),
            reason,
        }
    }

    fn unexpected(&self, wanted: &str, got: &Reply) -> ClientError {
        let got = match got {
            Reply::Status(_) => "status",
            Reply::Readers(_) => "readers",
            Reply::Stock(_) => "stock",
            Reply::Metrics(_) => "metrics",
            Reply::Epcis(_) => "epcis",
            Reply::Subscribed(_) => "subscribed",
            Reply::Event(_) => "event",
            Reply::Dropped(_) => "dropped",
            Reply::Count(_) => "count",
            Reply::Sale(_) => "sale",
            Reply::Departures(_) => "departures",
            Reply::Expected(_) => "expected",
            Reply::Reconcile(_) => "reconcile",
            Reply::Replenish(_) => "replenish",
            Reply::Refused(_) => "refused",
            Reply::Error(_) => "error",
        };
        self.bad_reply(format!("expected `{wanted}`, got `{got}`"))
    }
}

/// What a tail stream yields.
#[derive(Debug, Clone, PartialEq)]
pub enum TailLine {
    /// An event.
    Event(TailEvent),
    /// The daemon skipped this many events because this client read too slowly.
    Dropped(u64),
}

/// A live stream of events; iterate until it ends (`None`: the daemon closed it).
#[derive(Debug)]
pub struct TailStream {
    client: ControlClient,
}

impl Iterator for TailStream {
    type Item = Result<TailLine, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.client.next_reply() {
            Ok(None) => None,
            Ok(Some(Reply::Event(event))) => Some(Ok(TailLine::Event(event))),
            Ok(Some(Reply::Dropped(count))) => Some(Ok(TailLine::Dropped(count))),
            Ok(Some(other)) => Some(Err(self.client.unexpected("event", &other))),
            Err(error) => Some(Err(error)),
        }
    }
}

impl TailStream {
    /// How long to wait for the next line; `None` (the default) waits forever.
    pub fn set_timeout(&self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.client.set_reply_timeout(timeout)
    }
}

/// The reason in words a technician reads: "connection refused", not "Connection refused
/// (os error 111)".
fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such socket file".to_owned(),
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::PermissionDenied => {
            "permission denied (is this user in the daemon's group?)".to_owned()
        }
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "no reply in time".to_owned(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
            "the daemon closed the connection".to_owned()
        }
        _ => {
            let text = error.to_string();
            // Strip the " (os error N)" suffix and lower-case the first letter.
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text.to_owned(),
            }
        }
    }
}
