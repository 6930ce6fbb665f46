//! ThingMagic property tests: encode→decode identity, no panic on any bytes, and every intact
//! frame survives junk spliced into the stream.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use tagtally_protocol::thingmagic::{
    AntennaPorts, AntennaSelection, Command, CommandFrame, ContinuousReadPlan, EmbeddedData,
    Gen2Tag, MetadataFlags, Opcode, Region, Response, ResponseDeframer, ResponseFrame, StatusWord,
    TagMetadata, TagProtocol, TagReadRecord, VersionInfo, Xpc, PC_XI, XPC_W1_XEB,
};

fn embedded_data() -> impl Strategy<Value = EmbeddedData> {
    (0u16..=128).prop_flat_map(|bits| {
        vec(any::<u8>(), usize::from(bits).div_ceil(8))
            .prop_map(move |bytes| EmbeddedData { bits, bytes })
    })
}

fn metadata() -> impl Strategy<Value = TagMetadata> {
    (
        (
            option::of(any::<u8>()),
            option::of(any::<i8>()),
            option::of((0u8..16, 0u8..16).prop_map(|(tx, rx)| AntennaPorts { tx, rx })),
            option::of(0u32..=0xFF_FFFF),
            option::of(any::<u32>()),
            option::of(any::<u16>()),
            option::of(any::<u8>().prop_map(TagProtocol::from)),
        ),
        (
            option::of(embedded_data()),
            option::of(any::<u8>()),
            option::of(any::<u8>()),
            option::of(any::<u8>()),
            option::of(any::<u8>()),
            option::of(any::<u16>()),
        ),
    )
        .prop_map(
            |(
                (read_count, rssi_dbm, antenna, frequency_khz, timestamp_ms, phase, protocol),
                (data, gpio, gen2_q, gen2_link_frequency, gen2_target, brand_id),
            )| TagMetadata {
                read_count,
                rssi_dbm,
                antenna,
                frequency_khz,
                timestamp_ms,
                phase,
                protocol,
                data,
                gpio,
                gen2_q,
                gen2_link_frequency,
                gen2_target,
                brand_id,
            },
        )
}

fn gen2_tag() -> impl Strategy<Value = Gen2Tag> {
    (
        any::<u16>(),
        option::of((any::<u16>(), option::of(any::<u16>()))),
        vec(any::<u8>(), 0..=62),
        any::<u16>(),
    )
        .prop_map(|(pc, xpc, epc, crc)| {
            // Keep the announcing bits consistent with the words present, as a real tag does.
            let xpc = xpc.map(|(w1, w2)| Xpc {
                w1: if w2.is_some() {
                    w1 | XPC_W1_XEB
                } else {
                    w1 & !XPC_W1_XEB
                },
                w2,
            });
            let pc = if xpc.is_some() {
                pc | PC_XI
            } else {
                pc & !PC_XI
            };
            Gen2Tag { pc, xpc, epc, crc }
        })
}

fn tag_read() -> impl Strategy<Value = TagReadRecord> {
    (any::<u8>(), any::<u16>(), metadata(), gen2_tag()).prop_map(
        |(option, search_flags, metadata, tag)| TagReadRecord {
            option: option | 0x10,
            search_flags,
            metadata,
            tag,
        },
    )
}

