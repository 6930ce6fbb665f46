//! An emulated ThingMagic module (M6e family): answers the setup commands like the real module,
//! streams 0x22 tag frames from the scenario's tag field while reading continuously, and sends
//! the keep-alive (0x0400) and trouble (0x0504, 0x0505) status frames.

use std::collections::BTreeSet;
use std::time::Duration;

use tagtally_protocol::thingmagic::{
    AntennaPorts, AntennaSelection, Command, CommandDeframer, ContinuousReadPlan, EmbeddedData,
    Gen2Tag, MetadataFlags, Opcode, Region, Response, StatusWord, TagMetadata, TagProtocol,
    TagReadRecord, VersionInfo, OPTION_METADATA,
};

use crate::scenario::{Fault, Scenario};
use crate::serial_module::{EmittedFrame, EmulatedModule};
use crate::tag_field::{SimRead, TagField};

/// The highest read power the module takes, centi-dBm (M6e: 31.5 dBm).
pub const MAX_READ_POWER_CDBM: i16 = 3150;
/// The lowest, centi-dBm.
pub const MIN_READ_POWER_CDBM: i16 = 0;
/// A backlog of rounds longer than this (the emulator was starved) is skipped, not replayed.
const MAX_CATCH_UP: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Reading {
    plan: ContinuousReadPlan,
    next_round: Duration,
    cycle_start: Duration,
    tags_this_cycle: bool,
}

/// One emulated ThingMagic module.
#[derive(Debug)]
pub struct ThingMagicModule {
    version: VersionInfo,
    field: TagField,
    round_period: Duration,
    port_count: u16,
    deframer: CommandDeframer,
    region: Region,
    read_power_cdbm: i16,
    search_list: Vec<u8>,
    reading: Option<Reading>,
    disconnected: BTreeSet<u16>,
    /// A reader exception to report in the next status frame.
    pending_trouble: Option<StatusWord>,
    scratch: Vec<SimRead>,
}

/// The hardware byte the emulator announces: the scenario's model text picks the family.
fn hardware_code(model: Option<&str>) -> u8 {
    match model.map(str::to_lowercase) {
        Some(m) if m.contains("nano") => 0x30,
        Some(m) if m.contains("m7e") => 0x38,
        _ => 0x18,
    }
}

/// "1.7.1.2" → `01 07 01 02`, missing parts zero.
fn firmware_bytes(text: &str) -> [u8; 4] {
    let mut bytes = [0u8; 4];
    for (slot, part) in bytes.iter_mut().zip(text.split('.')) {
        *slot = part.trim().parse().unwrap_or(0);
    }
    bytes
}

impl ThingMagicModule {
    pub fn new(scenario: &Scenario) -> Self {
        let version = VersionInfo {
            bootloader: [0x12, 0x03, 0x00, 0x00],
            hardware: [
                hardware_code(scenario.reader.model.as_deref()),
                0x00,
                0x00,
                0x20,
            ],
            firmware_date: [0x20, 0x24, 0x01, 0x15],
            firmware_version: firmware_bytes(&scenario.reader.firmware),
            supported_protocols: 0x0000_0010,
        };
        Self {
            version,
            field: TagField::new(scenario),
            round_period: Duration::from_secs_f64(1.0 / scenario.inventory.read_rate),
            port_count: scenario.reader.antennas,
            deframer: CommandDeframer::new(4096),
            region: Region::NorthAmerica,
            read_power_cdbm: 2500,
            search_list: vec![1],
            reading: None,
            disconnected: BTreeSet::new(),
            pending_trouble: None,
            scratch: Vec::new(),
        }
    }

    /// Whether the module is reading continuously.
    pub fn is_reading(&self) -> bool {
        self.reading.is_some()
    }

