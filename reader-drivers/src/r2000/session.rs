//! The sans-IO R2000 "0xA0" session: setup, then an inventory loop where each round's summary
//! starts the next round, driven by bytes and an explicit `now` (see [`Session`]).

use std::collections::BTreeSet;
use std::time::Instant;

use tagtally_protocol::epc::check_read_length;
use tagtally_protocol::r2000::{Command, ErrorCode, R2000Format, Reply, TagRecord};

use super::settings::R2000Settings;
use super::setup::{round_command, setup_steps, SetupStep, StepOutcome};
use tagtally_core::{LinkLoss, Session, SessionAction, TransportTimeouts};

use crate::serial_line::{bits_of, SerialLine};
use crate::{DriverEvent, Epc, Now, ReaderInfo, TagRead};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Disconnected,
    /// Waiting for the reply to `steps[step]` until `deadline`.
    Setup {
        step: usize,
        deadline: Instant,
    },
    /// A round runs; it must end by `deadline`.
    Round {
        deadline: Instant,
    },
    /// The last round failed; the next starts at `until`.
    Paused {
        until: Instant,
    },
    /// Stop asked during a round: wait for its end (or `deadline`), then stop.
    Stopping {
        deadline: Instant,
    },
    Stopped,
}

/// One R2000 reader's session.
#[derive(Debug)]
pub struct R2000Session {
    settings: R2000Settings,
    steps: Vec<SetupStep>,
    round: Command,
    line: SerialLine<R2000Format>,
    phase: Phase,
    firmware: Option<(u8, u8)>,
    /// Antennas (1-based) the module reported missing and no read has come from since.
    missing_antennas: BTreeSet<u8>,
}

impl R2000Session {
    /// A session for `settings`; `seed` feeds the reconnect backoff's jitter.
    pub fn new(settings: R2000Settings, seed: u64) -> Self {
        Self {
            steps: setup_steps(&settings),
            round: round_command(&settings),
            line: SerialLine::new(
                settings.reader,
                settings.deframer_capacity,
                settings.idle_gap,
                settings.link,
                seed,
            ),
            phase: Phase::Disconnected,
            firmware: None,
            missing_antennas: BTreeSet::new(),
            settings,
        }
    }

    /// Counters so far (reported downstream at most once a [`crate::COUNTERS_PERIOD`]).
    pub fn counters(&self) -> crate::DriverCounters {
        self.line.counters()
    }

    /// Whether inventory rounds are running (or pausing between them).
    pub fn is_inventorying(&self) -> bool {
        matches!(self.phase, Phase::Round { .. } | Phase::Paused { .. })
    }

