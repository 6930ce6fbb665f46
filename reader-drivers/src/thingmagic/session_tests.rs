//! Sans-IO tests of the ThingMagic session: byte slices in, actions out, time passed explicitly.

use std::time::Duration;

use tagtally_config::Region as ConfigRegion;
use tagtally_protocol::thingmagic::{
    AntennaPorts, Command, CommandDeframer, Gen2Tag, Opcode, Region, Response, StatusWord,
    TagMetadata, TagProtocol, TagReadRecord, VersionInfo, OPTION_METADATA,
};

use super::{ThingMagicSession, ThingMagicSettings};
use crate::{DriverEvent, DriverOutput, Now, ReaderId};
use tagtally_core::{LinkLoss, Session, SessionAction};

const EPC: [u8; 12] = [
    0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
];

fn nano() -> VersionInfo {
    VersionInfo {
        bootloader: [0x12, 0x03, 0x00, 0x00],
        hardware: [0x30, 0x00, 0x00, 0x20],
        firmware_date: [0x20, 0x17, 0x01, 0x25],
        firmware_version: [0x01, 0x07, 0x01, 0x02],
        supported_protocols: 0x10,
    }
}

fn bytes(responses: &[Response]) -> Vec<u8> {
    let mut out = Vec::new();
    for response in responses {
        response.encode(&mut out).expect("test responses encode");
    }
    out
}

fn tag(epc: &[u8], antenna: u8, rssi: i8) -> Response {
    Response::TagRead(TagReadRecord {
        option: OPTION_METADATA,
        search_flags: 0x001B,
        metadata: TagMetadata {
            read_count: Some(1),
            rssi_dbm: Some(rssi),
            antenna: Some(AntennaPorts {
                tx: antenna,
                rx: antenna,
            }),
            frequency_khz: Some(915_250),
            timestamp_ms: Some(10),
            phase: Some(90),
            protocol: Some(TagProtocol::Gen2),
            data: None,
            gpio: Some(0),
            ..TagMetadata::default()
        },
        tag: Gen2Tag::from_epc(epc).expect("even-length epc"),
    })
}

struct Harness {
    session: ThingMagicSession,
    now: Now,
}

