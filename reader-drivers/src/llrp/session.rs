//! The LLRP client session as a sans-IO state machine: bytes and time in, actions out (connect, send, close, reads, events, timers).
//!
//! One `LlrpSession` lives as long as its driver and spans every connection: it decides when to
//! connect, what to send, when the link is dead and how long to back off. It reads no clock and
//! touches no socket, so a unit test drives it with byte slices and explicit instants; the tokio
//! task in `task.rs` only carries the actions out.
//!
//! Per connection: wait for the ConnectionAttemptEvent → GET_READER_CAPABILITIES → (Impinj)
//! IMPINJ_ENABLE_EXTENSIONS → SET_READER_CONFIG → DELETE_ROSPEC (ours, left by an earlier run)
//! → ADD_ROSPEC → ENABLE_ROSPEC (→ START_ROSPEC) → streaming. Requests go one at a time; the
//! next is sent when the previous is answered. Graceful shutdown disables and deletes our
//! ROSpec, then CLOSE_CONNECTION.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tagtally_protocol::epc::check_read_length;
use tagtally_protocol::llrp::{
    next_frame, CapabilitiesRequest, ConnectionAttemptStatus, FrameLimits, Framed, Message,
    MessageType, MessageView, ProtocolVersion, ReaderCapabilities, ReaderEvent, TagReports,
    HEADER_LEN, IMPINJ_VENDOR_ID,
};
use tagtally_protocol::text::{escape, Escaped};

use super::error::LinkError;
use super::model_name::describe;
use super::plan;
use super::settings::{LlrpSettings, StartTrigger, OUR_ROSPEC_ID};
use super::timestamps::ReadClock;
use tagtally_core::{Backoff, LinkLoss, Session, SessionAction, TransportTimeouts};

use crate::link_report::HeardLimiter;
use crate::{
    DriverCounters, DriverEvent, DriverOutput, Epc, Now, ReaderInfo, TagRead, MAX_EPC_BYTES,
};

/// A request of the connection sequence, and its response type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Capabilities,
    ImpinjExtensions,
    SetConfig,
    DeleteStale,
    AddRospec,
    EnableRospec,
    StartRospec,
    // Graceful shutdown.
    Disable,
    Delete,
    CloseConnection,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Capabilities => "GET_READER_CAPABILITIES",
            Step::ImpinjExtensions => "IMPINJ_ENABLE_EXTENSIONS",
            Step::SetConfig => "SET_READER_CONFIG",
            Step::DeleteStale | Step::Delete => "DELETE_ROSPEC",
            Step::AddRospec => "ADD_ROSPEC",
            Step::EnableRospec => "ENABLE_ROSPEC",
            Step::StartRospec => "START_ROSPEC",
            Step::Disable => "DISABLE_ROSPEC",
            Step::CloseConnection => "CLOSE_CONNECTION",
        }
    }

    fn response_type(self) -> MessageType {
        match self {
            Step::Capabilities => MessageType::GetReaderCapabilitiesResponse,
            Step::ImpinjExtensions => MessageType::CustomMessage,
            Step::SetConfig => MessageType::SetReaderConfigResponse,
            Step::DeleteStale | Step::Delete => MessageType::DeleteRoSpecResponse,
            Step::AddRospec => MessageType::AddRoSpecResponse,
            Step::EnableRospec => MessageType::EnableRoSpecResponse,
            Step::StartRospec => MessageType::StartRoSpecResponse,
            Step::Disable => MessageType::DisableRoSpecResponse,
            Step::CloseConnection => MessageType::CloseConnectionResponse,
        }
    }

    fn is_shutdown(self) -> bool {
        matches!(self, Step::Disable | Step::Delete | Step::CloseConnection)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not connected; connect at `retry_at` (`None`: not started yet).
    Idle { retry_at: Option<Instant> },
    /// The task is connecting.
    Connecting,
    /// Connected; the reader has not yet said whether it accepts us.
    AwaitingConnectionEvent { deadline: Instant },
    /// A request is outstanding.
    Request { step: Step, deadline: Instant },
    /// Reports flow.
    Streaming,
    /// Shutdown is complete.
    Finished,
}

