//! One client connection of the LLRP emulator: answers requests, runs inventory rounds while an ROSpec is active, reports, keepalives, events and injected faults.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use tagtally_protocol::llrp::{
    next_frame, AntennaEventType, ConnectionAttemptStatus, FrameLimits, Framed, LlrpStatus,
    Message, NotificationEventType, ReaderEvent, ReaderEventNotificationData, RoReportSpec,
    RoReportTrigger, StatusCode, Timestamp, IMPINJ_VENDOR_ID,
};

use super::probe::ProbeTap;
use super::reader_state::{default_report_spec, ReaderState};
use super::report_encoder::{encode_report, ReportStyle, TimedRead};
use crate::rng::SimRng;
use crate::scenario::{Fault, ReaderClock, Scenario};
use crate::tag_field::TagField;

/// What the emulator tells a connection from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Fault(Fault),
    /// Another client tried to connect and was refused (ConnectionAttemptEvent status 4).
    AnotherClientAttempted,
}

/// Counters a test or a demo can read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    pub connections_accepted: u64,
    pub connections_refused: u64,
    pub reads_sent: u64,
    pub reports_sent: u64,
    /// Reads destroyed by `corrupt-frame` (one per corrupted report).
    pub reads_corrupted: u64,
    pub junk_bytes_sent: u64,
    pub keepalives_sent: u64,
    pub keepalive_acks: u64,
    /// Reads dropped because the report buffer was full.
    pub reads_overflowed: u64,
    /// Inventory rounds skipped because the emulator could not run them in time (the machine
    /// is slower than the scenario's read rate asks).
    pub rounds_skipped: u64,
}

/// The connected client, if any.
#[derive(Debug)]
pub struct ClientSlot {
    pub generation: u64,
    pub commands: mpsc::UnboundedSender<Command>,
}

/// State shared by the accept loop, the connections and the handle.
#[derive(Debug)]
pub struct Shared {
    pub scenario: Scenario,
    pub started: Instant,
    pub state: Mutex<ReaderState>,
    pub field: Mutex<TagField>,
    pub stats: Mutex<SimStats>,
    pub client: Mutex<Option<ClientSlot>>,
    /// Reads of these EPCs are reported once written (benchmarks; see `probe.rs`).
    pub probes: Mutex<Option<Arc<ProbeTap>>>,
}

/// Locks, surviving a poisoned mutex (a panicking test thread must not wedge the emulator).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads buffered beyond this are dropped (and a ReportBufferOverflowError sent), as a reader
/// whose client does not keep up would.
const MAX_BUFFERED_READS: usize = 200_000;
/// Reads per RO_ACCESS_REPORT at most, whatever N says: keeps messages far below 1 MiB.
const MAX_READS_PER_REPORT: usize = 2_000;
/// Tag evaluations per wake-up at most (rounds × tags): bounds the time one wake-up holds the
/// runtime, so keepalives and requests are served; rounds beyond it are skipped, not queued.
const MAX_TAG_EVALUATIONS_PER_WAKE: usize = 50_000;
/// Shortest sleep between inventory wake-ups: high read rates batch several rounds per wake.
const MIN_ROUND_SLEEP: Duration = Duration::from_millis(2);

/// The ROSpec being inventoried on this connection.
#[derive(Debug)]
struct Inventory {
    rospec_id: u32,
    antennas: Vec<u16>,
    report: RoReportSpec,
    since: Instant,
    rounds_done: u64,
    last_report: Instant,
    last_wake: Instant,
}

struct Connection {
    shared: Arc<Shared>,
    wr: tokio::net::tcp::OwnedWriteHalf,
    out: Vec<u8>,
    next_id: u32,
    inventory: Option<Inventory>,
    buffer: Vec<TimedRead>,
    round_reads: Vec<crate::SimRead>,
    keepalive: Option<(Duration, Instant)>,
    silent_until: Option<Instant>,
    corrupt_left: u32,
    overflow_reported: bool,
    rng: SimRng,
    style: ReportStyle,
    /// Watched reads in `out`, reported to the probe tap once `out` is written.
    probe_reads: Vec<(tagtally_core::Epc, u16)>,
}