fn unknown_opcode() -> impl Strategy<Value = Opcode> {
    any::<u8>()
        .prop_map(Opcode::from)
        .prop_filter("unmodelled opcode", |op| matches!(op, Opcode::Unknown(_)))
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Version),
        any::<u32>().prop_map(|baud| Command::SetBaudRate { baud }),
        (any::<u16>(), any::<u8>()).prop_map(|(m, read_options)| Command::GetTagIdBuffer {
            metadata: MetadataFlags(m),
            read_options
        }),
        Just(Command::ClearTagIdBuffer),
        (any::<u8>(), any::<u16>(), any::<u16>(), any::<u16>()).prop_map(|(p, f, c, m)| {
            Command::StartContinuousRead(ContinuousReadPlan {
                protocol: TagProtocol::from(p),
                search_flags: f,
                cycle_ms: c,
                metadata: MetadataFlags(m),
            })
        }),
        Just(Command::StopContinuousRead),
        Just(Command::GetAntennaPort),
        Just(Command::GetReadTxPower),
        Just(Command::GetTagProtocol),
        Just(Command::GetRegion),
        (any::<u8>(), any::<u8>())
            .prop_map(|(tx, rx)| Command::SetAntennaPort(AntennaSelection::Single { tx, rx })),
        vec((any::<u8>(), any::<u8>()), 0..=16)
            .prop_map(|pairs| Command::SetAntennaPort(AntennaSelection::SearchList(pairs))),
        any::<i16>().prop_map(|centi_dbm| Command::SetReadTxPower { centi_dbm }),
        any::<u16>().prop_map(|p| Command::SetTagProtocol(TagProtocol::from(p))),
        any::<u8>().prop_map(|r| Command::SetRegion(Region::from(r))),
        (any::<u8>(), any::<u8>())
            .prop_map(|(key, value)| Command::SetReaderConfiguration { key, value }),
        (unknown_opcode(), vec(any::<u8>(), 0..=255))
            .prop_map(|(opcode, data)| Command::Other { opcode, data }),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    let four = || any::<[u8; 4]>();
    prop_oneof![
        (four(), four(), four(), four(), any::<u32>()).prop_map(|(b, h, d, v, p)| {
            Response::Version(VersionInfo {
                bootloader: b,
                hardware: h,
                firmware_date: d,
                firmware_version: v,
                supported_protocols: p,
            })
        }),
        tag_read().prop_map(Response::TagRead),
        any::<u16>().prop_map(|s| Response::StreamStatus(StatusWord::from(s))),
        Just(Response::ContinuousReadStarted),
        Just(Response::ContinuousReadStopped),
        (any::<u8>(), any::<u8>()).prop_map(|(tx, rx)| Response::AntennaPort { tx, rx }),
        any::<i16>().prop_map(|centi_dbm| Response::ReadTxPower { centi_dbm }),
        any::<u16>().prop_map(|p| Response::TagProtocol(TagProtocol::from(p))),
        any::<u8>().prop_map(|r| Response::Region(Region::from(r))),
        Just(Response::Ack {
            opcode: Opcode::SetRegion
        }),
        (unknown_opcode(), 1u16..=u16::MAX).prop_map(|(opcode, s)| Response::Rejected {
            opcode,
            status: StatusWord::from(s)
        }),
        (unknown_opcode(), vec(any::<u8>(), 0..=255))
            .prop_map(|(opcode, data)| Response::Other { opcode, data }),
    ]
}

fn encoded_response(response: &Response) -> Vec<u8> {
    let mut bytes = Vec::new();
    response.encode(&mut bytes).unwrap();
    bytes
}

/// Splits `bytes` at the given cut points (taken modulo the length).
fn chunks<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