impl Harness {
    fn new(settings: ThingMagicSettings) -> Self {
        Self {
            session: ThingMagicSession::new(settings, 1),
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

    /// An attempt to open a transport fails.
    fn connect_fails(&mut self, reason: &str) {
        self.until_connect();
        self.session.on_connect_failed(self.now, reason);
    }

    fn feed(&mut self, responses: &[Response]) -> Vec<SessionAction> {
        self.session.on_bytes(self.now, &bytes(responses));
        self.actions()
    }

    fn advance(&mut self, by: Duration) -> Vec<SessionAction> {
        self.now = self.now.advanced(by);
        self.session.on_timer(self.now);
        self.actions()
    }

    /// Connects and answers every setup command like a healthy module.
    fn bring_up(&mut self) -> Vec<SessionAction> {
        self.connect();
        let mut seen = Vec::new();
        let mut pending = self.actions();
        for _ in 0..20 {
            let commands = sent(&pending);
            seen.extend(pending);
            let Some(command) = commands.last() else {
                break;
            };
            pending = self.feed(&[healthy_reply(command)]);
        }
        seen
    }
}

fn healthy_reply(command: &Command) -> Response {
    match command {
        Command::Version => Response::Version(nano()),
        Command::StopContinuousRead => Response::ContinuousReadStopped,
        Command::StartContinuousRead(_) => Response::ContinuousReadStarted,
        Command::SetRegion(_) => Response::Ack {
            opcode: Opcode::SetRegion,
        },
        Command::SetTagProtocol(_) => Response::Ack {
            opcode: Opcode::SetTagProtocol,
        },
        Command::SetAntennaPort(_) => Response::Ack {
            opcode: Opcode::SetAntennaPort,
        },
        Command::SetReadTxPower { .. } => Response::Ack {
            opcode: Opcode::SetReadTxPower,
        },
        Command::SetReaderConfiguration { .. } => Response::Ack {
            opcode: Opcode::SetReaderOptionalParams,
        },
        Command::Other { opcode, .. } => Response::Ack { opcode: *opcode },
        other => panic!("the session does not send {other:?} during setup"),
    }
}

fn sent(actions: &[SessionAction]) -> Vec<Command> {
    let mut deframer = CommandDeframer::new(4096);
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

fn read_batches(actions: &[SessionAction]) -> Vec<Vec<crate::TagRead>> {
    actions
        .iter()
        .filter_map(|a| match a {
            SessionAction::Output(DriverOutput::Reads(reads)) => Some(reads.clone()),
            _ => None,
        })
        .collect()
}

fn settings() -> ThingMagicSettings {
    ThingMagicSettings::new(ReaderId(7), vec![1, 2])
}

#[test]
fn setup_runs_every_command_then_reports_link_up_with_the_model() {
    let mut settings = settings();
    settings.region = Some(ConfigRegion::Na);
    settings.read_power_cdbm = Some(2500);
    settings.gen2_session = Some(1);
    let mut h = Harness::new(settings);
    let actions = h.bring_up();
    let commands = sent(&actions);
    assert_eq!(commands[0], Command::StopContinuousRead);
    assert_eq!(commands[1], Command::Version);
    assert_eq!(commands[2], Command::SetRegion(Region::NorthAmerica2));
    assert_eq!(commands[3], Command::SetTagProtocol(TagProtocol::Gen2));
    assert_eq!(commands[5], Command::SetReadTxPower { centi_dbm: 2500 });
    assert_eq!(
        commands[6],
        Command::Other {
            opcode: Opcode::SetProtocolParam,
            data: vec![0x05, 0x00, 0x01]
        }
    );
    assert!(matches!(
        commands.last(),
        Some(Command::StartContinuousRead(_))
    ));
    let Some(DriverEvent::LinkUp { reader, info }) = events(&actions).into_iter().next() else {
        panic!("link up expected");
    };
    assert_eq!(reader, ReaderId(7));
    assert_eq!(info.model, "ThingMagic M6e Nano");
    assert_eq!(info.firmware, "01.07.01.02 (2017-01-25)");
    assert!(h.session.is_streaming());
}

#[test]
fn streamed_frames_of_one_read_become_one_batch_stamped_with_receive_time() {
    let mut h = Harness::new(settings());
    h.bring_up();
    let actions = h.feed(&[
        tag(&EPC, 2, -58),
        Response::StreamStatus(StatusWord::NoTagsFound),
        tag(&[0xE2, 0x80], 1, -70),
    ]);
    let batches = read_batches(&actions);
    assert_eq!(batches.len(), 1);
    let reads = &batches[0];
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0].epc.as_bytes(), EPC);
    assert_eq!(reads[0].antenna, 2);
    assert_eq!(reads[0].rssi_cdbm, Some(-5800));
    assert_eq!(reads[0].time, h.now.utc);
    assert_eq!(reads[0].reader, ReaderId(7));
    assert_eq!(reads[1].antenna, 1);
    assert!(events(&actions).is_empty(), "keep-alive says nothing");
}

#[test]
fn junk_and_corrupt_frames_are_dropped_counted_and_intact_reads_kept() {
    let mut h = Harness::new(settings());
    h.bring_up();
    let good = bytes(&[tag(&EPC, 1, -60)]);
    let mut corrupt = good.clone();
    corrupt[20] ^= 0x55;
    let mut stream = vec![0x00, 0x13, 0x37];
    stream.extend_from_slice(&corrupt);
    stream.extend_from_slice(&good);
    stream.extend_from_slice(&[0xAA, 0xBB]);
    stream.extend_from_slice(&good);
    h.session.on_bytes(h.now, &stream);
    let actions = h.actions();
    let reads: usize = read_batches(&actions).iter().map(Vec::len).sum();
    assert_eq!(reads, 2);
    let later = h.advance(crate::COUNTERS_PERIOD);
    let counters = events(&later)
        .into_iter()
        .find_map(|e| match e {
            DriverEvent::Counters { counters, .. } => Some(counters),
            _ => None,
        })
        .expect("counters after a period");
    assert_eq!(counters.frames_dropped, 1);
    assert_eq!(counters.bytes_discarded, 3 + corrupt.len() as u64 + 2);
    assert_eq!(counters.reads, 2);
}

#[test]
fn a_damaged_tag_crc_drops_the_read() {
    let mut h = Harness::new(settings());
    h.bring_up();
    let Response::TagRead(mut record) = tag(&EPC, 1, -60) else {
        unreachable!()
    };
    record.tag.crc ^= 1;
    let actions = h.feed(&[Response::TagRead(record)]);
    assert!(read_batches(&actions).is_empty());
}

#[test]
fn a_partial_false_frame_is_skipped_once_the_line_is_idle() {
    let mut h = Harness::new(settings());
    h.bring_up();
    // A false header declaring 200 data bytes, then one real frame and silence.
    let mut stream = vec![0xFF, 200, 0x22];
    stream.extend_from_slice(&bytes(&[tag(&EPC, 1, -60)]));
    h.session.on_bytes(h.now, &stream);
    assert!(read_batches(&h.actions()).is_empty());
    let actions = h.advance(h.session_idle_gap());
    assert_eq!(read_batches(&actions).concat().len(), 1);
}

impl Harness {
    fn session_idle_gap(&self) -> Duration {
        settings().idle_gap
    }
}

#[test]
fn silence_restarts_the_session() {
    let mut h = Harness::new(settings().with_cycle(250));
    h.bring_up();
    assert!(h.advance(Duration::from_millis(1000)).is_empty());
    h.feed(&[Response::StreamStatus(StatusWord::NoTagsFound)]);
    assert!(
        !h.advance(Duration::from_millis(1600))
            .contains(&SessionAction::Close),
        "a keep-alive restarted the silence clock"
    );
    let actions = h.advance(Duration::from_millis(200));
    assert_eq!(actions.last(), Some(&SessionAction::Close));
    let Some(DriverEvent::LinkDown { reason, .. }) = events(&actions).into_iter().next() else {
        panic!("link down expected: {actions:?}");
    };
    assert!(
        reason.starts_with("no frame from the module for 1750ms"),
        "{reason}"
    );
    assert!(!h.session.is_streaming());
}

#[test]
fn a_rejected_setup_command_names_the_command_and_the_status() {
    let mut settings = settings();
    settings.region = Some(ConfigRegion::Jp);
    let mut h = Harness::new(settings);
    h.connect();
    h.actions();
    h.feed(&[Response::ContinuousReadStopped]);
    h.feed(&[Response::Version(nano())]);
    let actions = h.feed(&[Response::Rejected {
        opcode: Opcode::SetRegion,
        status: StatusWord::InvalidRegion,
    }]);
    let events = events(&actions);
    assert_eq!(
        events[0],
        DriverEvent::ReaderError {
            reader: ReaderId(7),
            message: "SET_REGION rejected: invalid region (0x010B)".into()
        }
    );
    assert!(
        matches!(&events[1], DriverEvent::LinkDown { reason, .. } if reason == "SET_REGION rejected: invalid region (0x010B)")
    );
    assert_eq!(actions.last(), Some(&SessionAction::Close));
}

#[test]
fn an_unanswered_version_gives_up_but_a_silent_stop_does_not() {
    let mut h = Harness::new(settings());
    h.connect();
    h.actions();
    let after_stop = h.advance(settings().stop_timeout);
    assert_eq!(sent(&after_stop), [Command::Version]);
    let actions = h.advance(settings().response_timeout);
    assert!(matches!(
        events(&actions).as_slice(),
        [DriverEvent::LinkDown { reason, .. }, DriverEvent::Counters { counters, .. }]
            if reason == "no answer to VERSION within 1000ms" && counters.failed_connects == 1
    ));
}

#[test]
fn status_frames_while_reading_become_reader_errors_without_flooding() {
    let mut h = Harness::new(settings());
    h.bring_up();
    let hot = Response::StreamStatus(StatusWord::TemperatureExceedsLimits);
    let actions = h.feed(&[hot.clone(), hot.clone()]);
    assert_eq!(
        events(&actions),
        [DriverEvent::ReaderError {
            reader: ReaderId(7),
            message: "module status while reading: temperature exceeds limits (0x0504)".into()
        }]
    );
    let actions = h.feed(&[Response::StreamStatus(StatusWord::HighReturnLoss)]);
    assert!(matches!(
        events(&actions).as_slice(),
        [DriverEvent::ReaderError { message, .. }] if message.contains("high return loss")
    ));
}

#[test]
fn graceful_stop_sends_stop_and_delivers_the_last_tags() {
    let mut h = Harness::new(settings());
    h.bring_up();
    h.session.shutdown(h.now);
    assert_eq!(sent(&h.actions()), [Command::StopContinuousRead]);
    let actions = h.feed(&[tag(&EPC, 1, -60), Response::ContinuousReadStopped]);
    assert_eq!(read_batches(&actions).concat().len(), 1);
    assert_eq!(actions.last(), Some(&SessionAction::Finished));
    assert!(events(&actions)
        .iter()
        .any(|e| matches!(e, DriverEvent::LinkDown { reason, .. } if reason == "driver stopped")));
}

#[test]
fn a_stop_without_confirmation_ends_at_the_deadline() {
    let mut h = Harness::new(settings());
    h.bring_up();
    h.session.shutdown(h.now);
    h.actions();
    let actions = h.advance(settings().stop_timeout);
    assert_eq!(actions.last(), Some(&SessionAction::Finished));
}

#[test]
fn link_loss_reports_down_once_and_the_next_connect_starts_over() {
    let mut h = Harness::new(settings());
    h.bring_up();
    h.session.on_link_lost(
        h.now,
        LinkLoss::Failed("read failed: input/output error".into()),
    );
    let actions = h.actions();
    assert!(matches!(
        events(&actions).as_slice(),
        [DriverEvent::LinkDown { reason, .. }, DriverEvent::Counters { counters, .. }]
            if reason == "read failed: input/output error" && counters.disconnects == 1
    ));
    h.connect_fails("cannot open /dev/ttyUSB0");
    // Down was said already; the failed attempt is only counted.
    assert!(matches!(
        events(&h.actions()).as_slice(),
        [DriverEvent::Counters { counters, .. }] if counters.failed_connects == 1
    ));
    let actions = h.bring_up();
    assert!(matches!(
        events(&actions).as_slice(),
        // The frame that completed the setup is the first sign of life of the new link.
        [DriverEvent::LinkUp { .. }, DriverEvent::Counters { counters, .. }, DriverEvent::Heard { .. }]
            if counters.connects == 2
    ));
}

#[test]
fn garbage_of_every_kind_never_panics() {
    let mut h = Harness::new(settings());
    h.bring_up();
    let mut seed = 0x1234_5678u32;
    for _ in 0..2000 {
        let chunk: Vec<u8> = (0..64)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                if seed.is_multiple_of(7) {
                    0xFF
                } else {
                    seed as u8
                }
            })
            .collect();
        h.session.on_bytes(h.now, &chunk);
        h.actions();
    }
}

