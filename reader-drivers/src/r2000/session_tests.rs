//! Sans-IO tests of the R2000 session: byte slices in, actions out, time passed explicitly.

use std::time::Duration;

use tagtally_config::R2000Region;
use tagtally_protocol::r2000::{
    Command, CommandCode, Deframer, ErrorCode, FastSwitchSummary, InventoryRoundSummary, Reply,
    TagRecord,
};

use super::{preset_band, R2000Session, R2000Settings};
use crate::{DriverEvent, DriverOutput, Now, ReaderId, TagRead};
use tagtally_core::{Session, SessionAction};

const EPC: [u8; 12] = [
    0x30, 0x08, 0x33, 0xB2, 0xDD, 0xD9, 0x01, 0x40, 0x00, 0x00, 0x00, 0x01,
];
const READER_ADDRESS: u8 = 0x01;

fn bytes(replies: &[Reply]) -> Vec<u8> {
    let mut out = Vec::new();
    for reply in replies {
        reply
            .encode(READER_ADDRESS, &mut out)
            .expect("test replies encode");
    }
    out
}

fn tag(command: CommandCode, antenna: u8, epc: &[u8], rssi_dbm: i16) -> Reply {
    Reply::Tag {
        command,
        record: TagRecord::new(antenna, 35, 0x3000, epc, rssi_dbm).expect("valid record"),
    }
}

fn round_end(antenna: u8) -> Reply {
    Reply::InventoryRoundEnd {
        command: CommandCode::RealTimeInventory,
        summary: InventoryRoundSummary {
            antenna,
            read_rate: 100,
            total_reads: 1,
        },
    }
}

fn fast_switch_end() -> Reply {
    Reply::FastSwitchRoundEnd(FastSwitchSummary {
        total_reads: 2,
        duration_ms: 40,
    })
}

fn sent(actions: &[SessionAction]) -> Vec<Command> {
    let mut deframer = Deframer::new(4096);
    let mut commands = Vec::new();
    for action in actions {
        if let SessionAction::Send(bytes) = action {
            deframer.feed(bytes, |frame| commands.push(Command::decode(frame)));
        }
    }
    commands
}