    fn answer(&mut self, command: Command, elapsed: Duration) -> Response {
        match command {
            Command::Version => Response::Version(self.version),
            Command::SetRegion(region) => match region {
                Region::Unknown(_) => Response::Rejected {
                    opcode: Opcode::SetRegion,
                    status: StatusWord::InvalidRegion,
                },
                region => {
                    self.region = region;
                    Response::Ack {
                        opcode: Opcode::SetRegion,
                    }
                }
            },
            Command::SetTagProtocol(TagProtocol::Gen2) => Response::Ack {
                opcode: Opcode::SetTagProtocol,
            },
            Command::SetTagProtocol(_) => {
                rejected(Opcode::SetTagProtocol, StatusWord::InvalidParameter)
            }
            Command::SetAntennaPort(selection) => {
                let ports: Vec<u8> = match selection {
                    AntennaSelection::Single { tx, .. } => vec![tx],
                    AntennaSelection::SearchList(pairs) => {
                        pairs.iter().map(|&(tx, _)| tx).collect()
                    }
                };
                if ports.is_empty()
                    || ports
                        .iter()
                        .any(|&p| p == 0 || u16::from(p) > self.port_count)
                {
                    rejected(Opcode::SetAntennaPort, StatusWord::InvalidParameter)
                } else {
                    self.search_list = ports;
                    Response::Ack {
                        opcode: Opcode::SetAntennaPort,
                    }
                }
            }
            Command::SetReadTxPower { centi_dbm } if centi_dbm > MAX_READ_POWER_CDBM => {
                rejected(Opcode::SetReadTxPower, StatusWord::PowerTooHigh)
            }
            Command::SetReadTxPower { centi_dbm } if centi_dbm < MIN_READ_POWER_CDBM => {
                rejected(Opcode::SetReadTxPower, StatusWord::PowerTooLow)
            }
            Command::SetReadTxPower { centi_dbm } => {
                self.read_power_cdbm = centi_dbm;
                Response::Ack {
                    opcode: Opcode::SetReadTxPower,
                }
            }
            Command::SetReaderConfiguration { .. } => Response::Ack {
                opcode: Opcode::SetReaderOptionalParams,
            },
            Command::ClearTagIdBuffer => Response::Ack {
                opcode: Opcode::ClearTagIdBuffer,
            },
            Command::GetAntennaPort => {
                let port = self.search_list.first().copied().unwrap_or(1);
                Response::AntennaPort { tx: port, rx: port }
            }
            Command::GetReadTxPower => Response::ReadTxPower {
                centi_dbm: self.read_power_cdbm,
            },
            Command::GetTagProtocol => Response::TagProtocol(TagProtocol::Gen2),
            Command::GetRegion => Response::Region(self.region),
            Command::StartContinuousRead(plan) => {
                if plan.metadata.unsupported() != MetadataFlags::NONE || plan.cycle_ms == 0 {
                    return rejected(Opcode::MultiProtocolTagOp, StatusWord::InvalidParameter);
                }
                self.reading = Some(Reading {
                    plan,
                    next_round: elapsed,
                    cycle_start: elapsed,
                    tags_this_cycle: false,
                });
                Response::ContinuousReadStarted
            }
            // Stopping an idle module is harmless; the real one confirms as well.
            Command::StopContinuousRead => {
                self.reading = None;
                Response::ContinuousReadStopped
            }
            Command::Other {
                opcode: Opcode::SetProtocolParam,
                ..
            } => Response::Ack {
                opcode: Opcode::SetProtocolParam,
            },
            Command::Other {
                opcode: opcode @ Opcode::Unknown(_),
                ..
            } => rejected(opcode, StatusWord::InvalidOpcode),
            // Baud changes would cut the emulated line; synchronous reads are not emulated.
            Command::SetBaudRate { .. } => {
                rejected(Opcode::SetBaudRate, StatusWord::UnimplementedOpcode)
            }
            Command::GetTagIdBuffer { .. } => {
                rejected(Opcode::GetTagIdBuffer, StatusWord::UnimplementedOpcode)
            }
            Command::Other { opcode, .. } => rejected(opcode, StatusWord::UnimplementedOpcode),
        }
    }