/// Serves one accepted client until it closes, a fault drops it or the emulator stops.
pub async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let _ = stream.set_nodelay(true);
    let (mut rd, wr) = stream.into_split();
    let (version, vendor) = {
        let state = lock(&shared.state);
        (state.version(), state.vendor())
    };
    let style = ReportStyle {
        version,
        utc_clock: shared.scenario.llrp.clock == ReaderClock::Utc,
        impinj: vendor == IMPINJ_VENDOR_ID,
    };
    let seed = shared.scenario.seed ^ 0x5EED;
    let mut c = Connection {
        shared,
        wr,
        out: Vec::with_capacity(64 * 1024),
        next_id: 1,
        inventory: None,
        buffer: Vec::new(),
        round_reads: Vec::new(),
        keepalive: None,
        silent_until: None,
        corrupt_left: 0,
        overflow_reported: false,
        rng: SimRng::new(seed),
        style,
        probe_reads: Vec::new(),
    };
    c.event(ReaderEvent::ConnectionAttempt(
        ConnectionAttemptStatus::Success,
    ));
    if c.flush().await.is_err() {
        return;
    }
    let limits = FrameLimits::default();
    let mut rx: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    c.sync_inventory(Instant::now());
    c.sync_keepalive(Instant::now());
    loop {
        let silent = c.silent_until.is_some();
        let next_round = c.next_round_at();
        let next_periodic = c.next_periodic_report();
        let next_keepalive = c.keepalive.map(|(_, at)| at);
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                None => return,
                Some(command) => {
                    if !c.apply(command).await {
                        return;
                    }
                }
            },
            _ = sleep_or_never(c.silent_until) => return,
            read = rd.read(&mut chunk), if !silent => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                rx.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                let mut consumed_total = 0;
                loop {
                    match next_frame(rx.get(consumed_total..).unwrap_or(&[]), &limits) {
                        Ok(Framed::Complete { message, consumed }) => {
                            consumed_total += consumed;
                            let id = message.header().id;
                            let decoded = Message::decode(&message);
                            if !c.on_request(decoded, id) {
                                let _ = c.flush().await;
                                return;
                            }
                        }
                        Ok(Framed::Incomplete { .. }) => break,
                        // A real reader cannot resynchronise either: it drops the client.
                        Err(_) => return,
                    }
                }
                rx.drain(..consumed_total);
                if c.flush().await.is_err() {
                    return;
                }
            },
            _ = sleep_or_never(next_keepalive), if !silent => {
                c.keepalive_due(Instant::now());
                if c.flush().await.is_err() {
                    return;
                }
            },
            _ = sleep_or_never(next_round), if !silent => {
                c.run_rounds(Instant::now());
                if c.flush().await.is_err() {
                    return;
                }
            },
            _ = sleep_or_never(next_periodic), if !silent => {
                c.report_all(Instant::now());
                if c.flush().await.is_err() {
                    return;
                }
            },
        }
    }
}

