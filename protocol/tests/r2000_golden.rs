//! R2000 golden frames (tests/golden/r2000): each decodes field by field to the expected value
//! and that value re-encodes byte for byte.

mod common;

use tagtally_protocol::r2000::{
    checksum, Command, CommandCode, Frame, InventoryRoundSummary, Reply, TagRecord,
};

const FAMILY: &str = "r2000";

fn check_command(name: &str, address: u8, expected: Command) {
    let bytes = common::load_frame(FAMILY, name);
    let frame = Frame::new_checked(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(frame.address(), address, "{name}: address");
    assert_eq!(Command::decode(frame), expected, "{name}: decode");
    let mut encoded = Vec::new();
    expected.encode(address, &mut encoded).unwrap();
    assert_eq!(encoded, bytes, "{name}: encode");
}

fn check_reply(name: &str, address: u8, expected: Reply) {
    let bytes = common::load_frame(FAMILY, name);
    let frame = Frame::new_checked(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(frame.address(), address, "{name}: address");
    assert_eq!(Reply::decode(frame), Ok(expected.clone()), "{name}: decode");
    let mut encoded = Vec::new();
    expected.encode(address, &mut encoded).unwrap();
    assert_eq!(encoded, bytes, "{name}: encode");
}

#[test]
fn every_golden_frame_sums_to_zero() {
    let frames = common::all_frames(FAMILY);
    assert_eq!(frames.len(), 5);
    for (name, bytes) in frames {
        let sum = bytes.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        assert_eq!(sum, 0, "{name}");
        let (covered, check) = bytes.split_at(bytes.len() - 1);
        assert_eq!(checksum(covered), check[0], "{name}");
    }
}

#[test]
fn commands() {
    check_command(
        "cmd_start_real_time_inventory",
        1,
        Command::RealTimeInventory { repeat: 1 },
    );
    check_command("cmd_get_firmware_version", 1, Command::GetFirmwareVersion);
    check_command(
        "cmd_set_work_antenna_1",
        1,
        Command::SetWorkAntenna { antenna: 0 },
    );
}

#[test]
fn tag_record() {
    let record = TagRecord {
        freq_ant: 0x8C,
        pc: 0x3000,
        epc: vec![
            0x30, 0x08, 0x33, 0xB2, 0xDD, 0xD9, 0x01, 0x40, 0x00, 0x00, 0x00, 0x01,
        ],
        rssi: 0x37,
    };
    assert_eq!(record.antenna(), 1);
    assert_eq!(record.frequency_index(), 35);
    assert_eq!(record.rssi_dbm(), -74);
    assert_eq!(
        TagRecord::new(1, 35, 0x3000, &record.epc, -74).unwrap(),
        record
    );
    check_reply(
        "rsp_tag_record",
        1,
        Reply::Tag {
            command: CommandCode::RealTimeInventory,
            record,
        },
    );
}

#[test]
fn round_end_summary() {
    check_reply(
        "rsp_round_end_summary",
        1,
        Reply::InventoryRoundEnd {
            command: CommandCode::CustomizedSessionTargetInventory,
            summary: InventoryRoundSummary {
                antenna: 0,
                read_rate: 25,
                total_reads: 1,
            },
        },
    );
}

#[test]
fn the_8_port_bank_bit_moves_the_antenna_up_by_four() {
    let mut record = TagRecord::new(3, 0, 0x3000, &[0xAB, 0xCD], -60).unwrap();
    assert_eq!(record.antenna(), 3);
    record.rssi |= 0x80;
    assert_eq!(record.antenna(), 7);
    assert_eq!(record.rssi_dbm(), -60);
}