    fn tag_frame(
        plan: &ContinuousReadPlan,
        read: &SimRead,
        since_cycle: Duration,
    ) -> Option<Response> {
        let tag = Gen2Tag::from_epc(read.epc.as_bytes())?;
        let has = |flag| plan.metadata.contains(flag);
        let port = u8::try_from(read.antenna).ok().filter(|&p| p <= 0x0F)?;
        let rssi =
            i8::try_from((i32::from(read.rssi_cdbm) + 50).div_euclid(100)).unwrap_or(i8::MIN);
        let metadata = TagMetadata {
            read_count: has(MetadataFlags::READ_COUNT).then_some(1),
            rssi_dbm: has(MetadataFlags::RSSI).then_some(rssi),
            antenna: has(MetadataFlags::ANTENNA).then_some(AntennaPorts { tx: port, rx: port }),
            frequency_khz: has(MetadataFlags::FREQUENCY).then_some(915_250),
            timestamp_ms: has(MetadataFlags::TIMESTAMP)
                .then(|| u32::try_from(since_cycle.as_millis()).unwrap_or(u32::MAX)),
            phase: has(MetadataFlags::PHASE).then_some(90),
            protocol: has(MetadataFlags::PROTOCOL).then_some(TagProtocol::Gen2),
            data: has(MetadataFlags::DATA).then(|| EmbeddedData {
                bits: 0,
                bytes: Vec::new(),
            }),
            gpio: has(MetadataFlags::GPIO).then_some(0),
            gen2_q: has(MetadataFlags::GEN2_Q).then_some(4),
            gen2_link_frequency: has(MetadataFlags::GEN2_LINK_FREQUENCY).then_some(0),
            gen2_target: has(MetadataFlags::GEN2_TARGET).then_some(0),
            brand_id: has(MetadataFlags::BRAND_ID).then_some(0),
        };
        Some(Response::TagRead(TagReadRecord {
            option: OPTION_METADATA,
            search_flags: plan.search_flags,
            metadata,
            tag,
        }))
    }
}

fn rejected(opcode: Opcode, status: StatusWord) -> Response {
    Response::Rejected { opcode, status }
}

fn emit(response: &Response, out: &mut Vec<EmittedFrame>) {
    let mut frame = Vec::new();
    // Everything the emulator builds fits a frame; anything else is simply not sent.
    if response.encode(&mut frame).is_ok() {
        out.push(EmittedFrame {
            carries_read: matches!(response, Response::TagRead(_)),
            bytes: frame,
        });
    }
}

