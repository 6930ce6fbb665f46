//! The one contract between a reader session (LLRP, ThingMagic, R2000, any future family) and the task that moves its bytes.
//!
//! A session makes every decision and does no I/O (ntpd-rs style): the task feeds it transport
//! events, timer expiries and shutdown, each with an explicit [`Now`], and carries out the
//! [`SessionAction`]s it queues, in order. Reconnecting is the session's decision too: it asks for
//! [`SessionAction::Connect`] when its own backoff has run out, so the task holds no policy at all.

use std::time::{Duration, Instant};

use crate::{DriverOutput, Now};

/// What a session asks its task to do.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionAction {
    /// Open the transport (within [`TransportTimeouts::connect`]); answer with
    /// [`Session::on_connected`] or [`Session::on_connect_failed`].
    Connect,
    /// Write these bytes (within [`TransportTimeouts::write`], else [`Session::on_link_lost`]).
    Send(Vec<u8>),
    /// Close the transport; the session asks for `Connect` again when it wants a new one.
    Close,
    /// Hand this downstream, awaiting the bounded channel: that is the back-pressure.
    Output(DriverOutput),
    /// Call [`Session::on_timer`] at this instant (`None`: no timer); replaces the previous one. A
    /// timer fires once: after `on_timer` the session announces its next one.
    Timer(Option<Instant>),
    /// The session is over (a graceful shutdown completed): the task ends.
    Finished,
}

/// How the transport ended under the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkLoss {
    /// The peer closed it (end of stream).
    Closed,
    /// A read or write failed or got stuck; the text says how.
    Failed(String),
}

/// How long the task may wait on the transport on the session's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportTimeouts {
    /// Opening the transport.
    pub connect: Duration,
    /// One write: a write that cannot finish within this is a dead link (the peer stopped reading).
    pub write: Duration,
}

/// A reader session: bytes, time and link changes in, [`SessionAction`]s out.
pub trait Session {
    /// The task's limits on transport operations.
    fn timeouts(&self) -> TransportTimeouts;
    /// The task started: ask for the first connection.
    fn start(&mut self, now: Now);
    /// The transport asked for by `Connect` is open.
    fn on_connected(&mut self, now: Now);
    /// The transport could not be opened; `reason` is a sentence naming where and why.
    fn on_connect_failed(&mut self, now: Now, reason: &str);
    /// Bytes arrived (one read's worth).
    fn on_bytes(&mut self, now: Now, bytes: &[u8]);
    /// The open transport ended or failed.
    fn on_link_lost(&mut self, now: Now, loss: LinkLoss);
    /// The instant of the last `Timer` passed (early or late calls are harmless).
    fn on_timer(&mut self, now: Now);
    /// Stop gracefully: tell the reader, close, then queue `Finished`.
    fn shutdown(&mut self, now: Now);
    /// The next thing to do, if any.
    fn poll_action(&mut self) -> Option<SessionAction>;
}
