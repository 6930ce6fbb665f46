//! What both serial sessions (ThingMagic, R2000) keep below their protocol logic: the transport's
//! life (connect, close, reconnect after a backoff, finish), frames in from the deframer, the link
//! report and rate-limited complaints out, as [`SessionAction`]s queued for the task.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tagtally_core::{Backoff, BackoffPolicy, RepeatLimiter, SessionAction, TransportTimeouts};
use tagtally_protocol::serial_deframer::{Deframer, FrameFormat};

use crate::link_report::LinkReport;
use crate::{DriverCounters, DriverEvent, DriverOutput, Epc, Now, ReaderId, ReaderInfo, TagRead};

/// How long a reader's unchanged complaint stays muted.
const COMPLAINT_REPEAT_AFTER: Duration = Duration::from_secs(60);

/// How a serial session treats its transport; each family's settings hold the protocol's own timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialLinkTiming {
    /// Delays between attempts to open the link (SPEC §7: 1 s doubling to 60 s, jittered).
    pub reconnect: BackoffPolicy,
    /// A link that stayed up this long counts as healthy: the next outage starts the backoff over.
    pub healthy_after: Duration,
    /// Opening the device or the TCP bridge.
    pub connect_timeout: Duration,
    /// A write that takes longer means the line is stuck (a pseudo-terminal nobody reads, a TCP
    /// bridge whose peer vanished): the link is declared broken.
    pub write_timeout: Duration,
}

impl Default for SerialLinkTiming {
    fn default() -> Self {
        Self {
            reconnect: BackoffPolicy::STANDARD,
            healthy_after: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(2),
        }
    }
}

impl SerialLinkTiming {
    /// What the task bounds transport operations by.
    pub fn timeouts(&self) -> TransportTimeouts {
        TransportTimeouts {
            connect: self.connect_timeout,
            write: self.write_timeout,
        }
    }
}

/// Where the transport is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// None open; open one at `retry_at` (`None`: not started yet).
    Idle { retry_at: Option<Instant> },
    /// The task is opening one.
    Opening,
    /// Open: the session's protocol runs.
    Open,
    /// The session is over.
    Finished,
}

/// One serial module's line as its session sees it; the session owns the phase and decides.
#[derive(Debug)]
pub struct SerialLine<F: FrameFormat> {
    transport: Transport,
    timing: SerialLinkTiming,
    backoff: Backoff,
    /// When the current link came up, for the backoff's reset.
    up_since: Option<Instant>,
    /// A graceful stop was asked: the next end of the transport is the end of the session.
    stopping: bool,
    /// The timer last announced to the task.
    timer: Option<Instant>,
    deframer: Deframer<F>,
    link: LinkReport,
    actions: VecDeque<SessionAction>,
    complaints: RepeatLimiter,
    /// Good frames whose payload did not decode.
    undecodable: u64,
    /// How long the line must be quiet before the deframer may look past a partial frame.
    idle_gap: Duration,
    /// When a partial frame sits in the deframer and the line went quiet, it may look past it.
    idle_at: Option<Instant>,
    /// The latest `now` handed in, for bookkeeping deep inside a step.
    last_now: Option<Instant>,
    /// A frame with a good checksum came out of the deframer during the current drain.
    framed: bool,
}

impl<F: FrameFormat> SerialLine<F> {
    pub fn new(
        reader: ReaderId,
        deframer_capacity: usize,
        idle_gap: Duration,
        timing: SerialLinkTiming,
        seed: u64,
    ) -> Self {
        Self {
            transport: Transport::Idle { retry_at: None },
            timing,
            backoff: Backoff::new(timing.reconnect, seed),
            up_since: None,
            stopping: false,
            timer: None,
            deframer: Deframer::new(deframer_capacity),
            link: LinkReport::new(reader),
            actions: VecDeque::new(),
            complaints: RepeatLimiter::new(COMPLAINT_REPEAT_AFTER),
            undecodable: 0,
            idle_gap,
            idle_at: None,
            last_now: None,
            framed: false,
        }
    }

    pub fn reader(&self) -> ReaderId {
        self.link.reader()
    }

    pub fn counters(&self) -> DriverCounters {
        self.link.counters()
    }

    /// Records the `now` of the call being handled; every session entry point starts with it.
    pub fn note_now(&mut self, now: Instant) {
        self.last_now = Some(now);
    }

    pub fn timeouts(&self) -> TransportTimeouts {
        self.timing.timeouts()
    }

    /// The task started: ask for the first transport.
    pub fn start(&mut self, now: Instant) {
        self.note_now(now);
        if self.transport == (Transport::Idle { retry_at: None }) {
            self.open();
        }
    }

    /// Whether a transport is open (the protocol may run).
    pub fn is_open(&self) -> bool {
        self.transport == Transport::Open
    }