fn events(actions: &[SessionAction]) -> Vec<DriverEvent> {
    actions
        .iter()
        .filter_map(|a| match a {
            SessionAction::Output(DriverOutput::Event(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn reads(actions: &[SessionAction]) -> Vec<Vec<TagRead>> {
    actions
        .iter()
        .filter_map(|a| match a {
            SessionAction::Output(DriverOutput::Reads(r)) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

struct Harness {
    session: R2000Session,
    now: Now,
}

impl Harness {
    fn new(settings: R2000Settings) -> Self {
        Self {
            session: R2000Session::new(settings, 1),
            now: Now::capture(),
        }
    }

    /// What the session asked for, without its timers (the tests drive time themselves).
    fn actions(&mut self) -> Vec<SessionAction> {
        std::iter::from_fn(|| self.session.poll_action())
            .filter(|action| !matches!(action, SessionAction::Timer(_)))
            .collect()
    }

    /// Waits until the session asks for a transport (starting it, or waiting out its backoff).
    fn until_connect(&mut self) {
        self.session.start(self.now);
        let mut actions = self.actions();
        for _ in 0..4 {
            if actions.contains(&SessionAction::Connect) {
                return;
            }
            // The backoff is at most a minute.
            actions = self.advance(Duration::from_secs(61));
        }
        panic!("the session never asked for a transport: {actions:?}");
    }

    /// Opens a transport the way the task does.
    fn connect(&mut self) {
        self.until_connect();
        self.session.on_connected(self.now);
    }

    fn feed(&mut self, replies: &[Reply]) -> Vec<SessionAction> {
        self.session.on_bytes(self.now, &bytes(replies));
        self.actions()
    }

    fn advance(&mut self, by: Duration) -> Vec<SessionAction> {
        self.now = self.now.advanced(by);
        self.session.on_timer(self.now);
        self.actions()
    }

    /// Connects and answers setup like a healthy module; returns everything up to the first round.
    fn bring_up(&mut self) -> Vec<SessionAction> {
        self.connect();
        let mut seen = Vec::new();
        let mut pending = self.actions();
        for _ in 0..10 {
            let commands = sent(&pending);
            seen.extend(pending);
            let reply = match commands.last() {
                Some(Command::GetFirmwareVersion) => Reply::FirmwareVersion { major: 8, minor: 1 },
                Some(Command::SetOutputPower { .. }) => success(CommandCode::SetOutputPower),
                Some(Command::SetWorkAntenna { .. }) => success(CommandCode::SetWorkAntenna),
                Some(Command::SetFrequencyRegion { .. }) => {
                    success(CommandCode::SetFrequencyRegion)
                }
                _ => break,
            };
            pending = self.feed(&[reply]);
        }
        seen
    }
}

fn success(command: CommandCode) -> Reply {
    Reply::Status {
        command,
        code: ErrorCode::Success,
    }
}

#[test]
fn setup_then_link_up_then_the_first_round() {
    let mut settings = R2000Settings::new(ReaderId(3), vec![2]);
    settings.output_power_dbm = Some(30);
    settings.band = Some(preset_band(R2000Region::Eu));
    let mut h = Harness::new(settings);
    let actions = h.bring_up();
    assert_eq!(
        sent(&actions),
        [
            Command::GetFirmwareVersion,
            Command::SetFrequencyRegion {
                region: 0x02,
                start: 0x00,
                end: 0x06
            },
            Command::SetOutputPower { dbm: vec![30] },
            Command::SetWorkAntenna { antenna: 1 },
            Command::RealTimeInventory { repeat: 1 },
        ]
    );
    let Some(DriverEvent::LinkUp { info, .. }) = events(&actions).into_iter().next() else {
        panic!("link up expected");
    };
    assert_eq!(info.firmware, "8.1");
    assert!(h.session.is_inventorying());
}

#[test]
fn tag_records_become_reads_and_the_summary_starts_the_next_round() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1]));
    h.bring_up();
    let actions = h.feed(&[
        tag(CommandCode::RealTimeInventory, 1, &EPC, -74),
        tag(CommandCode::RealTimeInventory, 1, &[0xE2, 0x00], -60),
        round_end(0),
    ]);
    let batches = reads(&actions);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0][0].epc.as_bytes(), EPC);
    assert_eq!(batches[0][0].antenna, 1);
    assert_eq!(batches[0][0].rssi_cdbm, Some(-7400));
    assert_eq!(batches[0][0].time, h.now.utc);
    assert_eq!(sent(&actions), [Command::RealTimeInventory { repeat: 1 }]);
}

#[test]
fn the_verified_capture_decodes_to_the_documented_read() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1]));
    h.bring_up();
    // protocols.md §2.5: FreqAnt 0x8C, PC 3000, EPC 300833B2DDD9014000000001, RSSI 0x37 → −74 dBm.
    let frame = [
        0xA0, 0x13, 0x01, 0x89, 0x8C, 0x30, 0x00, 0x30, 0x08, 0x33, 0xB2, 0xDD, 0xD9, 0x01, 0x40,
        0x00, 0x00, 0x00, 0x01, 0x37, 0xBB,
    ];
    h.session.on_bytes(h.now, &frame);
    let batches = reads(&h.actions());
    assert_eq!(batches[0][0].epc.as_bytes(), EPC);
    assert_eq!(batches[0][0].antenna, 1);
    assert_eq!(batches[0][0].rssi_cdbm, Some(-7400));
}

#[test]
fn several_antennas_use_fast_switch_rounds() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1, 3]));
    let actions = h.bring_up();
    assert!(matches!(
        sent(&actions).last(),
        Some(Command::FastSwitchInventory(_))
    ));
    let actions = h.feed(&[
        tag(CommandCode::FastSwitchAntInventory, 3, &EPC, -50),
        fast_switch_end(),
    ]);
    assert_eq!(reads(&actions)[0][0].antenna, 3);
    assert!(matches!(
        sent(&actions).as_slice(),
        [Command::FastSwitchInventory(_)]
    ));
}

#[test]
fn a_missing_antenna_is_reported_once_and_cleared_by_a_read() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1, 2]));
    h.bring_up();
    let missing = Reply::AntennaMissing {
        antenna: 1,
        code: ErrorCode::AntennaMissing,
    };
    let actions = h.feed(&[missing.clone(), fast_switch_end()]);
    assert_eq!(
        events(&actions),
        [
            DriverEvent::Antenna {
                reader: ReaderId(3),
                antenna: 2,
                connected: false
            },
            DriverEvent::ReaderError {
                reader: ReaderId(3),
                message: "antenna 2: antenna missing (0x22)".into()
            }
        ]
    );
    assert!(events(&h.feed(&[missing, fast_switch_end()])).is_empty());
    let actions = h.feed(&[tag(CommandCode::FastSwitchAntInventory, 2, &EPC, -50)]);
    assert_eq!(
        events(&actions),
        [DriverEvent::Antenna {
            reader: ReaderId(3),
            antenna: 2,
            connected: true
        }]
    );
}

#[test]
fn an_error_code_pauses_the_loop_and_says_why() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1]));
    h.bring_up();
    let actions = h.feed(&[Reply::Status {
        command: CommandCode::RealTimeInventory,
        code: ErrorCode::AntennaMissing,
    }]);
    assert_eq!(
        events(&actions),
        [DriverEvent::ReaderError {
            reader: ReaderId(3),
            message: "inventory round failed: antenna missing (0x22)".into()
        }]
    );
    assert!(sent(&actions).is_empty(), "no busy loop on a failing round");
    let actions = h.advance(Duration::from_secs(1));
    assert_eq!(sent(&actions), [Command::RealTimeInventory { repeat: 1 }]);
}

