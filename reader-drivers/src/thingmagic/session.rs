//! The sans-IO ThingMagic session: setup, continuous reading, silence detection and graceful
//! stop, driven by bytes and an explicit `now` (see [`Session`]).

use std::time::Instant;

use tagtally_protocol::epc::check_read_length;
use tagtally_protocol::thingmagic::{
    Command, Model, ModuleToHost, Response, StatusWord, TagReadRecord, VersionInfo,
};

use super::settings::ThingMagicSettings;
use super::setup::{setup_steps, SetupStep, StepOutcome};
use tagtally_core::{LinkLoss, Session, SessionAction, TransportTimeouts};

use crate::serial_line::{bits_of, SerialLine};
use crate::{Epc, Now, ReaderInfo, TagRead};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No transport.
    Disconnected,
    /// Waiting for the reply to `steps[step]` until `deadline`.
    Setup {
        step: usize,
        deadline: Instant,
    },
    /// Reading continuously; `last_frame` feeds silence detection.
    Streaming {
        last_frame: Instant,
    },
    /// Stop sent; tags still arriving are delivered until the confirmation or `deadline`.
    Stopping {
        deadline: Instant,
    },
    Stopped,
}

/// One ThingMagic reader's session.
#[derive(Debug)]
pub struct ThingMagicSession {
    settings: ThingMagicSettings,
    steps: Vec<SetupStep>,
    line: SerialLine<ModuleToHost>,
    phase: Phase,
    version: Option<VersionInfo>,
}

impl ThingMagicSession {
    /// A session for `settings`; `seed` feeds the reconnect backoff's jitter.
    pub fn new(settings: ThingMagicSettings, seed: u64) -> Self {
        Self {
            steps: setup_steps(&settings),
            line: SerialLine::new(
                settings.reader,
                settings.deframer_capacity,
                settings.idle_gap,
                settings.link,
                seed,
            ),
            phase: Phase::Disconnected,
            version: None,
            settings,
        }
    }

    /// The module's VERSION reply of the current link, once received.
    pub fn version(&self) -> Option<&VersionInfo> {
        self.version.as_ref()
    }

    /// Counters so far (reported downstream at most once a [`crate::COUNTERS_PERIOD`]).
    pub fn counters(&self) -> crate::DriverCounters {
        self.line.counters()
    }

    /// Whether tags are being read.
    pub fn is_streaming(&self) -> bool {
        matches!(self.phase, Phase::Streaming { .. })
    }

    fn send(&mut self, command: &Command) {
        let mut bytes = Vec::new();
        // Every command the session builds fits a frame; a failure would be a bug in the
        // settings checks, reported rather than panicking.
        match command.encode(&mut bytes) {
            Ok(()) => self.line.send(bytes),
            Err(error) => self.fail(&format!("cannot encode {command:?}: {error}")),
        }
    }

    /// Gives up on this link: say why, then reconnect.
    fn fail(&mut self, reason: &str) {
        self.line.fail(reason);
        self.phase = Phase::Disconnected;
    }

    fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Disconnected | Phase::Stopped)
    }

    fn start_step(&mut self, step: usize, now: Instant) {
        let Some(&current) = self.steps.get(step) else {
            return;
        };
        let command = current.command(&self.settings, self.version.map(|v| v.model()));
        self.send(&command);
        self.phase = Phase::Setup {
            step,
            deadline: now + current.timeout(&self.settings),
        };
    }

    fn finish_step(&mut self, step: usize, now: Instant) {
        if step + 1 < self.steps.len() {
            self.start_step(step + 1, now);
            return;
        }
        self.phase = Phase::Streaming { last_frame: now };
        let info = self.reader_info();
        self.line.report_up(info);
    }

    fn reader_info(&self) -> ReaderInfo {
        let Some(version) = self.version else {
            return ReaderInfo::default();
        };
        let (model, ports) = match version.model() {
            Model::M6e => ("ThingMagic M6e".to_owned(), 4),
            Model::M6eNano => ("ThingMagic M6e Nano".to_owned(), 1),
            Model::M7ePico => ("ThingMagic M7e Pico".to_owned(), 1),
            Model::Unknown(code) => (
                format!("ThingMagic module (hardware 0x{code:02X})"),
                self.settings.antennas.iter().copied().max().unwrap_or(1),
            ),
        };
        let v = version.firmware_version;
        let d = version.firmware_date;
        ReaderInfo {
            model,
            firmware: format!(
                "{:02X}.{:02X}.{:02X}.{:02X} ({:02X}{:02X}-{:02X}-{:02X})",
                v[0], v[1], v[2], v[3], d[0], d[1], d[2], d[3]
            ),
            antenna_count: u16::from(ports),
        }
    }

    /// Pulls every complete frame out of the deframer and acts on it; reads go out as one batch.
    fn drain_frames(&mut self, now: Now) {
        let mut reads = Vec::new();
        while let Some(response) = self.line.next_frame(Response::decode) {
            self.on_response(response, now, &mut reads);
            if self.is_closed() {
                break;
            }
        }
        self.line.end_drain(reads, now.instant);
    }

    fn on_response(&mut self, response: Response, now: Now, reads: &mut Vec<TagRead>) {
        match self.phase {
            Phase::Disconnected | Phase::Stopped => {}
            Phase::Setup { step, .. } => self.on_setup_reply(step, response, now.instant),
            Phase::Streaming { .. } => {
                self.phase = Phase::Streaming {
                    last_frame: now.instant,
                };
                self.on_stream_frame(response, now, reads);
            }
            Phase::Stopping { .. } => match response {
                Response::ContinuousReadStopped => self.finish_stop(),
                Response::TagRead(record) => self.collect_read(&record, now, reads),
                _ => {}
            },
        }
    }

    fn on_setup_reply(&mut self, step: usize, response: Response, now: Instant) {
        let Some(&current) = self.steps.get(step) else {
            return;
        };
        match current.outcome(&response) {
            StepOutcome::NotMine => {}
            StepOutcome::Done => {
                if let Response::Version(info) = response {
                    self.version = Some(info);
                }
                self.finish_step(step, now);
            }
            StepOutcome::Rejected(_) if current.optional() => self.finish_step(step, now),
            StepOutcome::Rejected(status) => {
                let message = format!("{} rejected: {status}", current.name());
                self.line.reader_error(message.clone(), now);
                self.fail(&message);
            }
        }
    }

    fn on_stream_frame(&mut self, response: Response, now: Now, reads: &mut Vec<TagRead>) {
        match response {
            Response::TagRead(record) => self.collect_read(&record, now, reads),
            Response::StreamStatus(StatusWord::NoTagsFound | StatusWord::Ok) => {}
            Response::StreamStatus(status) => {
                self.line.reader_error(
                    format!("module status while reading: {status}"),
                    now.instant,
                );
            }
            Response::Rejected { opcode, status } => {
                self.line
                    .reader_error(format!("{opcode:?} rejected: {status}"), now.instant);
            }
            Response::ContinuousReadStopped => {
                self.fail("the module stopped reading on its own");
            }
            // The Nano announces its version after power-on: the module restarted under us.
            Response::Version(_) => self.fail("the module restarted (unsolicited VERSION)"),
            _ => {}
        }
    }

    fn collect_read(&mut self, record: &TagReadRecord, now: Now, reads: &mut Vec<TagRead>) {
        // A tag CRC that does not match means bytes were damaged before the module framed them.
        let whole = check_read_length(bits_of(&record.tag.epc), Some(record.tag.pc)).is_ok();
        let Some(epc) =
            Epc::from_slice(&record.tag.epc).filter(|_| whole && record.tag.crc_matches())
        else {
            self.line.count_undecodable();
            return;
        };
        let antenna = record
            .metadata
            .antenna
            .map(|ports| ports.tx)
            .filter(|&tx| tx != 0)
            .or_else(|| self.settings.antennas.first().copied())
            .unwrap_or(1);
        let rssi_cdbm = record.metadata.rssi_dbm.map(|dbm| i16::from(dbm) * 100);
        reads.push(self.line.tag_read(u16::from(antenna), epc, rssi_cdbm, now));
    }

    /// When the protocol next needs [`Session::on_timer`] (the line adds its own deadlines).
    fn phase_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Setup { deadline, .. } | Phase::Stopping { deadline } => Some(deadline),
            Phase::Streaming { last_frame } => Some(last_frame + self.settings.silence_limit),
            Phase::Disconnected | Phase::Stopped => None,
        }
    }

    fn finish_stop(&mut self) {
        self.line.finish_stop();
        self.phase = Phase::Stopped;
    }
}