/// How often cumulative counters are sent while they change.
const COUNTERS_EVERY: Duration = Duration::from_secs(10);

/// A timer that fires this much later than it was set for means this process did not run (SIGSTOP,
/// a paused VM, a starved host): the reader's bytes of that time may still sit unread in the socket.
const STALL_TOLERANCE: Duration = Duration::from_secs(1);

/// After such a stall, deadlines are judged only this much later, once the runtime has read what the
/// socket buffered meanwhile (a stop and continue can make the I/O driver miss it until its next turn).
const STALL_GRACE: Duration = Duration::from_millis(500);

/// The LLRP client session of one reader.
#[derive(Debug)]
pub struct LlrpSession {
    settings: LlrpSettings,
    limits: FrameLimits,
    phase: Phase,
    actions: VecDeque<SessionAction>,
    timer: Option<Instant>,
    /// Deadlines wait until this instant: the grace after a stall (see [`STALL_GRACE`]).
    stall_grace: Option<Instant>,
    /// The reason of the `LinkDown` said since the last `LinkUp`: a failed reconnect attempt for
    /// the same reason does not repeat it (it is counted in `failed_connects`), so an unreachable
    /// reader costs no event per try; a new reason (a refusal after a drop) is said.
    down_said: Option<String>,
    backoff: Backoff,
    counters: DriverCounters,
    counters_sent: DriverCounters,
    counters_due: Option<Instant>,
    shutting_down: bool,
    // Per connection.
    rx: Vec<u8>,
    next_id: u32,
    version: ProtocolVersion,
    caps: Option<ReaderCapabilities>,
    impinj: bool,
    last_rx: Instant,
    last_report: Instant,
    up_since: Option<Instant>,
    heard: HeardLimiter,
    clock: ReadClock,
    skew_reported: bool,
}

impl LlrpSession {
    /// A session for `settings`; `seed` feeds the reconnect backoff's jitter.
    pub fn new(settings: LlrpSettings, seed: u64, now: Instant) -> Self {
        let tolerance_us = i64::try_from(settings.max_clock_skew.as_micros()).unwrap_or(i64::MAX);
        let report_age_us = i64::try_from(settings.report_every.as_micros())
            .unwrap_or(i64::MAX)
            .saturating_add(1_000_000);
        let backoff = Backoff::new(settings.reconnect, seed);
        LlrpSession {
            settings,
            limits: FrameLimits::default(),
            phase: Phase::Idle { retry_at: None },
            actions: VecDeque::new(),
            timer: None,
            stall_grace: None,
            down_said: None,
            backoff,
            counters: DriverCounters::default(),
            counters_sent: DriverCounters::default(),
            counters_due: None,
            shutting_down: false,
            rx: Vec::new(),
            next_id: 1,
            version: ProtocolVersion::V1_0_1,
            caps: None,
            impinj: false,
            last_rx: now,
            last_report: now,
            up_since: None,
            heard: HeardLimiter::default(),
            clock: ReadClock::new(tolerance_us, report_age_us),
            skew_reported: false,
        }
    }

    /// The settings this session runs with.
    pub fn settings(&self) -> &LlrpSettings {
        &self.settings
    }

    /// Counters since the session was created.
    pub fn counters(&self) -> DriverCounters {
        self.counters
    }

    /// True while reports flow.
    pub fn is_streaming(&self) -> bool {
        self.phase == Phase::Streaming
    }

    fn is_connected(&self) -> bool {
        matches!(
            self.phase,
            Phase::AwaitingConnectionEvent { .. } | Phase::Request { .. } | Phase::Streaming
        )
    }

    fn connect(&mut self) {
        self.phase = Phase::Connecting;
        self.actions.push_back(SessionAction::Connect);
    }

    fn finish(&mut self) {
        self.phase = Phase::Finished;
        self.emit_counters_if_changed();
        self.timer = None;
        self.actions.push_back(SessionAction::Timer(None));
        self.actions.push_back(SessionAction::Finished);
    }

    fn on_transport_gone(&mut self, now: Now, error: LinkError) {
        match self.phase {
            // The reader may close as soon as it answered CLOSE_CONNECTION: the normal end.
            Phase::Request { step, .. } if step.is_shutdown() => self.finish_shutdown(),
            _ if self.is_connected() => self.link_lost(now, error, true),
            _ => {}
        }
        self.update_timer(now);
    }

