//! The contract between a sans-IO serial session (ThingMagic, R2000) and the task that moves its bytes.

use std::time::Instant;

use crate::{DriverOutput, Now};

/// What a session asks its task to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionAction {
    /// Write these bytes to the transport.
    Send(Vec<u8>),
    /// Hand this downstream (awaiting the bounded channel: that is the back-pressure).
    Output(DriverOutput),
    /// Close the transport and reconnect after a backoff; the session already reported why.
    Reconnect,
    /// A graceful stop finished: close the transport and end the task.
    Stopped,
}

/// A reader session that makes every decision and does no I/O (ntpd-rs style): the task feeds
/// it bytes, timer expiries and link changes with an explicit [`Now`], and carries out the
/// [`SessionAction`]s it queues.
pub trait SerialSession {
    /// A fresh transport is open: start the setup from scratch.
    fn on_connected(&mut self, now: Now);
    /// Bytes arrived from the transport (one read's worth).
    fn on_bytes(&mut self, bytes: &[u8], now: Now);
    /// The deadline returned by [`SerialSession::next_deadline`] passed.
    fn on_timer(&mut self, now: Now);
    /// The transport could not be opened, or it failed or closed; `reason` says how.
    fn on_link_lost(&mut self, reason: &str, now: Now);
    /// Stop gracefully: tell the reader to stop, then queue [`SessionAction::Stopped`].
    fn stop(&mut self, now: Now);
    /// When the session next needs [`SerialSession::on_timer`].
    fn next_deadline(&self) -> Option<Instant>;
    /// The next thing to do, if any.
    fn poll_action(&mut self) -> Option<SessionAction>;
}
