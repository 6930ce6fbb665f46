//! R2000 property tests: encode→decode identity, no panic on any bytes, and every intact frame
//! survives junk spliced into the stream.

use proptest::collection::vec;
use proptest::prelude::*;
use tagtally_protocol::r2000::{
    encode_frame, AntennaStay, Command, CommandCode, Deframer, ErrorCode, FastSwitchPlan,
    FastSwitchSummary, Frame, InventoryRoundSummary, Reply, TagRecord,
};

fn unmodelled_command() -> impl Strategy<Value = CommandCode> {
    prop_oneof![
        Just(CommandCode::SetBeeperMode),
        Just(CommandCode::ReadTag),
        any::<u8>()
            .prop_map(CommandCode::from)
            .prop_filter("unknown code", |c| matches!(c, CommandCode::Unknown(_))),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let slot =
        || (any::<u8>(), any::<u8>()).prop_map(|(antenna, stay)| AntennaStay { antenna, stay });
    prop_oneof![
        Just(Command::Reset),
        Just(Command::GetFirmwareVersion),
        any::<u8>().prop_map(|antenna| Command::SetWorkAntenna { antenna }),
        Just(Command::GetWorkAntenna),
        prop_oneof![vec(any::<u8>(), 1), vec(any::<u8>(), 4)]
            .prop_map(|dbm| Command::SetOutputPower { dbm }),
        Just(Command::GetOutputPower),
        (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(region, start, end)| Command::SetFrequencyRegion { region, start, end }),
        Just(Command::GetFrequencyRegion),
        any::<u8>().prop_map(|repeat| Command::RealTimeInventory { repeat }),
        ([slot(), slot(), slot(), slot()], any::<u8>(), any::<u8>()).prop_map(
            |(slots, interval, repeat)| Command::FastSwitchInventory(FastSwitchPlan {
                slots,
                interval,
                repeat
            })
        ),
        (unmodelled_command(), vec(any::<u8>(), 0..=252))
            .prop_map(|(command, data)| Command::Other { command, data }),
    ]
}

fn inventory_command() -> impl Strategy<Value = CommandCode> {
    prop_oneof![
        Just(CommandCode::RealTimeInventory),
        Just(CommandCode::FastSwitchAntInventory),
        Just(CommandCode::CustomizedSessionTargetInventory),
    ]
}

fn tag_record() -> impl Strategy<Value = TagRecord> {
    (
        any::<u8>(),
        any::<u16>(),
        (0usize..=31).prop_flat_map(|words| vec(any::<u8>(), words * 2)),
        any::<u8>(),
    )
        .prop_map(|(freq_ant, pc, epc, rssi)| TagRecord {
            freq_ant,
            pc,
            epc,
            rssi,
        })
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        (inventory_command(), tag_record())
            .prop_map(|(command, record)| Reply::Tag { command, record }),
        (
            prop_oneof![
                Just(CommandCode::RealTimeInventory),
                Just(CommandCode::CustomizedSessionTargetInventory)
            ],
            any::<u8>(),
            any::<u16>(),
            any::<u32>()
        )
            .prop_map(|(command, antenna, read_rate, total_reads)| {
                Reply::InventoryRoundEnd {
                    command,
                    summary: InventoryRoundSummary {
                        antenna,
                        read_rate,
                        total_reads,
                    },
                }
            }),
        (0u32..=0xFF_FFFF, any::<u32>()).prop_map(|(total_reads, duration_ms)| {
            Reply::FastSwitchRoundEnd(FastSwitchSummary {
                total_reads,
                duration_ms,
            })
        }),
        (any::<u8>(), any::<u8>()).prop_map(|(antenna, code)| Reply::AntennaMissing {
            antenna,
            code: ErrorCode::from(code)
        }),
        (
            prop_oneof![
                inventory_command(),
                Just(CommandCode::SetWorkAntenna),
                Just(CommandCode::Reset)
            ],
            any::<u8>()
        )
            .prop_map(|(command, code)| Reply::Status {
                command,
                code: ErrorCode::from(code)
            }),
        (any::<u8>(), any::<u8>())
            .prop_map(|(major, minor)| Reply::FirmwareVersion { major, minor }),
        (0u8..0x10).prop_map(|antenna| Reply::WorkAntenna { antenna }),
        prop_oneof![
            vec(any::<u8>(), 1),
            vec(any::<u8>(), 4),
            vec(any::<u8>(), 8)
        ]
        .prop_map(|dbm| Reply::OutputPower { dbm }),
        (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(region, start, end)| Reply::FrequencyRegion { region, start, end }),
        (
            unmodelled_command(),
            prop_oneof![Just(0usize), 2usize..=252].prop_flat_map(|n| vec(any::<u8>(), n))
        )
            .prop_map(|(command, data)| Reply::Other { command, data }),
    ]
}