    /// The link is gone for `error`: tell downstream, close, and back off (or finish when
    /// shutting down). `close` is false when there was no transport to close.
    fn link_lost(&mut self, now: Now, error: LinkError, close: bool) {
        self.stall_grace = None;
        if close {
            self.actions.push_back(SessionAction::Close);
        }
        if error.is_reader_refusal() {
            self.output(DriverEvent::ReaderError {
                reader: self.settings.reader,
                message: error.to_string(),
            });
        }
        match self.up_since.take() {
            Some(since) => {
                self.counters.disconnects += 1;
                if now.instant.saturating_duration_since(since) >= self.settings.healthy_after {
                    self.backoff.reset();
                }
            }
            None if !matches!(error, LinkError::Shutdown) => self.counters.failed_connects += 1,
            None => {}
        }
        let reason = error.to_string();
        if self.down_said.as_deref() != Some(reason.as_str()) {
            self.output(DriverEvent::LinkDown {
                reader: self.settings.reader,
                reason: reason.clone(),
            });
            self.down_said = Some(reason);
        }
        self.emit_counters_if_changed();
        self.counters_due = None;
        if self.shutting_down {
            self.finish();
            return;
        }
        let delay = self.backoff.next_delay();
        self.phase = Phase::Idle {
            retry_at: Some(now.instant + delay),
        };
    }

    /// The end of a graceful shutdown: close, report the link down, finish.
    fn finish_shutdown(&mut self) {
        self.actions.push_back(SessionAction::Close);
        if self.up_since.take().is_some() {
            self.counters.disconnects += 1;
        }
        self.emit_link_down(LinkError::Shutdown);
        self.finish();
    }

    fn emit_link_down(&mut self, error: LinkError) {
        self.output(DriverEvent::LinkDown {
            reader: self.settings.reader,
            reason: error.to_string(),
        });
    }

    fn output(&mut self, event: DriverEvent) {
        self.actions
            .push_back(SessionAction::Output(DriverOutput::Event(event)));
    }

    fn emit_counters_if_changed(&mut self) {
        if self.counters != self.counters_sent {
            self.counters_sent = self.counters;
            self.output(DriverEvent::Counters {
                reader: self.settings.reader,
                counters: self.counters,
            });
        }
    }