fn heard(actions: &[SessionAction]) -> usize {
    events(actions)
        .iter()
        .filter(|e| matches!(e, DriverEvent::Heard { .. }))
        .count()
}

#[test]
fn status_keep_alives_alone_make_the_module_heard_at_most_once_a_period() {
    let mut h = Harness::new(settings());
    h.bring_up();
    h.advance(crate::HEARD_PERIOD);
    // No tag in the field: the module's "no tags found" status frames are its only sign of life.
    let keep_alive = Response::StreamStatus(StatusWord::NoTagsFound);
    assert_eq!(heard(&h.feed(std::slice::from_ref(&keep_alive))), 1);
    assert_eq!(heard(&h.feed(&[keep_alive.clone(), keep_alive.clone()])), 0);
    h.advance(crate::HEARD_PERIOD);
    // Reads and the sign of life of one burst: the reads first.
    let actions = h.feed(&[tag(&EPC, 1, -60), keep_alive.clone()]);
    let kinds: Vec<&str> = actions
        .iter()
        .filter_map(|a| match a {
            SessionAction::Output(DriverOutput::Reads(_)) => Some("reads"),
            SessionAction::Output(DriverOutput::Event(DriverEvent::Heard { reader })) => {
                assert_eq!(*reader, ReaderId(7));
                Some("heard")
            }
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["reads", "heard"]);
    // Silence: the timer never makes it heard.
    assert_eq!(heard(&h.advance(crate::HEARD_PERIOD * 2)), 0);
}

#[test]
fn reads_without_a_whole_epc_are_dropped_and_counted() {
    let mut h = Harness::new(settings());
    h.bring_up();
    // A tag record whose EPC field holds only PC and CRC (0 EPC bits), and one whose 64 bits fall
    // short of the 96 its PC word announces; both with a good tag CRC.
    let empty = tag(&[], 1, -60);
    let mut short = tag(&EPC[..8], 1, -60);
    if let Response::TagRead(record) = &mut short {
        record.tag.pc = 0x3000;
        record.tag.crc = tagtally_protocol::thingmagic::gen2_tag_crc(0x3000, None, &EPC[..8]);
    }
    let stream = bytes(&[empty, short, tag(&EPC, 1, -60)]);
    h.session.on_bytes(h.now, &stream);
    let batches = read_batches(&h.actions());
    let delivered: Vec<_> = batches.iter().flatten().collect();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].epc.as_bytes(), EPC);
    let later = h.advance(crate::COUNTERS_PERIOD);
    let counters = events(&later)
        .into_iter()
        .find_map(|e| match e {
            DriverEvent::Counters { counters, .. } => Some(counters),
            _ => None,
        })
        .expect("counters after a period");
    assert_eq!(counters.frames_dropped, 2);
}