proptest! {
    #[test]
    fn tag_reads_round_trip(record in tag_read()) {
        let bytes = encoded_response(&Response::TagRead(record.clone()));
        let frame = ResponseFrame::new_checked(&bytes).unwrap();
        prop_assert_eq!(Response::decode(frame), Ok(Response::TagRead(record)));
    }

    #[test]
    fn commands_round_trip(command in command()) {
        let mut bytes = Vec::new();
        command.encode(&mut bytes).unwrap();
        let frame = CommandFrame::new_checked(&bytes).unwrap();
        prop_assert_eq!(Command::decode(frame), command);
    }

    #[test]
    fn responses_round_trip(response in response()) {
        let bytes = encoded_response(&response);
        let frame = ResponseFrame::new_checked(&bytes).unwrap();
        prop_assert_eq!(Response::decode(frame), Ok(response));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..600), cuts in vec(any::<usize>(), 0..8)) {
        if let Ok(frame) = CommandFrame::new_checked(&bytes) {
            let _ = Command::decode(frame);
        }
        if let Ok(frame) = ResponseFrame::new_checked(&bytes) {
            let _ = Response::decode(frame);
        }
        let mut deframer = ResponseDeframer::new(300);
        for chunk in chunks(&bytes, &cuts) {
            deframer.feed(chunk, |frame| {
                let _ = Response::decode(frame);
            });
            prop_assert!(deframer.buffered() <= deframer.capacity());
        }
    }

    #[test]
    fn arbitrary_payloads_in_good_frames_never_panic(opcode in any::<u8>(), status in any::<u16>(), data in vec(any::<u8>(), 0..=255)) {
        let mut bytes = Vec::new();
        tagtally_protocol::thingmagic::encode_response(Opcode::from(opcode), StatusWord::from(status), &data, &mut bytes).unwrap();
        // Whatever decodes re-encodes to something that decodes the same.
        if let Ok(response) = Response::decode(ResponseFrame::new_checked(&bytes).unwrap()) {
            let again = encoded_response(&response);
            prop_assert_eq!(Response::decode(ResponseFrame::new_checked(&again).unwrap()), Ok(response));
        }
        let mut bytes = Vec::new();
        tagtally_protocol::thingmagic::encode_command(Opcode::from(opcode), &data, &mut bytes).unwrap();
        let command = Command::decode(CommandFrame::new_checked(&bytes).unwrap());
        let mut again = Vec::new();
        command.encode(&mut again).unwrap();
        prop_assert_eq!(Command::decode(CommandFrame::new_checked(&again).unwrap()), command);
    }

    /// Junk without header bytes cannot start a frame, so exactly the frames come out, in order.
    #[test]
    fn header_free_junk_between_frames_costs_nothing(
        frames in vec(response(), 1..8),
        junk in vec(vec(any::<u8>().prop_filter("no header", |b| *b != 0xFF), 0..20), 8),
        cuts in vec(any::<usize>(), 0..10),
    ) {
        let encoded: Vec<Vec<u8>> = frames.iter().map(encoded_response).collect();
        let mut stream = Vec::new();
        for (frame, junk) in encoded.iter().zip(&junk) {
            stream.extend_from_slice(junk);
            stream.extend_from_slice(frame);
        }
        let mut deframer = ResponseDeframer::new(0);
        let mut out = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            deframer.feed(chunk, |frame| out.push(frame.as_bytes().to_vec()));
        }
        prop_assert_eq!(out, encoded);
        let junk_len: usize = junk.iter().take(frames.len()).map(Vec::len).sum();
        prop_assert_eq!(deframer.stats().bytes_discarded, junk_len as u64);
    }

    /// Arbitrary junk (false headers included): every intact frame still comes out, in order.
    #[test]
    fn arbitrary_junk_between_frames_loses_no_intact_frame(
        frames in vec(response(), 1..8),
        junk in vec(vec(any::<u8>(), 0..20), 8),
        cuts in vec(any::<usize>(), 0..10),
    ) {
        let encoded: Vec<Vec<u8>> = frames.iter().map(encoded_response).collect();
        let mut stream = Vec::new();
        for (frame, junk) in encoded.iter().zip(&junk) {
            stream.extend_from_slice(junk);
            stream.extend_from_slice(frame);
        }
        let mut deframer = ResponseDeframer::new(0);
        let mut out = Vec::new();
        for chunk in chunks(&stream, &cuts) {
            deframer.feed(chunk, |frame| out.push(frame.as_bytes().to_vec()));
        }
        // The line goes quiet: a false header still waiting is given up.
        deframer.on_idle();
        deframer.feed(&[], |frame| out.push(frame.as_bytes().to_vec()));
        let mut remaining = out.iter();
        for frame in &encoded {
            prop_assert!(remaining.any(|got| got == frame), "frame lost: {:02X?}", frame);
        }
    }
}