    fn send(&mut self, message: &Message) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.send_with_id(message, id);
        id
    }

    fn send_with_id(&mut self, message: &Message, id: u32) {
        let mut bytes = Vec::new();
        // Our messages are small and fixed in shape; an encode error would be a bug in what we
        // built, and sending nothing then ends in a response timeout, which is reported.
        if message.encode(self.version, id, &mut bytes).is_ok() {
            self.actions.push_back(SessionAction::Send(bytes));
        }
    }

    fn request(&mut self, now: Now, step: Step) {
        let message = match step {
            Step::Capabilities => Message::GetReaderCapabilities(CapabilitiesRequest::All),
            Step::ImpinjExtensions => Message::ImpinjEnableExtensions,
            Step::SetConfig => {
                let empty = ReaderCapabilities {
                    status: tagtally_protocol::llrp::LlrpStatus::success(),
                    general: None,
                    regulatory: None,
                };
                let caps = self.caps.as_ref().unwrap_or(&empty);
                Message::SetReaderConfig {
                    reset_to_factory_default: false,
                    config: plan::reader_config(&self.settings, caps),
                }
            }
            Step::DeleteStale | Step::Delete => Message::DeleteRoSpec {
                rospec_id: OUR_ROSPEC_ID,
            },
            Step::AddRospec => Message::AddRoSpec(plan::rospec(&self.settings, self.impinj)),
            Step::EnableRospec => Message::EnableRoSpec {
                rospec_id: OUR_ROSPEC_ID,
            },
            Step::StartRospec => Message::StartRoSpec {
                rospec_id: OUR_ROSPEC_ID,
            },
            Step::Disable => Message::DisableRoSpec {
                rospec_id: OUR_ROSPEC_ID,
            },
            Step::CloseConnection => Message::CloseConnection,
        };
        self.send(&message);
        self.phase = Phase::Request {
            step,
            deadline: now.instant + self.settings.response_timeout,
        };
    }

    fn on_message(&mut self, now: Now, view: &MessageView<'_>) {
        let header = view.header();
        match header.msg_type {
            MessageType::RoAccessReport => return self.on_report(now, view),
            MessageType::Keepalive => {
                // Echo the id: what EdgeX does and what readers match acks by.
                self.send_with_id(&Message::KeepaliveAck, header.id);
                return;
            }
            _ => {}
        }
        let awaited = match self.phase {
            Phase::Request { step, .. } if step.response_type() == header.msg_type => Some(step),
            _ => None,
        };
        let message = match Message::decode(view) {
            Ok(message) => message,
            Err(error) => {
                self.counters.frames_dropped += 1;
                if let Some(step) = awaited {
                    let error = LinkError::UndecodableResponse {
                        request: step.name(),
                        error,
                    };
                    self.link_lost(now, error, true);
                }
                return;
            }
        };
        match message {
            Message::ReaderEventNotification(data) => {
                if let Phase::AwaitingConnectionEvent { .. } = self.phase {
                    // Speak the version the reader speaks to us (1.0.1 or 1.1).
                    self.version = header.version;
                }
                let timestamp = data.timestamp;
                for event in data.events {
                    self.on_reader_event(now, event, timestamp);
                    if !self.is_connected() {
                        break;
                    }
                }
            }
            Message::ErrorMessage(status) => match awaited.or(match self.phase {
                Phase::Request { step, .. } => Some(step),
                _ => None,
            }) {
                // The reader refused our outstanding request outright (e.g. M_UnsupportedMessage).
                Some(step) => self.on_response(now, step, Some(status.to_string()), None),
                None => self.output(DriverEvent::ReaderError {
                    reader: self.settings.reader,
                    message: format!("reader error message: {status}"),
                }),
            },
            other => {
                // A type this driver does not know, or a vendor extension it does not speak.
                if matches!(other, Message::Unknown { .. } | Message::Custom { .. }) {
                    self.counters.unknown_messages += 1;
                }
                let Some(step) = awaited else {
                    return;
                };
                if step == Step::ImpinjExtensions
                    && !matches!(other, Message::ImpinjEnableExtensionsResponse(_))
                {
                    return;
                }
                let refusal = other
                    .status()
                    .filter(|status| !status.is_success())
                    .map(|status| status.to_string());
                self.on_response(now, step, refusal, Some(other));
            }
        }
    }

    fn on_reader_event(
        &mut self,
        now: Now,
        event: ReaderEvent,
        timestamp: Option<tagtally_protocol::llrp::Timestamp>,
    ) {
        let reader = self.settings.reader;
        match event {
            ReaderEvent::ConnectionAttempt(status) => match (self.phase, status) {
                (Phase::AwaitingConnectionEvent { .. }, ConnectionAttemptStatus::Success) => {
                    if let Some(skew_ms) = self.clock.on_connect(timestamp, now.utc) {
                        self.report_skew(skew_ms);
                    }
                    // Undo a hold a previous client may have configured; no response exists.
                    self.send(&Message::EnableEventsAndReports);
                    self.request(now, Step::Capabilities);
                }
                (Phase::AwaitingConnectionEvent { .. }, refused) => {
                    self.link_lost(now, LinkError::ConnectionRefused { status: refused }, true);
                }
                (_, ConnectionAttemptStatus::AnotherConnectionAttempted) => {
                    self.output(DriverEvent::ReaderError {
                        reader,
                        message: "another client tried to connect to the reader".into(),
                    });
                }
                _ => {}
            },
            ReaderEvent::ConnectionClose => {
                self.link_lost(now, LinkError::ReaderClosing, true);
            }
            ReaderEvent::Antenna {
                event_type,
                antenna_id,
            } => self.output(DriverEvent::Antenna {
                reader,
                antenna: antenna_id,
                connected: event_type == tagtally_protocol::llrp::AntennaEventType::Connected,
            }),
            ReaderEvent::ReaderException { message } => self.output(DriverEvent::ReaderError {
                reader,
                message: format!("reader exception: {}", Escaped(&message)),
            }),
            ReaderEvent::ReportBufferLevelWarning { percent_full } => {
                self.output(DriverEvent::ReaderError {
                    reader,
                    message: format!("reader report buffer {percent_full}% full"),
                })
            }
            ReaderEvent::ReportBufferOverflowError => self.output(DriverEvent::ReaderError {
                reader,
                message: "reader report buffer overflowed: reads were lost".into(),
            }),
            _ => {}
        }
    }

    /// The response to `step`: `refusal` holds the reader's status text when it said no.
    fn on_response(
        &mut self,
        now: Now,
        step: Step,
        refusal: Option<String>,
        message: Option<Message>,
    ) {
        if step.is_shutdown() {
            // Shutdown goes on whatever the reader answers: we leave either way.
            match step {
                Step::Disable => self.request(now, Step::Delete),
                Step::Delete => self.request(now, Step::CloseConnection),
                _ => self.finish_shutdown(),
            }
            return;
        }
        if let Some(status) = refusal {
            match step {
                // No stale ROSpec of ours is the usual case, not a failure.
                Step::DeleteStale => {}
                // Without extensions we simply use the standard whole-dBm RSSI.
                Step::ImpinjExtensions => {
                    self.output(DriverEvent::ReaderError {
                        reader: self.settings.reader,
                        message: format!("IMPINJ_ENABLE_EXTENSIONS rejected: {status}"),
                    });
                }
                _ => {
                    let error = LinkError::Rejected {
                        request: step.name(),
                        status,
                    };
                    self.link_lost(now, error, true);
                    return;
                }
            }
        }
        match step {
            Step::Capabilities => {
                if let Some(Message::GetReaderCapabilitiesResponse(caps)) = message {
                    self.caps = Some(caps);
                }
                let is_impinj = self
                    .caps
                    .as_ref()
                    .and_then(|c| c.general.as_ref())
                    .is_some_and(|g| g.manufacturer == IMPINJ_VENDOR_ID);
                if is_impinj {
                    self.request(now, Step::ImpinjExtensions);
                } else {
                    self.request(now, Step::SetConfig);
                }
            }
            Step::ImpinjExtensions => {
                self.impinj = matches!(
                    message,
                    Some(Message::ImpinjEnableExtensionsResponse(ref s)) if s.is_success()
                );
                self.request(now, Step::SetConfig);
            }
            Step::SetConfig => self.request(now, Step::DeleteStale),
            Step::DeleteStale => self.request(now, Step::AddRospec),
            Step::AddRospec => self.request(now, Step::EnableRospec),
            Step::EnableRospec => match self.settings.start_trigger {
                StartTrigger::Immediate => self.link_up(now),
                StartTrigger::OnStartCommand => self.request(now, Step::StartRospec),
            },
            Step::StartRospec => self.link_up(now),
            Step::Disable | Step::Delete | Step::CloseConnection => {}
        }
    }

    fn link_up(&mut self, now: Now) {
        self.phase = Phase::Streaming;
        self.up_since = Some(now.instant);
        self.heard.reset();
        self.last_report = now.instant;
        self.counters.connects += 1;
        let info = match self.caps.as_ref().and_then(|c| c.general.as_ref()) {
            Some(g) => ReaderInfo {
                model: describe(g.manufacturer, g.model),
                // Reader text goes to logs and terminals: escaped once, here, where it enters.
                firmware: escape(&g.firmware_version),
                antenna_count: g.max_antennas,
            },
            None => ReaderInfo::default(),
        };
        self.down_said = None;
        self.output(DriverEvent::LinkUp {
            reader: self.settings.reader,
            info,
        });
        self.emit_counters_if_changed();
        self.counters_due = Some(now.instant + COUNTERS_EVERY);
    }

    fn report_skew(&mut self, skew_ms: i64) {
        if !self.skew_reported {
            self.skew_reported = true;
            self.output(DriverEvent::ClockSkew {
                reader: self.settings.reader,
                skew_ms,
            });
        }
    }

    /// One RO_ACCESS_REPORT → `Reads` batches of at most [`MAX_BATCH_READS`], in one walk of the
    /// report. A batch is sized from the report's length (no report of EPC-96 reads holds more
    /// than one per [`EPC96_REPORT_BYTES`]), so the per-read path allocates nothing.
    fn on_report(&mut self, now: Now, view: &MessageView<'_>) {
        self.last_report = now.instant;
        let body = view.body();
        let mut left = body.len() / EPC96_REPORT_BYTES + 1;
        let mut batch = Vec::with_capacity(left.min(MAX_BATCH_READS));
        let default_antenna = match self.settings.antennas.as_slice() {
            [only] => *only,
            _ => 0,
        };
        let reader = self.settings.reader;
        let mut skew = None;
        for report in TagReports::new(body) {
            let Ok(report) = report else {
                self.counters.frames_dropped += 1;
                continue;
            };
            // No EPC, or less of one than the tag's PC word announces: a damaged read, never stock.
            if check_read_length(u32::from(report.epc_bits), report.c1g2_pc).is_err() {
                self.counters.frames_dropped += 1;
                continue;
            }
            if report.epc.len() > MAX_EPC_BYTES {
                self.counters.frames_dropped += 1;
                continue;
            }
            let (time, skew_ms) = self.clock.read_time(report.first_seen_us(), now.utc);
            skew = skew.or(skew_ms);
            // Built where it stays, its EPC set in place (see `Epc::set`).
            batch.push(TagRead {
                reader,
                antenna: report.antenna_id.unwrap_or(default_antenna),
                epc: Epc::EMPTY,
                rssi_cdbm: report.best_rssi_centi_dbm(),
                time,
            });
            if let Some(read) = batch.last_mut() {
                read.epc.set(report.epc);
            }
            if batch.len() == MAX_BATCH_READS {
                left = left.saturating_sub(MAX_BATCH_READS);
                let next = Vec::with_capacity(left.min(MAX_BATCH_READS));
                self.emit_reads(std::mem::replace(&mut batch, next));
            }
        }
        if let Some(skew_ms) = skew {
            self.report_skew(skew_ms);
        }
        self.emit_reads(batch);
    }

    /// Takes the whole messages at the front of `buf` while the link stays up: the bytes taken,
    /// and the length of the unfinished message after them when its header says it.
    fn frame_in_place(&mut self, now: Now, buf: &[u8]) -> (usize, Option<usize>) {
        let mut start = 0;
        while self.is_connected() {
            match next_frame(buf.get(start..).unwrap_or(&[]), &self.limits) {
                Ok(Framed::Complete { message, consumed }) => {
                    start += consumed;
                    // Liveness is whole messages: a peer trickling bytes that never make one
                    // (one a second, say) is as dead as a silent one.
                    self.last_rx = now.instant;
                    self.on_message(now, &message);
                }
                Ok(Framed::Incomplete { frame_len }) => return (start, frame_len),
                Err(error) => {
                    self.counters.frames_dropped += 1;
                    self.link_lost(now, LinkError::Framing(error), true);
                    break;
                }
            }
        }
        (start, None)
    }

    /// Completes the message begun in an earlier call from the front of `input`, copying only
    /// the bytes it lacks (first its header, then the rest its length field declares), and takes
    /// it once whole: whether it was. `self.rx` is empty afterwards unless `input` ran out first.
    fn top_up_pending(&mut self, now: Now, input: &mut &[u8]) -> bool {
        // Judged again after every top-up, the last one too: a header whose length field has
        // arrived can be refused before the header itself is complete, as when framed whole.
        loop {
            let want = match next_frame(&self.rx, &self.limits) {
                Ok(Framed::Complete { .. }) => break,
                Ok(Framed::Incomplete { frame_len }) => frame_len.unwrap_or(HEADER_LEN),
                Err(error) => {
                    self.counters.frames_dropped += 1;
                    self.link_lost(now, LinkError::Framing(error), true);
                    self.rx.clear();
                    return false;
                }
            };
            if input.is_empty() {
                return false;
            }
            // Never 0: an unfinished message is shorter than the length it waits for.
            let take = want.saturating_sub(self.rx.len()).min(input.len());
            let (head, rest) = input.split_at(take);
            self.rx.extend_from_slice(head);
            *input = rest;
        }
        // Take the buffer so the message can borrow it while `self` is updated; put it back after.
        let rx = std::mem::take(&mut self.rx);
        let (taken, _) = self.frame_in_place(now, &rx);
        self.rx = rx;
        self.rx.clear();
        taken > 0
    }

    fn emit_reads(&mut self, batch: Vec<TagRead>) {
        if !batch.is_empty() {
            self.counters.reads += batch.len() as u64;
            self.actions
                .push_back(SessionAction::Output(DriverOutput::Reads(batch)));
        }
    }

    fn update_timer(&mut self, _now: Now) {
        let deadline = match self.phase {
            Phase::Idle { retry_at } => retry_at,
            Phase::Connecting | Phase::Finished => None,
            Phase::AwaitingConnectionEvent { deadline } | Phase::Request { deadline, .. } => {
                Some(deadline)
            }
            Phase::Streaming => Some(
                (self.last_rx + self.settings.dead_after())
                    .min(self.last_report + self.settings.report_every),
            ),
        };
        let deadline = match (deadline, self.counters_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // During a stall's grace nothing is judged: the grace's end is the next deadline.
        let deadline = self.stall_grace.or(deadline);
        if self.phase == Phase::Finished || deadline == self.timer {
            return;
        }
        self.timer = deadline;
        self.actions.push_back(match deadline {
            Some(at) => SessionAction::Timer(Some(at)),
            None => SessionAction::Timer(None),
        });
    }
}