    /// A fresh transport: nothing buffered from the last one counts. `false` when the session
    /// must not use it (it was not asked for, or a stop came meanwhile: then it is closed again).
    pub fn on_connected(&mut self, now: Instant) -> bool {
        self.note_now(now);
        if self.transport != Transport::Opening {
            return false;
        }
        if self.stopping {
            self.actions.push_back(SessionAction::Close);
            self.finish();
            return false;
        }
        self.transport = Transport::Open;
        self.deframer.clear();
        self.idle_at = None;
        true
    }

    /// The transport could not be opened: report it and try again after the backoff.
    pub fn on_connect_failed(&mut self, reason: &str, now: Instant) {
        self.note_now(now);
        if self.transport != Transport::Opening {
            return;
        }
        self.report_down(reason);
        self.retry_later(now);
    }

    /// The open transport went away: report it, forget the half-received bytes, close it and try
    /// again after the backoff. `false` when no transport was open.
    pub fn on_link_lost(&mut self, reason: &str, now: Instant) -> bool {
        self.note_now(now);
        if !self.is_open() {
            return false;
        }
        self.report_down(reason);
        self.close_and_retry(now);
        true
    }

    /// The task's timer fired (it is spent: the next deadline is announced anew). `true` when it
    /// was the end of the backoff and a transport is now being opened.
    pub fn timer_fired(&mut self, now: Instant) -> bool {
        self.note_now(now);
        self.timer = None;
        match self.transport {
            Transport::Idle { retry_at: Some(at) } if at <= now => {
                self.open();
                true
            }
            _ => false,
        }
    }

    /// A graceful stop was asked. `true` when a transport is open and the protocol must stop the
    /// module first (then [`SerialLine::finish_stop`]); otherwise the session ends here or as soon
    /// as the transport being opened is.
    pub fn begin_stop(&mut self, now: Instant) -> bool {
        self.note_now(now);
        self.stopping = true;
        match self.transport {
            Transport::Open => true,
            Transport::Idle { .. } => {
                self.finish();
                false
            }
            Transport::Opening | Transport::Finished => false,
        }
    }

    fn open(&mut self) {
        self.transport = Transport::Opening;
        self.actions.push_back(SessionAction::Connect);
    }

    fn close_and_retry(&mut self, now: Instant) {
        self.deframer.clear();
        self.idle_at = None;
        self.actions.push_back(SessionAction::Close);
        self.retry_later(now);
    }

    /// Waits out the backoff before the next transport (reset first if the last link was healthy),
    /// or ends the session when a stop was asked.
    fn retry_later(&mut self, now: Instant) {
        if self.stopping {
            self.finish();
            return;
        }
        if self
            .up_since
            .take()
            .is_some_and(|since| now.saturating_duration_since(since) >= self.timing.healthy_after)
        {
            self.backoff.reset();
        }
        self.transport = Transport::Idle {
            retry_at: Some(now + self.backoff.next_delay()),
        };
    }

    fn finish(&mut self) {
        self.transport = Transport::Finished;
        self.actions.push_back(SessionAction::Finished);
    }