fn encoded(reply: &Reply, address: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    reply.encode(address, &mut bytes).unwrap();
    bytes
}

fn chunks<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

proptest! {
    #[test]
    fn commands_round_trip(command in command(), address in any::<u8>()) {
        let mut bytes = Vec::new();
        command.encode(address, &mut bytes).unwrap();
        let frame = Frame::new_checked(&bytes).unwrap();
        prop_assert_eq!(frame.address(), address);
        prop_assert_eq!(Command::decode(frame), command);
    }

    #[test]
    fn replies_round_trip(reply in reply(), address in any::<u8>()) {
        let bytes = encoded(&reply, address);
        let frame = Frame::new_checked(&bytes).unwrap();
        prop_assert_eq!(Reply::decode(frame), Ok(reply));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..600), cuts in vec(any::<usize>(), 0..8)) {
        if let Ok(frame) = Frame::new_checked(&bytes) {
            let _ = Command::decode(frame);
            let _ = Reply::decode(frame);
        }
        let mut deframer = Deframer::new(300);
        for chunk in chunks(&bytes, &cuts) {
            deframer.feed(chunk, |frame| {
                let _ = Reply::decode(frame);
            });
            prop_assert!(deframer.buffered() <= deframer.capacity());
        }
    }

    #[test]
    fn arbitrary_payloads_in_good_frames_never_panic(command in any::<u8>(), data in vec(any::<u8>(), 0..=252)) {
        let mut bytes = Vec::new();
        encode_frame(1, CommandCode::from(command), &data, &mut bytes).unwrap();
        let frame = Frame::new_checked(&bytes).unwrap();
        // Whatever decodes re-encodes to something that decodes the same.
        if let Ok(reply) = Reply::decode(frame) {
            let again = encoded(&reply, 1);
            prop_assert_eq!(Reply::decode(Frame::new_checked(&again).unwrap()), Ok(reply));
        }
        let command = Command::decode(frame);
        let mut again = Vec::new();
        command.encode(1, &mut again).unwrap();
        prop_assert_eq!(Command::decode(Frame::new_checked(&again).unwrap()), command);
    }

    /// Junk without header bytes cannot start a frame, so exactly the frames come out, in order.
    #[test]
    fn header_free_junk_between_frames_costs_nothing(
        replies in vec(reply(), 1..8),
        junk in vec(vec(any::<u8>().prop_filter("no header", |b| *b != 0xA0), 0..20), 8),
        cuts in vec(any::<usize>(), 0..10),
    ) {
        let frames: Vec<Vec<u8>> = replies.iter().map(|r| encoded(r, 1)).collect();
        let mut stream = Vec::new();
        for (frame, junk) in frames.iter().zip(&junk) {
            stream.extend_from_slice(junk);
            stream.extend_from_slice(frame);
        }
        let mut deframer = Deframer::new(0);
        let mut out = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            deframer.feed(chunk, |frame| out.push(frame.as_bytes().to_vec()));
        }
        prop_assert_eq!(out, frames);
        let junk_len: usize = junk.iter().take(replies.len()).map(Vec::len).sum();
        prop_assert_eq!(deframer.stats().bytes_discarded, junk_len as u64);
    }

    /// Arbitrary junk (false headers included): every intact frame still comes out, in order.
    /// With an 8-bit checksum a false header can, rarely, form a valid frame over a real one's
    /// bytes; the assertion is therefore "nothing lost" whenever no such impostor was delivered.
    #[test]
    fn arbitrary_junk_between_frames_loses_no_intact_frame(
        replies in vec(reply(), 1..8),
        junk in vec(vec(any::<u8>(), 0..20), 8),
        cuts in vec(any::<usize>(), 0..10),
    ) {
        let frames: Vec<Vec<u8>> = replies.iter().map(|r| encoded(r, 1)).collect();
        let mut stream = Vec::new();
        for (frame, junk) in frames.iter().zip(&junk) {
            stream.extend_from_slice(junk);
            stream.extend_from_slice(frame);
        }
        let mut deframer = Deframer::new(0);
        let mut out = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            deframer.feed(chunk, |frame| out.push(frame.as_bytes().to_vec()));
        }
        // The line goes quiet: a false header still waiting is given up.
        deframer.on_idle();
        deframer.feed(&[], |frame| out.push(frame.as_bytes().to_vec()));
        let impostors = out.iter().filter(|got| !frames.contains(got)).count();
        if impostors == 0 {
            let mut remaining = out.iter();
            for frame in &frames {
                prop_assert!(remaining.any(|got| got == frame), "frame lost: {:02X?}", frame);
            }
        }
    }
}