impl Session for LlrpSession {
    fn timeouts(&self) -> TransportTimeouts {
        TransportTimeouts {
            connect: self.settings.connect_timeout,
            // A write that cannot finish within a response's time is a dead link.
            write: self.settings.response_timeout,
        }
    }

    /// The next action to carry out, if any.
    fn poll_action(&mut self) -> Option<SessionAction> {
        self.actions.pop_front()
    }

    /// Begins: asks for the first connection.
    fn start(&mut self, now: Now) {
        if let Phase::Idle { retry_at: None } = self.phase {
            self.connect();
        }
        self.update_timer(now);
    }

    /// The transport is open.
    fn on_connected(&mut self, now: Now) {
        if self.phase != Phase::Connecting {
            return;
        }
        if self.shutting_down {
            self.actions.push_back(SessionAction::Close);
            self.finish();
            return;
        }
        self.rx.clear();
        self.caps = None;
        self.impinj = false;
        self.version = ProtocolVersion::V1_0_1;
        self.clock.reset();
        self.skew_reported = false;
        self.last_rx = now.instant;
        self.phase = Phase::AwaitingConnectionEvent {
            deadline: now.instant + self.settings.connect_timeout,
        };
        self.update_timer(now);
    }

    /// Opening the transport failed (`reason` as the task put it: where, and the OS's words or the timeout).
    fn on_connect_failed(&mut self, now: Now, reason: &str) {
        if self.phase != Phase::Connecting {
            return;
        }
        let error = LinkError::ConnectFailed {
            reason: reason.to_owned(),
        };
        self.link_lost(now, error, false);
        // The retry is a timer like every other deadline: without it, a reader that could not be
        // reached once was never tried again.
        self.update_timer(now);
    }

