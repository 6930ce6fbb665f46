//! The control socket: how the technician CLI talks to the running daemon (SPEC §5, §9).
//!
//! # Protocol
//!
//! A Unix stream socket (`control-socket` in the config, mode 0660, group = the service
//! group) carrying JSON lines; every line in either direction has `"version": 1`. A client
//! sends a request line and reads one reply line, as often as it likes on one connection; a
//! `tail` request turns the connection into an event stream. [`protocol`] has the grammar,
//! `docs/CONTROL.md` every document with examples.
//!
//! # Data model
//!
//! [`model`]: [`Status`], [`ReaderStatus`] (with [`AntennaStatus`]), [`Stock`] (exactly the
//! SPEC §5 document) and [`TailEvent`]; filters in [`filter`].
//!
//! # Hooking it up in the daemon
//!
//! The daemon implements [`ControlBackend`] over state its tasks already publish (for
//! `stock`: the latest [`StockSnapshot`] the engine published, which keeps the round trip
//! under 1 ms whatever ingest is doing; see the trait's documentation), creates one
//! [`TailHub`] and hands clones to whoever produces events (the engine for arrivals,
//! departures and moves; the ingest path for reads, after checking
//! [`TailHub::is_watched`]), then binds and serves:
//!
//! ```no_run
//! # async fn run(backend: std::sync::Arc<tagtally::control::FixedBackend>,
//! #              stop: impl std::future::Future<Output = ()> + Send + 'static)
//! #              -> Result<(), Box<dyn std::error::Error>> {
//! use tagtally::control::{ControlServer, ServerLimits};
//! let server = ControlServer::bind("/run/tagtally/control.sock", ServerLimits::default())?;
//! tokio::spawn(server.serve(backend, stop)); // returns once `stop` completes
//! # Ok(()) }
//! ```
//!
//! Binding refuses to start when another daemon answers on the path and replaces a stale
//! socket file; serving removes the file when it ends. A client never blocks the daemon: each
//! has its own task, replies are bounded by timeouts and tail clients read from a bounded ring.
//!
//! The CLI side is [`ControlClient`] (blocking: the commands are one request each).

mod backend;
pub mod book;
mod client;
mod filter;
mod fixed;
pub mod model;
pub mod operations;
pub mod protocol;
pub mod replenish;
mod server;
mod snapshot;
mod tail;
mod timestamp;

pub use backend::{BackendError, ControlBackend};
pub use client::{ClientError, ControlClient, TailLine, TailStream, DEFAULT_REPLY_TIMEOUT};
pub use filter::{EpcisRange, StockFilter, TailFilter};
pub use fixed::FixedBackend;
pub use model::{
    AntennaStatus, Build, ClockSync, DatabaseState, EpcisOutbox, Link, Mqtt, MqttState, Outbox,
    ReaderLinkState, ReaderStatus, StateDatabase, Status, Stock, StockCount, StockZone,
    SystemClock, TailEvent, TailKind,
};
pub use server::{BindError, ControlServer, ServerLimits, SOCKET_MODE};
pub use snapshot::StockSnapshot;
pub use tail::{TailHub, TailItem, TailSubscription, DEFAULT_TAIL_CAPACITY};
pub use timestamp::Timestamp;