impl Session for ThingMagicSession {
    fn timeouts(&self) -> TransportTimeouts {
        self.line.timeouts()
    }

    fn start(&mut self, now: Now) {
        self.line.start(now.instant);
    }

    fn on_connected(&mut self, now: Now) {
        if !self.line.on_connected(now.instant) {
            return;
        }
        self.version = None;
        self.start_step(0, now.instant);
    }

    fn on_connect_failed(&mut self, now: Now, reason: &str) {
        self.line.on_connect_failed(reason, now.instant);
    }

    fn on_bytes(&mut self, now: Now, mut bytes: &[u8]) {
        self.line.note_now(now.instant);
        if !self.line.is_open() {
            return;
        }
        while !bytes.is_empty() {
            let taken = self.line.push(bytes);
            bytes = &bytes[taken..];
            self.drain_frames(now);
            if self.is_closed() {
                return;
            }
        }
    }

    fn on_timer(&mut self, now: Now) {
        if self.line.timer_fired(now.instant) {
            return;
        }
        if self.line.take_idle(now.instant) {
            self.drain_frames(now);
        }
        self.line.on_timer(now.instant);
        match self.phase {
            Phase::Setup { step, deadline } if deadline <= now.instant => {
                let Some(&current) = self.steps.get(step) else {
                    return;
                };
                if current.optional() {
                    self.finish_step(step, now.instant);
                } else {
                    let waited = current.timeout(&self.settings).as_millis();
                    self.fail(&format!(
                        "no answer to {} within {waited}ms",
                        current.name()
                    ));
                }
            }
            Phase::Streaming { last_frame }
                if now.instant.duration_since(last_frame) >= self.settings.silence_limit =>
            {
                self.fail(&format!(
                    "no frame from the module for {}ms (keep-alive expected every {}ms); restarting the session",
                    self.settings.silence_limit.as_millis(),
                    self.settings.plan.cycle_ms
                ));
            }
            Phase::Stopping { deadline } if deadline <= now.instant => self.finish_stop(),
            _ => {}
        }
    }

    fn on_link_lost(&mut self, now: Now, loss: LinkLoss) {
        let reason = match loss {
            LinkLoss::Closed => "the reader closed the link (end of stream)".to_owned(),
            LinkLoss::Failed(reason) => reason,
        };
        if self.line.on_link_lost(&reason, now.instant) {
            self.phase = Phase::Disconnected;
        }
    }

    fn shutdown(&mut self, now: Now) {
        if !self.line.begin_stop(now.instant) {
            return;
        }
        match self.phase {
            Phase::Setup { .. } | Phase::Streaming { .. } => {
                self.send(&Command::StopContinuousRead);
                self.phase = Phase::Stopping {
                    deadline: now.instant + self.settings.stop_timeout,
                };
            }
            Phase::Stopping { .. } | Phase::Stopped => {}
            Phase::Disconnected => self.finish_stop(),
        }
    }

    fn poll_action(&mut self) -> Option<SessionAction> {
        let deadline = self.phase_deadline();
        self.line.poll_action(deadline)
    }
}