    /// Bytes arrived. Whole messages are taken straight from `bytes`; only a message still
    /// unfinished at the end is copied aside, and the next call tops it up with exactly the bytes
    /// it lacks before framing the rest in place again.
    fn on_bytes(&mut self, now: Now, bytes: &[u8]) {
        if !self.is_connected() {
            return;
        }
        let mut input = bytes;
        // A message left unfinished by the last call is completed first (taking all of `input`
        // when it still is not whole).
        let mut framed = !self.rx.is_empty() && self.top_up_pending(now, &mut input);
        let (consumed, unfinished) = self.frame_in_place(now, input);
        framed |= consumed > 0;
        if self.is_connected() {
            if let Some(rest) = input.get(consumed..).filter(|rest| !rest.is_empty()) {
                self.rx.reserve(unfinished.unwrap_or(0).max(rest.len()));
                self.rx.extend_from_slice(rest);
            }
        } else {
            self.rx.clear();
        }
        // Any whole message (a report, a KEEPALIVE, a response) proves the reader is alive; the
        // reads of this call were queued before it. Only while streaming: a link that went down in
        // this call is not heard, and before LinkUp the daemon has nothing to cover.
        if framed && self.phase == Phase::Streaming && self.heard.allow(now.instant) {
            self.output(DriverEvent::Heard {
                reader: self.settings.reader,
            });
        }
        self.update_timer(now);
    }