    /// Offers bytes to the deframer; returns how many it took (see `Deframer::push`).
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        self.deframer.push(bytes)
    }

    /// The next frame that decodes; frames that do not are counted as dropped and skipped.
    pub fn next_frame<T, E>(&mut self, decode: impl Fn(F::Frame<'_>) -> Result<T, E>) -> Option<T> {
        loop {
            let frame = self.deframer.next_frame()?;
            // Any whole frame with a good checksum proves the module is alive, decodable or not.
            self.framed = true;
            match decode(frame) {
                Ok(decoded) => return Some(decoded),
                Err(_) => self.undecodable += 1,
            }
        }
    }

    /// Ends a pass over the buffered frames: queues `reads` as one batch, then `Heard` when frames
    /// came while the link is up (rate-limited), and arms the idle timer while a partial frame is left.
    pub fn end_drain(&mut self, reads: Vec<TagRead>, now: Instant) {
        if !reads.is_empty() {
            // Reads go before whatever the frames after them caused (a stop, a link loss).
            let position = self
                .actions
                .iter()
                .position(|a| {
                    matches!(a, SessionAction::Close | SessionAction::Finished)
                        || matches!(
                            a,
                            SessionAction::Output(DriverOutput::Event(
                                DriverEvent::LinkDown { .. }
                            ))
                        )
                })
                .unwrap_or(self.actions.len());
            self.actions
                .insert(position, SessionAction::Output(DriverOutput::Reads(reads)));
        }
        if std::mem::take(&mut self.framed) {
            // Up means no LinkDown was queued since, so this goes last.
            if let Some(heard) = self.link.heard(now) {
                self.output(heard);
            }
        }
        self.account_drops();
        self.idle_at = (self.deframer.buffered() > 0).then(|| now + self.idle_gap);
    }

    /// A tag read from this reader at `now`, counted as delivered.
    pub fn tag_read(
        &mut self,
        antenna: u16,
        epc: Epc,
        rssi_cdbm: Option<i16>,
        now: Now,
    ) -> TagRead {
        self.link.add_reads(1, now.instant);
        TagRead {
            reader: self.link.reader(),
            antenna,
            epc,
            rssi_cdbm,
            time: now.utc,
        }
    }

    /// A frame that decoded but carried nothing usable (a bad EPC): counted as dropped.
    pub fn count_undecodable(&mut self) {
        self.undecodable += 1;
    }

    /// Whether the idle gap passed with a partial frame buffered; if so, the deframer may now
    /// look past it and the session should drain frames again.
    pub fn take_idle(&mut self, now: Instant) -> bool {
        if self.idle_at.is_some_and(|at| at <= now) {
            self.idle_at = None;
            self.deframer.on_idle();
            true
        } else {
            false
        }
    }

    /// Sends the counters when they are due.
    pub fn on_timer(&mut self, now: Instant) {
        if let Some(output) = self.link.on_timer(now) {
            self.output(output);
        }
    }

    /// The earliest of the session's own `phase_deadline`, the idle gap, the counters report and
    /// the end of the backoff; none once the session is over.
    fn next_deadline(&self, phase_deadline: Option<Instant>) -> Option<Instant> {
        let retry_at = match self.transport {
            Transport::Idle { retry_at } => retry_at,
            Transport::Finished => return None,
            Transport::Opening | Transport::Open => None,
        };
        [phase_deadline, self.idle_at, self.link.deadline(), retry_at]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn send(&mut self, bytes: Vec<u8>) {
        self.actions.push_back(SessionAction::Send(bytes));
    }

    pub fn output(&mut self, output: DriverOutput) {
        self.actions.push_back(SessionAction::Output(output));
    }

    pub fn event(&mut self, event: DriverEvent) {
        self.output(DriverOutput::Event(event));
    }

    /// Reports what the reader complains about, unless it is saying the same thing again.
    pub fn reader_error(&mut self, message: String, now: Instant) {
        if self.complaints.allow(&message, now) {
            let reader = self.link.reader();
            self.event(DriverEvent::ReaderError { reader, message });
        }
    }

    /// A new link starts with a clean slate of complaints, and is announced with `info`.
    pub fn report_up(&mut self, info: ReaderInfo) {
        self.up_since = self.last_now;
        self.complaints.clear();
        for output in self.link.up(info) {
            self.output(output);
        }
    }

    /// Gives up on this link: says why, closes it and reconnects after the backoff.
    pub fn fail(&mut self, reason: &str) {
        if !self.is_open() {
            return;
        }
        self.report_down(reason);
        // Open implies `on_connected` noted a time.
        if let Some(now) = self.last_now {
            self.close_and_retry(now);
        }
    }

    /// A graceful stop finished: says so, closes the link and ends the session.
    pub fn finish_stop(&mut self) {
        if self.transport == Transport::Finished {
            return;
        }
        self.report_down("driver stopped");
        if self.is_open() {
            self.actions.push_back(SessionAction::Close);
        }
        self.finish();
    }

    /// The next action; once the queue is empty, the timer when the session's next deadline
    /// (`phase_deadline` and the line's own) changed since it was last announced.
    pub fn poll_action(&mut self, phase_deadline: Option<Instant>) -> Option<SessionAction> {
        if let Some(action) = self.actions.pop_front() {
            return Some(action);
        }
        let deadline = self.next_deadline(phase_deadline);
        if deadline == self.timer || self.transport == Transport::Finished {
            return None;
        }
        self.timer = deadline;
        Some(SessionAction::Timer(deadline))
    }

    fn report_down(&mut self, reason: &str) {
        self.account_drops();
        for output in self.link.down(reason) {
            self.output(output);
        }
    }

    /// Brings the drop counters up to date (before any event that reports counters).
    fn account_drops(&mut self) {
        let Some(now) = self.last_now else {
            return;
        };
        let stats = self.deframer.stats();
        // Only R2000 has impossible LEN values; for ThingMagic `bad_length` stays zero.
        self.link.set_drops(
            stats.bad_checksum
                + stats.bad_length
                + stats.abandoned_partial_frames
                + self.undecodable,
            stats.bytes_discarded,
            now,
        );
    }
}

/// The bits a serial module's EPC field carries (both families frame whole bytes).
pub fn bits_of(epc: &[u8]) -> u32 {
    u32::try_from(epc.len()).map_or(u32::MAX, |bytes| bytes.saturating_mul(8))
}
