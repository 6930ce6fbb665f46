//! An emulated R2000 "0xA0" module: answers the setup commands, runs real-time (0x89) and
//! fast-switch (0x8A) inventory rounds over the scenario's tag field at its read rate, and ends
//! each round with its summary, an error code, or antenna-missing reports.

use std::collections::BTreeSet;
use std::time::Duration;

use tagtally_protocol::r2000::{
    Command, CommandCode, Deframer, ErrorCode, FastSwitchPlan, FastSwitchSummary,
    InventoryRoundSummary, Reply, TagRecord,
};

use crate::scenario::{Fault, Scenario};
use crate::serial_module::{EmittedFrame, EmulatedModule};
use crate::tag_field::{SimRead, TagField};

/// The address the emulated module answers from.
pub const MODULE_ADDRESS: u8 = 0x01;
/// The module's output power ceiling (dBm).
const MAX_POWER_DBM: u8 = 33;

/// The round being run, whose results go out when it is `due`.
#[derive(Debug, Clone)]
enum Round {
    RealTime { repeats_left: u8 },
    FastSwitch(FastSwitchPlan),
}

/// One emulated R2000 module.
#[derive(Debug)]
pub struct R2000Module {
    firmware: (u8, u8),
    field: TagField,
    round_period: Duration,
    port_count: u16,
    deframer: Deframer,
    work_antenna: u8,
    output_power: Vec<u8>,
    band: (u8, u8, u8),
    running: Option<(Round, Duration)>,
    disconnected: BTreeSet<u16>,
    pending_trouble: bool,
    scratch: Vec<SimRead>,
}

fn parse_firmware(text: &str) -> (u8, u8) {
    let mut parts = text.split('.').map(|p| p.trim().parse::<u8>().unwrap_or(0));
    (parts.next().unwrap_or(1), parts.next().unwrap_or(0))
}

fn status(command: CommandCode, code: ErrorCode) -> Reply {
    Reply::Status { command, code }
}

impl R2000Module {
    pub fn new(scenario: &Scenario) -> Self {
        Self {
            firmware: parse_firmware(&scenario.reader.firmware),
            field: TagField::new(scenario),
            round_period: Duration::from_secs_f64(1.0 / scenario.inventory.read_rate),
            port_count: scenario.reader.antennas.min(8),
            deframer: Deframer::new(4096),
            work_antenna: 0,
            output_power: vec![30],
            band: (0x01, 0x07, 0x3B),
            running: None,
            disconnected: BTreeSet::new(),
            pending_trouble: false,
            scratch: Vec::new(),
        }
    }

    /// Whether an inventory command is running.
    pub fn is_inventorying(&self) -> bool {
        self.running.is_some()
    }

    fn answer(&mut self, command: Command, elapsed: Duration) -> Option<Reply> {
        let reply = match command {
            Command::GetFirmwareVersion => Reply::FirmwareVersion {
                major: self.firmware.0,
                minor: self.firmware.1,
            },
            Command::SetWorkAntenna { antenna } if u16::from(antenna) < self.port_count => {
                self.work_antenna = antenna;
                status(CommandCode::SetWorkAntenna, ErrorCode::Success)
            }
            Command::SetWorkAntenna { .. } => {
                status(CommandCode::SetWorkAntenna, ErrorCode::AntennaIdOutOfRange)
            }
            Command::GetWorkAntenna => Reply::WorkAntenna {
                antenna: self.work_antenna,
            },
            Command::SetOutputPower { dbm } if dbm.iter().all(|&p| p <= MAX_POWER_DBM) => {
                self.output_power = dbm;
                status(CommandCode::SetOutputPower, ErrorCode::Success)
            }
            Command::SetOutputPower { .. } => status(
                CommandCode::SetOutputPower,
                ErrorCode::OutputPowerOutOfRange,
            ),
            Command::GetOutputPower => Reply::OutputPower {
                dbm: self.output_power.clone(),
            },
            Command::SetFrequencyRegion { region, start, end }
                if (1..=3).contains(&region) && start <= end && end <= 0x3B =>
            {
                self.band = (region, start, end);
                status(CommandCode::SetFrequencyRegion, ErrorCode::Success)
            }
            Command::SetFrequencyRegion { .. } => status(
                CommandCode::SetFrequencyRegion,
                ErrorCode::FrequencyRegionOutOfRange,
            ),
            Command::GetFrequencyRegion => Reply::FrequencyRegion {
                region: self.band.0,
                start: self.band.1,
                end: self.band.2,
            },
            Command::RealTimeInventory { repeat } => {
                // 0xFF asks for the shortest rounds: one at a time here.
                let repeats_left = if repeat == 0xFF { 1 } else { repeat.max(1) };
                self.running = Some((
                    Round::RealTime { repeats_left },
                    elapsed + self.round_period,
                ));
                return None;
            }
            Command::FastSwitchInventory(plan) => {
                self.running = Some((Round::FastSwitch(plan), elapsed + self.round_period));
                return None;
            }
            Command::Reset => {
                self.power_cycle();
                return None;
            }
            Command::Other { command, .. } => status(command, ErrorCode::Fail),
        };
        Some(reply)
    }