    /// The transport ended or failed (a read or write error, a stuck write).
    fn on_link_lost(&mut self, now: Now, loss: LinkLoss) {
        let error = match loss {
            LinkLoss::Closed => LinkError::Eof,
            LinkLoss::Failed(reason) => LinkError::Io { reason },
        };
        self.on_transport_gone(now, error);
    }

    /// The timer set by the last `Timer` expired (early or late calls are harmless).
    fn on_timer(&mut self, now: Now) {
        // The task's timer is spent: `update_timer` below announces the next one.
        let set_for = self.timer.take();
        if let Some(grace) = self.stall_grace {
            if now.instant < grace {
                return self.update_timer(now);
            }
            self.stall_grace = None;
        } else if self.is_connected()
            && set_for.is_some_and(|at| now.instant.saturating_duration_since(at) > STALL_TOLERANCE)
        {
            // Far too late: read what the reader sent during the stall before judging anything.
            self.stall_grace = Some(now.instant + STALL_GRACE);
            return self.update_timer(now);
        }
        match self.phase {
            Phase::Idle { retry_at: Some(at) } if now.instant >= at => self.connect(),
            Phase::AwaitingConnectionEvent { deadline } if now.instant >= deadline => {
                let waited = self.settings.connect_timeout;
                self.link_lost(now, LinkError::NoConnectionEvent { waited }, true);
            }
            Phase::Request { step, deadline } if now.instant >= deadline => {
                if step.is_shutdown() {
                    self.finish_shutdown();
                } else {
                    let waited = self.settings.response_timeout;
                    let error = LinkError::ResponseTimeout {
                        request: step.name(),
                        waited,
                    };
                    self.link_lost(now, error, true);
                }
            }
            Phase::Streaming => {
                let silent = now.instant.saturating_duration_since(self.last_rx);
                if silent >= self.settings.dead_after() {
                    let error = LinkError::Silent {
                        silent,
                        keepalive: self.settings.keepalive,
                    };
                    self.link_lost(now, error, true);
                } else if now.instant.saturating_duration_since(self.last_report)
                    >= self.settings.report_every
                {
                    // Few tags in the field: ask for what the reader has buffered.
                    self.last_report = now.instant;
                    self.send(&Message::GetReport);
                }
            }
            _ => {}
        }
        if let Some(due) = self.counters_due {
            if now.instant >= due {
                self.emit_counters_if_changed();
                self.counters_due = Some(now.instant + COUNTERS_EVERY);
            }
        }
        self.update_timer(now);
    }

    /// Graceful shutdown: disable and delete our ROSpec, close the connection, then `Finished`.
    fn shutdown(&mut self, now: Now) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        match self.phase {
            Phase::Idle { .. } => self.finish(),
            Phase::Connecting => {}
            Phase::AwaitingConnectionEvent { .. } => {
                self.actions.push_back(SessionAction::Close);
                self.finish();
            }
            Phase::Request { .. } | Phase::Streaming => {
                self.request(now, Step::Disable);
            }
            Phase::Finished => {}
        }
        self.update_timer(now);
    }
}

/// The smallest TagReportData with an EPC-96: its TLV header (4 bytes) and the EPC-96 TV (13).
/// Shorter reports (EPCData of fewer than 96 bits) can make a batch grow once, never per read.
const EPC96_REPORT_BYTES: usize = 4 + 13;

/// Reads per `Reads` batch at most. A report of 1 MiB (the framing bound) of minimal tag reports
/// holds about 60 000 reads, 5 MB as `TagRead`s; the engine's input queue is bounded in batches, so
/// the batch bound is what bounds that queue's memory (256 batches × 1 024 reads × 80 bytes ≈ 21 MB).
pub const MAX_BATCH_READS: usize = 1024;

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