    fn send(&mut self, command: &Command) {
        let mut bytes = Vec::new();
        match command.encode(self.settings.address, &mut bytes) {
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
        match self.steps.get(step) {
            Some(&current) => {
                self.send(&current.command());
                self.phase = Phase::Setup {
                    step,
                    deadline: now + self.settings.response_timeout,
                };
            }
            None => {
                let info = self.reader_info();
                self.line.report_up(info);
                self.start_round(now);
            }
        }
    }

    fn start_round(&mut self, now: Instant) {
        let round = self.round.clone();
        self.send(&round);
        self.phase = Phase::Round {
            deadline: now + self.settings.round_timeout,
        };
    }

    fn reader_info(&self) -> ReaderInfo {
        ReaderInfo {
            model: "R2000 module".to_owned(),
            firmware: self
                .firmware
                .map(|(major, minor)| format!("{major}.{minor}"))
                .unwrap_or_default(),
            antenna_count: self
                .settings
                .antennas
                .iter()
                .copied()
                .max()
                .map_or(1, |max| if max > 4 { 8 } else { 4 }),
        }
    }

    fn drain_frames(&mut self, now: Now) {
        let mut reads = Vec::new();
        while let Some(reply) = self.line.next_frame(Reply::decode) {
            self.on_reply(reply, now, &mut reads);
            if self.is_closed() {
                break;
            }
        }
        self.line.end_drain(reads, now.instant);
    }

    fn on_reply(&mut self, reply: Reply, now: Now, reads: &mut Vec<TagRead>) {
        match self.phase {
            Phase::Disconnected | Phase::Stopped => {}
            Phase::Setup { step, .. } => self.on_setup_reply(step, reply, now.instant),
            Phase::Round { .. } | Phase::Paused { .. } => self.on_round_reply(reply, now, reads),
            Phase::Stopping { .. } => match reply {
                Reply::Tag { record, .. } => self.collect_read(&record, now, reads),
                Reply::InventoryRoundEnd { .. }
                | Reply::FastSwitchRoundEnd(_)
                | Reply::Status { .. } => self.finish_stop(),
                _ => {}
            },
        }
    }

    fn on_setup_reply(&mut self, step: usize, reply: Reply, now: Instant) {
        let Some(&current) = self.steps.get(step) else {
            return;
        };
        match current.outcome(&reply) {
            StepOutcome::NotMine => {}
            StepOutcome::Done => {
                if let Reply::FirmwareVersion { major, minor } = reply {
                    self.firmware = Some((major, minor));
                }
                self.start_step(step + 1, now);
            }
            StepOutcome::Rejected(code) => {
                let message = format!("{} rejected: {code}", current.name());
                self.line.reader_error(message.clone(), now);
                self.fail(&message);
            }
        }
    }

    fn on_round_reply(&mut self, reply: Reply, now: Now, reads: &mut Vec<TagRead>) {
        let in_round = matches!(self.phase, Phase::Round { .. });
        match reply {
            Reply::Tag { record, .. } => self.collect_read(&record, now, reads),
            Reply::InventoryRoundEnd { .. } | Reply::FastSwitchRoundEnd(_) if in_round => {
                self.start_round(now.instant);
            }
            Reply::AntennaMissing { antenna, code } => {
                let antenna = antenna.saturating_add(1);
                if self.missing_antennas.insert(antenna) {
                    let reader = self.line.reader();
                    self.line.event(DriverEvent::Antenna {
                        reader,
                        antenna: u16::from(antenna),
                        connected: false,
                    });
                    self.line
                        .reader_error(format!("antenna {antenna}: {code}"), now.instant);
                }
            }
            Reply::Status { command, code } if in_round && command == self.round_code() => {
                if code == ErrorCode::Success {
                    self.start_round(now.instant);
                } else {
                    self.line
                        .reader_error(format!("inventory round failed: {code}"), now.instant);
                    self.phase = Phase::Paused {
                        until: now.instant + self.settings.error_pause,
                    };
                }
            }
            _ => {}
        }
    }

    fn round_code(&self) -> tagtally_protocol::r2000::CommandCode {
        match self.round {
            Command::FastSwitchInventory(_) => {
                tagtally_protocol::r2000::CommandCode::FastSwitchAntInventory
            }
            _ => tagtally_protocol::r2000::CommandCode::RealTimeInventory,
        }
    }

    fn collect_read(&mut self, record: &TagRecord, now: Now, reads: &mut Vec<TagRead>) {
        let whole = check_read_length(bits_of(&record.epc), Some(record.pc)).is_ok();
        let Some(epc) = Epc::from_slice(&record.epc).filter(|_| whole) else {
            self.line.count_undecodable();
            return;
        };
        let antenna = record.antenna();
        if self.missing_antennas.remove(&antenna) {
            let reader = self.line.reader();
            self.line.event(DriverEvent::Antenna {
                reader,
                antenna: u16::from(antenna),
                connected: true,
            });
        }
        let rssi_cdbm = Some(record.rssi_dbm() * 100);
        reads.push(self.line.tag_read(u16::from(antenna), epc, rssi_cdbm, now));
    }

    /// When the protocol next needs [`Session::on_timer`] (the line adds its own deadlines).
    fn phase_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Setup { deadline, .. }
            | Phase::Round { deadline }
            | Phase::Stopping { deadline } => Some(deadline),
            Phase::Paused { until } => Some(until),
            Phase::Disconnected | Phase::Stopped => None,
        }
    }

    fn finish_stop(&mut self) {
        self.line.finish_stop();
        self.phase = Phase::Stopped;
    }
}

impl Session for R2000Session {
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
        self.firmware = None;
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
                let name = self.steps.get(step).map_or("setup", |s| s.name());
                let waited = self.settings.response_timeout.as_millis();
                self.fail(&format!("no answer to {name} within {waited}ms"));
            }
            Phase::Round { deadline } if deadline <= now.instant => {
                self.fail(&format!(
                    "inventory round did not end within {}ms; restarting the session",
                    self.settings.round_timeout.as_millis()
                ));
            }
            Phase::Paused { until } if until <= now.instant => self.start_round(now.instant),
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
            // 0x89/0x8A end on their own after the round: just don't start another.
            Phase::Round { deadline } => {
                self.phase = Phase::Stopping {
                    deadline: deadline.min(now.instant + self.settings.response_timeout * 2),
                }
            }
            Phase::Stopping { .. } | Phase::Stopped => {}
            Phase::Disconnected | Phase::Setup { .. } | Phase::Paused { .. } => self.finish_stop(),
        }
    }

    fn poll_action(&mut self) -> Option<SessionAction> {
        let deadline = self.phase_deadline();
        self.line.poll_action(deadline)
    }
}