impl EmulatedModule for ThingMagicModule {
    fn frame_header(&self) -> u8 {
        tagtally_protocol::thingmagic::HEADER
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
                let response = self.answer(command, elapsed);
                emit(&response, out);
            }
        }
        // Commands arrive whole and quickly; a partial one left over is junk or a slow host.
        self.deframer.on_idle();
    }

    fn on_tick(&mut self, elapsed: Duration, out: &mut Vec<EmittedFrame>) {
        let Some(reading) = self.reading.as_mut() else {
            return;
        };
        if elapsed.saturating_sub(reading.next_round) > MAX_CATCH_UP {
            reading.next_round = elapsed;
        }
        let cycle = Duration::from_millis(u64::from(reading.plan.cycle_ms));
        while reading.next_round <= elapsed {
            let round_at = reading.next_round;
            reading.next_round += self.round_period;
            let search = &self.search_list;
            let disconnected = &self.disconnected;
            self.scratch.clear();
            self.field.round(
                round_at,
                |antenna| {
                    u8::try_from(antenna).is_ok_and(|a| search.contains(&a))
                        && !disconnected.contains(&antenna)
                },
                &mut self.scratch,
            );
            let since_cycle = round_at.saturating_sub(reading.cycle_start);
            for read in &self.scratch {
                if let Some(frame) = Self::tag_frame(&reading.plan, read, since_cycle) {
                    reading.tags_this_cycle = true;
                    emit(&frame, out);
                }
            }
        }
        if elapsed.saturating_sub(reading.cycle_start) > MAX_CATCH_UP + cycle {
            reading.cycle_start = elapsed;
        }
        while reading.cycle_start + cycle <= elapsed {
            reading.cycle_start += cycle;
            let antenna_trouble = self
                .search_list
                .iter()
                .any(|&p| self.disconnected.contains(&u16::from(p)));
            let status = match self.pending_trouble.take() {
                Some(trouble) => trouble,
                None if antenna_trouble => StatusWord::HighReturnLoss,
                None if !reading.tags_this_cycle => StatusWord::NoTagsFound,
                None => {
                    reading.tags_this_cycle = false;
                    continue;
                }
            };
            reading.tags_this_cycle = false;
            emit(&Response::StreamStatus(status), out);
        }
    }

    fn next_tick(&self) -> Option<Duration> {
        self.reading.as_ref().map(|r| {
            let cycle = Duration::from_millis(u64::from(r.plan.cycle_ms));
            r.next_round.min(r.cycle_start + cycle)
        })
    }

    fn power_cycle(&mut self) {
        self.reading = None;
        self.deframer.clear();
        self.pending_trouble = None;
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
            // The module has no free-text errors; an overheating module is the closest fault.
            Fault::ReaderException { .. } => {
                self.pending_trouble = Some(StatusWord::TemperatureExceedsLimits);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagtally_protocol::thingmagic::ResponseDeframer;

    fn decode(frames: &[EmittedFrame]) -> Vec<Response> {
        let mut deframer = ResponseDeframer::new(4096);
        let mut out = Vec::new();
        for frame in frames {
            deframer.feed(&frame.bytes, |f| {
                out.push(Response::decode(f).expect("emulator frames decode"))
            });
        }
        out
    }

    fn command(c: Command) -> Vec<u8> {
        let mut out = Vec::new();
        c.encode(&mut out).unwrap();
        out
    }

    #[test]
    fn reads_stream_after_start_and_keep_alives_fill_empty_cycles() {
        let scenario = Scenario::parse(
            "[inventory]\nread-rate = 10.0\n[[tag]]\nepc = \"3074257BF7194E4000001A85\"\nantennas = [2]\nrssi = -58.0\nleave = \"1s\"",
        )
        .unwrap();
        let mut module = ThingMagicModule::new(&scenario);
        let mut out = Vec::new();
        module.on_bytes(
            &command(Command::SetAntennaPort(AntennaSelection::SearchList(vec![
                (1, 1),
                (2, 2),
            ]))),
            Duration::ZERO,
            &mut out,
        );
        module.on_bytes(
            &command(Command::StartContinuousRead(ContinuousReadPlan::STANDARD)),
            Duration::ZERO,
            &mut out,
        );
        assert_eq!(
            decode(&out),
            [
                Response::Ack {
                    opcode: Opcode::SetAntennaPort
                },
                Response::ContinuousReadStarted
            ]
        );
        out.clear();
        module.on_tick(Duration::from_millis(950), &mut out);
        let responses = decode(&out);
        assert_eq!(responses.len(), 10);
        let Response::TagRead(record) = &responses[0] else {
            panic!("tag expected")
        };
        assert_eq!(record.metadata.rssi_dbm, Some(-58));
        assert_eq!(record.metadata.antenna, Some(AntennaPorts { tx: 2, rx: 2 }));
        out.clear();
        module.on_tick(Duration::from_millis(2000), &mut out);
        assert_eq!(
            decode(&out).last(),
            Some(&Response::StreamStatus(StatusWord::NoTagsFound))
        );
        module.on_bytes(
            &command(Command::StopContinuousRead),
            Duration::from_secs(2),
            &mut out,
        );
        assert!(!module.is_reading());
        assert_eq!(module.next_tick(), None);
    }

    #[test]
    fn bad_settings_are_refused_with_the_real_status_words() {
        let mut module = ThingMagicModule::new(&Scenario::parse("[reader]\nantennas = 2").unwrap());
        let mut out = Vec::new();
        module.on_bytes(
            &command(Command::SetReadTxPower { centi_dbm: 4000 }),
            Duration::ZERO,
            &mut out,
        );
        module.on_bytes(
            &command(Command::SetAntennaPort(AntennaSelection::Single {
                tx: 3,
                rx: 3,
            })),
            Duration::ZERO,
            &mut out,
        );
        module.on_bytes(
            &command(Command::SetRegion(Region::Unknown(0x42))),
            Duration::ZERO,
            &mut out,
        );
        assert_eq!(
            decode(&out),
            [
                rejected(Opcode::SetReadTxPower, StatusWord::PowerTooHigh),
                rejected(Opcode::SetAntennaPort, StatusWord::InvalidParameter),
                rejected(Opcode::SetRegion, StatusWord::InvalidRegion),
            ]
        );
    }
}