async fn sleep_or_never(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Connection {
    fn reader_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    fn push(&mut self, message: &Message, id: u32) {
        // Everything the emulator sends is built from bounded values; nothing fails to encode.
        let _ = message.encode(self.style.version, id, &mut self.out);
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = self.wr.write_all(&self.out).await;
        self.out.clear();
        if !self.probe_reads.is_empty() {
            let tap = lock(&self.shared.probes).clone();
            if let (Some(tap), Ok(())) = (tap, &result) {
                tap.written(self.probe_reads.drain(..), std::time::Instant::now());
            }
            self.probe_reads.clear();
        }
        result
    }

    /// The reader clock at `at`, in microseconds.
    fn clock_us(&self, at: Instant) -> u64 {
        let offset_us = self
            .shared
            .scenario
            .llrp
            .clock_offset_ms
            .saturating_mul(1000);
        let base = match self.style.utc_clock {
            true => {
                let wall = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as i64);
                let ago = Instant::now().saturating_duration_since(at).as_micros() as i64;
                wall - ago
            }
            false => at
                .saturating_duration_since(self.shared.started)
                .as_micros() as i64,
        };
        u64::try_from(base.saturating_add(offset_us)).unwrap_or(0)
    }

    fn event(&mut self, event: ReaderEvent) {
        let us = self.clock_us(Instant::now());
        let timestamp = Some(match self.style.utc_clock {
            true => Timestamp::Utc(us),
            false => Timestamp::Uptime(us),
        });
        let id = self.reader_id();
        self.push(
            &Message::ReaderEventNotification(ReaderEventNotificationData {
                timestamp,
                events: vec![event],
            }),
            id,
        );
    }

    /// Handles one client message; false when the connection must end (CLOSE_CONNECTION).
    fn on_request(
        &mut self,
        decoded: Result<Message, tagtally_protocol::llrp::DecodeError>,
        id: u32,
    ) -> bool {
        let message = match decoded {
            Ok(message) => message,
            Err(error) => {
                let status = LlrpStatus::new(StatusCode::MParameterError, &error.to_string());
                self.push(&Message::ErrorMessage(status), id);
                return true;
            }
        };
        let now = Instant::now();
        match message {
            Message::KeepaliveAck => {
                lock(&self.shared.stats).keepalive_acks += 1;
                return true;
            }
            Message::GetReport => {
                self.report_all(now);
                return true;
            }
            _ => {}
        }
        let closing = message == Message::CloseConnection;
        let reply = lock(&self.shared.state).handle(message);
        if let Some(reply) = reply {
            self.push(&reply, id);
        }
        self.sync_inventory(now);
        self.sync_keepalive(now);
        !closing
    }

    /// Starts or ends inventory after the active ROSpec changed.
    fn sync_inventory(&mut self, now: Instant) {
        let active = lock(&self.shared.state).active_rospec().cloned();
        let current = self.inventory.as_ref().map(|i| i.rospec_id);
        if active.as_ref().map(|r| r.id) == current {
            return;
        }
        // End of ROSpec: what is buffered is reported (ROReportTrigger "or end of ROSpec").
        self.report_all(now);
        self.inventory = active.map(|rospec| {
            let mut antennas: Vec<u16> = rospec
                .ai_specs
                .iter()
                .flat_map(|a| a.antenna_ids.iter().copied())
                .collect();
            if antennas.contains(&0) {
                antennas.clear();
            }
            Inventory {
                rospec_id: rospec.id,
                antennas,
                report: rospec.report.unwrap_or_else(default_report_spec),
                since: now,
                rounds_done: 0,
                last_report: now,
                last_wake: now,
            }
        });
    }

    fn sync_keepalive(&mut self, now: Instant) {
        let period = lock(&self.shared.state)
            .keepalive_ms()
            .map(|ms| Duration::from_millis(u64::from(ms)));
        match (period, self.keepalive) {
            (Some(p), Some((old, _))) if p == old => {}
            (Some(p), _) => self.keepalive = Some((p, now + p)),
            (None, _) => self.keepalive = None,
        }
    }

    fn keepalive_due(&mut self, now: Instant) {
        if let Some((period, at)) = self.keepalive {
            if now >= at {
                let id = self.reader_id();
                self.push(&Message::Keepalive, id);
                lock(&self.shared.stats).keepalives_sent += 1;
                self.keepalive = Some((period, now + period));
            }
        }
    }

    fn next_round_at(&self) -> Option<Instant> {
        let inventory = self.inventory.as_ref()?;
        let rate = self.shared.scenario.inventory.read_rate;
        let next =
            inventory.since + Duration::from_secs_f64((inventory.rounds_done + 1) as f64 / rate);
        Some(next.max(inventory.last_wake + MIN_ROUND_SLEEP))
    }

    /// For time-based report triggers: when the next report is due.
    fn next_periodic_report(&self) -> Option<Instant> {
        let inventory = self.inventory.as_ref()?;
        let n = u64::from(inventory.report.n);
        let period = match inventory.report.trigger {
            RoReportTrigger::UponNSecondsOrEndOfAiSpec
            | RoReportTrigger::UponNSecondsOrEndOfRoSpec => Duration::from_secs(n),
            RoReportTrigger::UponNMillisecondsOrEndOfAiSpec
            | RoReportTrigger::UponNMillisecondsOrEndOfRoSpec => Duration::from_millis(n),
            _ => return None,
        };
        (!period.is_zero()).then(|| inventory.last_report + period)
    }

    fn run_rounds(&mut self, now: Instant) {
        let Some(inventory) = self.inventory.as_mut() else {
            return;
        };
        let rate = self.shared.scenario.inventory.read_rate;
        let due_total =
            (now.saturating_duration_since(inventory.since).as_secs_f64() * rate) as u64;
        inventory.last_wake = now;
        let due = due_total.saturating_sub(inventory.rounds_done);
        let tags = lock(&self.shared.field).len().max(1);
        let run = due.min((MAX_TAG_EVALUATIONS_PER_WAKE / tags).max(1) as u64);
        if due > run {
            lock(&self.shared.stats).rounds_skipped += due - run;
        }
        let first = inventory.rounds_done + (due - run);
        inventory.rounds_done = due_total;
        let since = inventory.since;
        let antennas = inventory.antennas.clone();
        let started = self.shared.started;
        for k in 1..=run {
            let round_at = since + Duration::from_secs_f64((first + k) as f64 / rate);
            {
                let state = lock(&self.shared.state);
                let mut field = lock(&self.shared.field);
                field.round(
                    round_at.saturating_duration_since(started),
                    |antenna| {
                        (antennas.is_empty() || antennas.contains(&antenna))
                            && state.antenna_reads(antenna)
                    },
                    &mut self.round_reads,
                );
            }
            let seen_us = self.clock_us(round_at);
            let room = MAX_BUFFERED_READS.saturating_sub(self.buffer.len());
            let overflow = self.round_reads.len().saturating_sub(room);
            self.buffer.extend(
                self.round_reads
                    .drain(..)
                    .take(room)
                    .map(|read| TimedRead { read, seen_us }),
            );
            if overflow > 0 {
                lock(&self.shared.stats).reads_overflowed += overflow as u64;
                if !self.overflow_reported {
                    self.overflow_reported = true;
                    self.event(ReaderEvent::ReportBufferOverflowError);
                }
            }
        }
        self.report_full(now);
    }

    /// Sends reports of N reads while N are buffered (tag-count triggers).
    fn report_full(&mut self, now: Instant) {
        let Some(inventory) = self.inventory.as_ref() else {
            return;
        };
        let n = match inventory.report.trigger {
            RoReportTrigger::UponNTagsOrEndOfAiSpec | RoReportTrigger::UponNTagsOrEndOfRoSpec
                if inventory.report.n > 0 =>
            {
                usize::from(inventory.report.n).min(MAX_READS_PER_REPORT)
            }
            _ => return,
        };
        let mut sent = 0;
        while self.buffer.len() - sent >= n {
            self.report(sent..sent + n);
            sent += n;
        }
        if sent > 0 {
            self.buffer.drain(..sent);
            if let Some(inventory) = self.inventory.as_mut() {
                inventory.last_report = now;
            }
        }
    }

    /// Sends everything buffered (GET_REPORT, end of ROSpec, time-based triggers).
    fn report_all(&mut self, now: Instant) {
        let mut start = 0;
        while start < self.buffer.len() {
            let end = (start + MAX_READS_PER_REPORT).min(self.buffer.len());
            self.report(start..end);
            start = end;
        }
        self.buffer.clear();
        if let Some(inventory) = self.inventory.as_mut() {
            inventory.last_report = now;
        }
    }

    fn report(&mut self, range: std::ops::Range<usize>) {
        let Some(reads) = self.buffer.get(range) else {
            return;
        };
        let (rospec_id, spec) = match self.inventory.as_ref() {
            Some(i) => (i.rospec_id, i.report),
            None => (0, default_report_spec()),
        };
        let corrupt = self.corrupt_left > 0 && !reads.is_empty();
        if corrupt {
            self.corrupt_left -= 1;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        encode_report(
            &mut self.out,
            id,
            reads,
            rospec_id,
            &spec,
            self.style,
            corrupt,
        );
        if let Some(tap) = lock(&self.shared.probes).as_ref() {
            // A corrupted report destroys its first read: the client never gets that one.
            self.probe_reads.extend(
                reads
                    .iter()
                    .skip(usize::from(corrupt))
                    .filter(|r| tap.watches(&r.read.epc))
                    .map(|r| (r.read.epc, r.read.antenna)),
            );
        }
        let mut stats = lock(&self.shared.stats);
        stats.reports_sent += 1;
        stats.reads_sent += reads.len() as u64;
        stats.reads_corrupted += u64::from(corrupt);
    }

    /// Applies a command; false when the connection must end now.
    async fn apply(&mut self, command: Command) -> bool {
        match command {
            Command::AnotherClientAttempted => {
                self.event(ReaderEvent::ConnectionAttempt(
                    ConnectionAttemptStatus::AnotherConnectionAttempted,
                ));
            }
            Command::Fault(fault) => match fault {
                Fault::DropConnection => return false,
                Fault::GoSilent { duration } => {
                    self.silent_until = Some(Instant::now() + duration);
                    return true;
                }
                Fault::CorruptFrame { count } => {
                    self.corrupt_left = self.corrupt_left.saturating_add(count)
                }
                Fault::JunkBytes { bytes } => {
                    let _ = self.flush().await;
                    // The first byte's version bits are 7, which no LLRP header carries.
                    self.out.push(0xFC | (self.rng.next_u64() as u8 & 0x03));
                    for _ in 1..bytes {
                        self.out.push(self.rng.next_u64() as u8);
                    }
                    lock(&self.shared.stats).junk_bytes_sent += bytes as u64;
                }
                Fault::AntennaEvent { antenna, connected } => {
                    if self.silent_until.is_none()
                        && lock(&self.shared.state)
                            .event_enabled(NotificationEventType::AntennaEvent)
                    {
                        self.event(ReaderEvent::Antenna {
                            event_type: if connected {
                                AntennaEventType::Connected
                            } else {
                                AntennaEventType::Disconnected
                            },
                            antenna_id: antenna,
                        });
                    }
                }
                Fault::ReaderException { message } => {
                    self.event(ReaderEvent::ReaderException { message })
                }
                // Handled by the emulator's state, not the connection.
                Fault::RejectAddRospec { .. } | Fault::AntennaSilence { .. } => {}
                // A serial-line fault: TCP's own checksums keep LLRP frames whole.
                Fault::LineNoise { .. } => {}
            },
        }
        if self.silent_until.is_some() {
            self.out.clear();
            self.probe_reads.clear();
            return true;
        }
        self.flush().await.is_ok()
    }
}