#[test]
fn a_rejected_setup_command_names_the_command_and_the_code() {
    let mut settings = R2000Settings::new(ReaderId(3), vec![1]);
    settings.output_power_dbm = Some(33);
    let mut h = Harness::new(settings);
    h.connect();
    h.actions();
    h.feed(&[Reply::FirmwareVersion { major: 8, minor: 1 }]);
    let actions = h.feed(&[Reply::Status {
        command: CommandCode::SetOutputPower,
        code: ErrorCode::OutputPowerOutOfRange,
    }]);
    assert!(matches!(
        events(&actions).as_slice(),
        [DriverEvent::ReaderError { message, .. }, DriverEvent::LinkDown { reason, .. }, DriverEvent::Counters { .. }]
            if message == "set_output_power rejected: output power out of range (0x48)" && reason == message
    ));
    assert_eq!(actions.last(), Some(&SessionAction::Close));
}

#[test]
fn a_round_that_never_ends_restarts_the_session() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1]));
    h.bring_up();
    assert!(h.advance(Duration::from_millis(4900)).is_empty());
    let actions = h.advance(Duration::from_millis(100));
    assert!(matches!(
        events(&actions).as_slice(),
        [DriverEvent::LinkDown { reason, .. }, DriverEvent::Counters { .. }]
            if reason.starts_with("inventory round did not end within 5000ms")
    ));
    assert_eq!(actions.last(), Some(&SessionAction::Close));
}

#[test]
fn junk_and_bad_checksums_are_counted_and_good_records_kept() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1]));
    h.bring_up();
    let good = bytes(&[tag(CommandCode::RealTimeInventory, 1, &EPC, -60)]);
    let mut corrupt = good.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x01;
    let mut stream = vec![0x11, 0x22];
    stream.extend_from_slice(&corrupt);
    stream.extend_from_slice(&good);
    stream.extend_from_slice(&good);
    h.session.on_bytes(h.now, &stream);
    let delivered: usize = reads(&h.actions()).iter().map(Vec::len).sum();
    assert_eq!(delivered, 2);
    let counters = h.session.counters();
    assert_eq!(counters.frames_dropped, 1);
    assert_eq!(counters.bytes_discarded, 2 + corrupt.len() as u64);
}

#[test]
fn stop_waits_for_the_round_to_end() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1]));
    h.bring_up();
    h.session.shutdown(h.now);
    assert!(sent(&h.actions()).is_empty());
    let actions = h.feed(&[
        tag(CommandCode::RealTimeInventory, 1, &EPC, -60),
        round_end(0),
    ]);
    assert_eq!(reads(&actions).concat().len(), 1);
    assert!(sent(&actions).is_empty(), "no new round after stop");
    assert_eq!(actions.last(), Some(&SessionAction::Finished));
}

#[test]
fn round_summaries_alone_make_the_module_heard_at_most_once_a_period() {
    let heard = |actions: &[SessionAction]| {
        events(actions)
            .iter()
            .filter(|e| matches!(e, DriverEvent::Heard { reader } if *reader == ReaderId(3)))
            .count()
    };
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1]));
    h.bring_up();
    h.now = h.now.advanced(crate::HEARD_PERIOD);
    // Empty rounds, back to back: each summary is a sign of life, reported once a period.
    assert_eq!(heard(&h.feed(&[round_end(0)])), 1);
    assert_eq!(heard(&h.feed(&[round_end(0)])), 0);
    h.now = h.now.advanced(crate::HEARD_PERIOD / 2);
    assert_eq!(heard(&h.feed(&[round_end(0)])), 0);
    h.now = h.now.advanced(crate::HEARD_PERIOD / 2);
    assert_eq!(heard(&h.feed(&[round_end(0)])), 1);
}

#[test]
fn reads_without_a_whole_epc_are_dropped_and_counted() {
    let mut h = Harness::new(R2000Settings::new(ReaderId(3), vec![1]));
    h.bring_up();
    let record = |pc: u16, epc: &[u8]| Reply::Tag {
        command: CommandCode::RealTimeInventory,
        record: TagRecord::new(1, 35, pc, epc, -60).expect("valid record"),
    };
    // No EPC at all, and 64 bits where the PC word announces 96.
    let stream = bytes(&[
        record(0x0000, &[]),
        record(0x3000, &EPC[..8]),
        record(0x3000, &EPC),
    ]);
    h.session.on_bytes(h.now, &stream);
    let delivered: Vec<TagRead> = reads(&h.actions()).into_iter().flatten().collect();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].epc.as_bytes(), EPC);
    assert_eq!(h.session.counters().frames_dropped, 2);
}
