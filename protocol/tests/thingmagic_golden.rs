//! ThingMagic golden frames (tests/golden/thingmagic): each decodes field by field to the
//! expected value and that value re-encodes byte for byte.

mod common;

use crc::{Crc, CRC_16_GENIBUS, CRC_16_SPI_FUJITSU};
use tagtally_protocol::thingmagic::{
    thingmagic_crc, AntennaPorts, Command, CommandFrame, ContinuousReadPlan, EmbeddedData, Gen2Tag,
    MetadataFlags, Opcode, Region, Response, ResponseFrame, StatusWord, TagMetadata, TagProtocol,
    TagReadRecord,
};

const FAMILY: &str = "thingmagic";

fn check_command(name: &str, expected: Command) {
    let bytes = common::load_frame(FAMILY, name);
    let frame = CommandFrame::new_checked(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(Command::decode(frame), expected, "{name}: decode");
    let mut encoded = Vec::new();
    expected.encode(&mut encoded).unwrap();
    assert_eq!(encoded, bytes, "{name}: encode");
}

fn check_response(name: &str, expected: Response) {
    let bytes = common::load_frame(FAMILY, name);
    let frame = ResponseFrame::new_checked(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        Response::decode(frame),
        Ok(expected.clone()),
        "{name}: decode"
    );
    let mut encoded = Vec::new();
    expected.encode(&mut encoded).unwrap();
    assert_eq!(encoded, bytes, "{name}: encode");
}

#[test]
fn every_golden_frame_has_a_good_crc_and_the_catalogue_identity_holds() {
    let fujitsu = Crc::<u16>::new(&CRC_16_SPI_FUJITSU);
    let frames = common::all_frames(FAMILY);
    assert_eq!(frames.len(), 12);
    for (name, bytes) in frames {
        let n = bytes.len();
        let covered = &bytes[1..n - 2];
        let on_wire = u16::from_be_bytes([bytes[n - 2], bytes[n - 1]]);
        assert_eq!(thingmagic_crc(covered), on_wire, "{name}");
        // tm_crc(M) == SPI_FUJITSU(M without its last two bytes) ^ (those two bytes), protocols.md §2.3.
        let m = covered.len();
        let identity = fujitsu.checksum(&covered[..m - 2])
            ^ u16::from_be_bytes([covered[m - 2], covered[m - 1]]);
        assert_eq!(identity, on_wire, "{name}: catalogue identity");
    }
}

#[test]
fn crc_check_value_agrees_with_the_catalogue_identity() {
    let fujitsu = Crc::<u16>::new(&CRC_16_SPI_FUJITSU);
    assert_eq!(thingmagic_crc(b"123456789"), 0xA69D);
    assert_eq!(
        fujitsu.checksum(b"1234567") ^ u16::from_be_bytes(*b"89"),
        0xA69D
    );
}

#[test]
fn commands() {
    check_command("cmd_version", Command::Version);
    check_command("cmd_clear_tag_buffer", Command::ClearTagIdBuffer);
    check_command("cmd_set_region_eu3", Command::SetRegion(Region::Europe3));
    check_command(
        "cmd_set_protocol_gen2",
        Command::SetTagProtocol(TagProtocol::Gen2),
    );
    check_command(
        "cmd_set_read_power_25dbm",
        Command::SetReadTxPower { centi_dbm: 2500 },
    );
    check_command(
        "cmd_get_tag_buffer",
        Command::GetTagIdBuffer {
            metadata: MetadataFlags::STANDARD,
            read_options: 0,
        },
    );
    check_command(
        "cmd_set_baud_115200",
        Command::SetBaudRate { baud: 115_200 },
    );
    check_command(
        "cmd_start_continuous_read",
        Command::StartContinuousRead(ContinuousReadPlan::STANDARD),
    );
    check_command("cmd_stop_continuous_read", Command::StopContinuousRead);
    check_command(
        "cmd_write_tag_data_sparkfun",
        Command::Other {
            opcode: Opcode::WriteTagData,
            data: vec![0x03, 0xE8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0xEE],
        },
    );
}

fn standard_metadata(rssi: i8, khz: u32, timestamp: u32, phase: u16) -> TagMetadata {
    TagMetadata {
        read_count: Some(1),
        rssi_dbm: Some(rssi),
        antenna: Some(AntennaPorts { tx: 1, rx: 1 }),
        frequency_khz: Some(khz),
        timestamp_ms: Some(timestamp),
        phase: Some(phase),
        protocol: Some(TagProtocol::Gen2),
        data: Some(EmbeddedData {
            bits: 0,
            bytes: vec![],
        }),
        gpio: Some(0x0F),
        ..TagMetadata::default()
    }
}

#[test]
fn built_tag_read() {
    let epc = [
        0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
    ];
    let record = TagReadRecord {
        option: 0x10,
        search_flags: 0x001B,
        metadata: standard_metadata(-58, 915_250, 1234, 90),
        tag: Gen2Tag::from_epc(&epc).unwrap(),
    };
    assert_eq!(record.metadata.flags(), MetadataFlags::STANDARD);
    assert_eq!(record.tag.crc, 0xAAF9);
    check_response("rsp_tag_read_built", Response::TagRead(record));
}

#[test]
fn sparkfun_captured_tag_read() {
    let mut epc = [0u8; 12];
    epc[10] = 0x15;
    epc[11] = 0x45;
    let tag = Gen2Tag {
        pc: 0x3000,
        xpc: None,
        epc: epc.to_vec(),
        crc: 0xE94A,
    };
    assert!(tag.crc_matches(), "tag crc is GENIBUS over PC + EPC");
    let genibus = Crc::<u16>::new(&CRC_16_GENIBUS);
    let mut pc_epc = vec![0x30, 0x00];
    pc_epc.extend_from_slice(&epc);
    assert_eq!(genibus.checksum(&pc_epc), 0xE94A);
    let record = TagReadRecord {
        option: 0x10,
        search_flags: 0x001B,
        metadata: standard_metadata(-60, 923_200, 0x127, 0),
        tag,
    };
    check_response("rsp_tag_read_sparkfun", Response::TagRead(record));
}

#[test]
fn status_words_are_not_frame_errors() {
    // A keep-alive: opcode 0x22, LEN 0, status 0x0400 — a good frame saying "no tag this cycle".
    let mut bytes = Vec::new();
    Response::StreamStatus(StatusWord::NoTagsFound)
        .encode(&mut bytes)
        .unwrap();
    assert_eq!(&bytes[..5], &[0xFF, 0x00, 0x22, 0x04, 0x00]);
    let frame = ResponseFrame::new_checked(&bytes).unwrap();
    assert_eq!(
        Response::decode(frame),
        Ok(Response::StreamStatus(StatusWord::NoTagsFound))
    );
    // A refused setter is `Rejected`, with its status text.
    let mut bytes = Vec::new();
    Response::Rejected {
        opcode: Opcode::SetRegion,
        status: StatusWord::InvalidRegion,
    }
    .encode(&mut bytes)
    .unwrap();
    let decoded = Response::decode(ResponseFrame::new_checked(&bytes).unwrap()).unwrap();
    assert_eq!(
        decoded,
        Response::Rejected {
            opcode: Opcode::SetRegion,
            status: StatusWord::InvalidRegion
        }
    );
    assert_eq!(
        StatusWord::InvalidRegion.to_string(),
        "invalid region (0x010B)"
    );
}
