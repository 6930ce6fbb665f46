//! What both serial sessions (ThingMagic, R2000) keep below their protocol logic: frames in from
//! the deframer, the link report and rate-limited complaints out, as actions queued for the task.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tagtally_protocol::serial_deframer::{Deframer, FrameFormat};

use crate::link_report::LinkReport;
use crate::repeat_limiter::RepeatLimiter;
use crate::serial_session::SessionAction;
use crate::{DriverCounters, DriverEvent, DriverOutput, Epc, Now, ReaderId, ReaderInfo, TagRead};

/// One serial module's line as its session sees it; the session owns the phase and decides.
#[derive(Debug)]
pub struct SerialLine<F: FrameFormat> {
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
    pub fn new(reader: ReaderId, deframer_capacity: usize, idle_gap: Duration) -> Self {
        Self {
            deframer: Deframer::new(deframer_capacity),
            link: LinkReport::new(reader),
            actions: VecDeque::new(),
            complaints: RepeatLimiter::default(),
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

    /// A fresh transport: nothing buffered from the last one counts.
    pub fn on_connected(&mut self, now: Instant) {
        self.note_now(now);
        self.deframer.clear();
        self.idle_at = None;
    }

    /// The transport went away: report it and forget the half-received bytes.
    pub fn on_link_lost(&mut self, reason: &str, now: Instant) {
        self.note_now(now);
        self.report_down(reason);
        self.deframer.clear();
        self.idle_at = None;
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
                    matches!(a, SessionAction::Reconnect | SessionAction::Stopped)
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

    /// The earliest of the session's own `phase_deadline`, the idle gap and the counters report.
    pub fn next_deadline(&self, phase_deadline: Option<Instant>) -> Option<Instant> {
        [phase_deadline, self.idle_at, self.link.deadline()]
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
        self.complaints.clear();
        for output in self.link.up(info) {
            self.output(output);
        }
    }

    /// Gives up on this link: says why, then asks the task to reconnect.
    pub fn fail(&mut self, reason: &str) {
        self.report_down(reason);
        self.actions.push_back(SessionAction::Reconnect);
    }

    /// A graceful stop finished: says so, then asks the task to end.
    pub fn finish_stop(&mut self) {
        self.report_down("driver stopped");
        self.actions.push_back(SessionAction::Stopped);
    }

    pub fn poll_action(&mut self) -> Option<SessionAction> {
        self.actions.pop_front()
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