    /// Runs one round on `antennas` (1-based) at `at`, appending tag replies.
    fn round_on(
        &mut self,
        command: CommandCode,
        antennas: &[u16],
        at: Duration,
        out: &mut Vec<EmittedFrame>,
    ) -> u32 {
        self.scratch.clear();
        self.field
            .round(at, |antenna| antennas.contains(&antenna), &mut self.scratch);
        let mut count = 0;
        for read in &self.scratch {
            let Ok(antenna) = u8::try_from(read.antenna) else {
                continue;
            };
            let rssi = (i32::from(read.rssi_cdbm) + 50).div_euclid(100);
            let pc = u16::try_from(read.epc.as_bytes().len() / 2).unwrap_or(0) << 11;
            let frequency_index = u8::try_from(at.as_millis() % 50).unwrap_or(0);
            let Ok(record) = TagRecord::new(
                antenna,
                frequency_index,
                pc,
                read.epc.as_bytes(),
                i16::try_from(rssi.clamp(-129, -2)).unwrap_or(-129),
            ) else {
                continue;
            };
            emit(&Reply::Tag { command, record }, out);
            count += 1;
        }
        count
    }

    fn finish_round(&mut self, round: Round, due: Duration, out: &mut Vec<EmittedFrame>) {
        match round {
            Round::RealTime { repeats_left } => {
                let antenna = u16::from(self.work_antenna) + 1;
                if self.pending_trouble {
                    self.pending_trouble = false;
                    emit(
                        &status(CommandCode::RealTimeInventory, ErrorCode::TagInventory),
                        out,
                    );
                    return;
                }
                if self.disconnected.contains(&antenna) {
                    emit(
                        &status(CommandCode::RealTimeInventory, ErrorCode::AntennaMissing),
                        out,
                    );
                    return;
                }
                let total = self.round_on(CommandCode::RealTimeInventory, &[antenna], due, out);
                if repeats_left > 1 {
                    self.running = Some((
                        Round::RealTime {
                            repeats_left: repeats_left - 1,
                        },
                        due + self.round_period,
                    ));
                    return;
                }
                let rate =
                    (f64::from(total) / self.round_period.as_secs_f64()).min(f64::from(u16::MAX));
                emit(
                    &Reply::InventoryRoundEnd {
                        command: CommandCode::RealTimeInventory,
                        summary: InventoryRoundSummary {
                            antenna: self.work_antenna,
                            read_rate: rate as u16,
                            total_reads: total,
                        },
                    },
                    out,
                );
            }
            Round::FastSwitch(plan) => {
                if self.pending_trouble {
                    self.pending_trouble = false;
                    emit(
                        &status(CommandCode::FastSwitchAntInventory, ErrorCode::TagInventory),
                        out,
                    );
                    return;
                }
                let mut total = 0;
                for slot in plan.slots.iter().filter(|s| s.antenna <= 3 && s.stay > 0) {
                    let antenna = u16::from(slot.antenna) + 1;
                    if self.disconnected.contains(&antenna) || antenna > self.port_count {
                        emit(
                            &Reply::AntennaMissing {
                                antenna: slot.antenna,
                                code: ErrorCode::AntennaMissing,
                            },
                            out,
                        );
                        continue;
                    }
                    total +=
                        self.round_on(CommandCode::FastSwitchAntInventory, &[antenna], due, out);
                }
                emit(
                    &Reply::FastSwitchRoundEnd(FastSwitchSummary {
                        total_reads: total.min(0x00FF_FFFF),
                        duration_ms: u32::try_from(self.round_period.as_millis())
                            .unwrap_or(u32::MAX),
                    }),
                    out,
                );
            }
        }
    }
}

fn emit(reply: &Reply, out: &mut Vec<EmittedFrame>) {
    let mut frame = Vec::new();
    // Everything the emulator builds fits a frame; anything else is simply not sent.
    if reply.encode(MODULE_ADDRESS, &mut frame).is_ok() {
        out.push(EmittedFrame {
            carries_read: matches!(reply, Reply::Tag { .. }),
            bytes: frame,
        });
    }
}

impl EmulatedModule for R2000Module {
    fn frame_header(&self) -> u8 {
        tagtally_protocol::r2000::HEADER
    }

    fn on_bytes(&mut self, mut bytes: &[u8], elapsed: Duration, out: &mut Vec<EmittedFrame>) {
        while !bytes.is_empty() {
            let taken = self.deframer.push(bytes);
            bytes = &bytes[taken..];
            let mut commands = Vec::new();
            while let Some(frame) = self.deframer.next_frame() {
                commands.push(Command::decode(frame));
            }
            for command in commands {
                if let Some(reply) = self.answer(command, elapsed) {
                    emit(&reply, out);
                }
            }
        }
        self.deframer.on_idle();
    }

    fn on_tick(&mut self, elapsed: Duration, out: &mut Vec<EmittedFrame>) {
        while let Some((round, due)) = self.running.take() {
            if due > elapsed {
                self.running = Some((round, due));
                return;
            }
            self.finish_round(round, due, out);
        }
    }

    fn next_tick(&self) -> Option<Duration> {
        self.running.as_ref().map(|(_, due)| *due)
    }

    fn power_cycle(&mut self) {
        self.running = None;
        self.deframer.clear();
        self.pending_trouble = false;
    }

    fn inject(&mut self, fault: &Fault) {
        match fault {
            Fault::AntennaEvent { antenna, connected } => {
                if *connected {
                    self.disconnected.remove(antenna);
                } else {
                    self.disconnected.insert(*antenna);
                }
            }
            Fault::ReaderException { .. } => self.pending_trouble = true,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(frames: &[EmittedFrame]) -> Vec<Reply> {
        let mut deframer = Deframer::new(4096);
        let mut out = Vec::new();
        for frame in frames {
            deframer.feed(&frame.bytes, |f| {
                out.push(Reply::decode(f).expect("emulator frames decode"))
            });
        }
        out
    }

    fn command(c: Command) -> Vec<u8> {
        let mut out = Vec::new();
        c.encode(0xFF, &mut out).unwrap();
        out
    }

    fn scenario() -> Scenario {
        Scenario::parse(
            "[inventory]\nread-rate = 20.0\n[[tag]]\nepc = \"300833B2DDD9014000000001\"\nantennas = [2]\nrssi = -74.0",
        )
        .unwrap()
    }

    #[test]
    fn a_real_time_round_sends_its_tags_then_the_summary_when_due() {
        let mut module = R2000Module::new(&scenario());
        let mut out = Vec::new();
        module.on_bytes(
            &command(Command::SetWorkAntenna { antenna: 1 }),
            Duration::ZERO,
            &mut out,
        );
        module.on_bytes(
            &command(Command::RealTimeInventory { repeat: 1 }),
            Duration::ZERO,
            &mut out,
        );
        assert_eq!(
            decode(&out),
            [status(CommandCode::SetWorkAntenna, ErrorCode::Success)]
        );
        out.clear();
        module.on_tick(Duration::from_millis(10), &mut out);
        assert!(out.is_empty(), "the round takes 1/read-rate");
        assert_eq!(module.next_tick(), Some(Duration::from_millis(50)));
        module.on_tick(Duration::from_millis(50), &mut out);
        let replies = decode(&out);
        let Reply::Tag { record, .. } = &replies[0] else {
            panic!("tag first: {replies:?}")
        };
        assert_eq!(record.antenna(), 2);
        assert_eq!(record.rssi_dbm(), -74);
        assert!(
            matches!(replies[1], Reply::InventoryRoundEnd { summary, .. } if summary.total_reads == 1)
        );
        assert!(!module.is_inventorying());
    }

    #[test]
    fn a_disconnected_antenna_is_reported_missing() {
        let mut module = R2000Module::new(&scenario());
        module.inject(&Fault::AntennaEvent {
            antenna: 2,
            connected: false,
        });
        let mut out = Vec::new();
        let plan = match tagtally_reader_drivers::r2000::round_command(
            &tagtally_reader_drivers::r2000::R2000Settings::new(
                tagtally_core::ReaderId(0),
                vec![1, 2],
            ),
        ) {
            Command::FastSwitchInventory(plan) => plan,
            other => panic!("{other:?}"),
        };
        module.on_bytes(
            &command(Command::FastSwitchInventory(plan)),
            Duration::ZERO,
            &mut out,
        );
        module.on_tick(Duration::from_secs(1), &mut out);
        let replies = decode(&out);
        assert_eq!(
            replies[0],
            Reply::AntennaMissing {
                antenna: 1,
                code: ErrorCode::AntennaMissing
            }
        );
        assert!(matches!(replies[1], Reply::FastSwitchRoundEnd(_)));
    }
}
