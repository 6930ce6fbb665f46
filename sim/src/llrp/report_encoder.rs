//! Writes emulated reads as one RO_ACCESS_REPORT, with the fields the client's ROReportSpec selected, without allocating per read.

use tagtally_protocol::llrp::{MessageType, ProtocolVersion, RoReportSpec};

/// One buffered emulated read with the reader-clock time it was seen at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedRead {
    pub read: crate::SimRead,
    /// Microseconds on the reader's clock (UTC or uptime, as `utc_clock` says).
    pub seen_us: u64,
}

/// How the reader stamps and decorates reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportStyle {
    pub version: ProtocolVersion,
    pub utc_clock: bool,
    /// Add ImpinjPeakRSSI (centi-dBm) when the ROReportSpec's Impinj selector asks for it.
    pub impinj: bool,
}

const TV_EPC_96: u8 = 0x80 | 13;
const TV_RO_SPEC_ID: u8 = 0x80 | 9;
const TV_SPEC_INDEX: u8 = 0x80 | 14;
const TV_INVENTORY_PARAMETER_SPEC_ID: u8 = 0x80 | 10;
const TV_ANTENNA_ID: u8 = 0x80 | 1;
const TV_PEAK_RSSI: u8 = 0x80 | 6;
const TV_CHANNEL_INDEX: u8 = 0x80 | 7;
const TV_FIRST_SEEN_UTC: u8 = 0x80 | 2;
const TV_FIRST_SEEN_UPTIME: u8 = 0x80 | 3;
const TV_LAST_SEEN_UTC: u8 = 0x80 | 4;
const TV_LAST_SEEN_UPTIME: u8 = 0x80 | 5;
const TV_TAG_SEEN_COUNT: u8 = 0x80 | 8;
const TLV_TAG_REPORT_DATA: u16 = 240;
const TLV_EPC_DATA: u16 = 241;
const TLV_CUSTOM: u16 = 1023;
const IMPINJ_VENDOR: u32 = 25882;
const IMPINJ_PEAK_RSSI: u32 = 57;

/// Appends one RO_ACCESS_REPORT holding `reads` to `out`. When `corrupt` is set, the first
/// TagReportData's EPC is destroyed in place (lengths intact), as a flipped bit in a reader's
/// buffer would: a client drops that read and keeps the rest.
pub fn encode_report(
    out: &mut Vec<u8>,
    id: u32,
    reads: &[TimedRead],
    rospec_id: u32,
    spec: &RoReportSpec,
    style: ReportStyle,
    corrupt: bool,
) {
    let start = out.len();
    let version = u16::from(u8::from(style.version) & 0x07);
    let msg_type = u16::from(MessageType::RoAccessReport) & 0x03FF;
    out.extend_from_slice(&((version << 10) | msg_type).to_be_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&id.to_be_bytes());
    let c = &spec.content;
    let impinj_rssi = style.impinj && spec.impinj_content.is_some_and(|i| i.enable_peak_rssi);
    for (i, timed) in reads.iter().enumerate() {
        let param_start = out.len();
        out.extend_from_slice(&TLV_TAG_REPORT_DATA.to_be_bytes());
        out.extend_from_slice(&[0; 2]);
        let epc = timed.read.epc.as_bytes();
        if epc.len() == 12 {
            out.push(TV_EPC_96);
            out.extend_from_slice(epc);
        } else {
            out.extend_from_slice(&TLV_EPC_DATA.to_be_bytes());
            out.extend_from_slice(&((6 + epc.len()) as u16).to_be_bytes());
            out.extend_from_slice(&timed.read.epc.bits().to_be_bytes());
            out.extend_from_slice(epc);
        }
        if corrupt && i == 0 {
            // TV type 127 is unknown: the TagReportData ends there, without an EPC.
            if let Some(b) = out.get_mut(param_start + 4) {
                *b = 0xFF;
            }
        }
        if c.enable_rospec_id {
            out.push(TV_RO_SPEC_ID);
            out.extend_from_slice(&rospec_id.to_be_bytes());
        }
        if c.enable_spec_index {
            out.push(TV_SPEC_INDEX);
            out.extend_from_slice(&1u16.to_be_bytes());
        }
        if c.enable_inventory_parameter_spec_id {
            out.push(TV_INVENTORY_PARAMETER_SPEC_ID);
            out.extend_from_slice(&1u16.to_be_bytes());
        }
        if c.enable_antenna_id {
            out.push(TV_ANTENNA_ID);
            out.extend_from_slice(&timed.read.antenna.to_be_bytes());
        }
        if c.enable_peak_rssi {
            let dbm = (f64::from(timed.read.rssi_cdbm) / 100.0).round() as i8;
            out.push(TV_PEAK_RSSI);
            out.push(dbm as u8);
        }
        if c.enable_channel_index {
            out.push(TV_CHANNEL_INDEX);
            out.extend_from_slice(&1u16.to_be_bytes());
        }
        if c.enable_first_seen_timestamp {
            out.push(if style.utc_clock {
                TV_FIRST_SEEN_UTC
            } else {
                TV_FIRST_SEEN_UPTIME
            });
            out.extend_from_slice(&timed.seen_us.to_be_bytes());
        }
        if c.enable_last_seen_timestamp {
            out.push(if style.utc_clock {
                TV_LAST_SEEN_UTC
            } else {
                TV_LAST_SEEN_UPTIME
            });
            out.extend_from_slice(&timed.seen_us.to_be_bytes());
        }
        if c.enable_tag_seen_count {
            out.push(TV_TAG_SEEN_COUNT);
            out.extend_from_slice(&1u16.to_be_bytes());
        }
        if impinj_rssi {
            out.extend_from_slice(&TLV_CUSTOM.to_be_bytes());
            out.extend_from_slice(&14u16.to_be_bytes());
            out.extend_from_slice(&IMPINJ_VENDOR.to_be_bytes());
            out.extend_from_slice(&IMPINJ_PEAK_RSSI.to_be_bytes());
            out.extend_from_slice(&timed.read.rssi_cdbm.to_be_bytes());
        }
        let len = (out.len() - param_start) as u16;
        if let Some(slot) = out.get_mut(param_start + 2..param_start + 4) {
            slot.copy_from_slice(&len.to_be_bytes());
        }
    }
    let total = (out.len() - start) as u32;
    if let Some(slot) = out.get_mut(start + 2..start + 6) {
        slot.copy_from_slice(&total.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llrp::reader_state::default_report_spec;
    use crate::SimRead;
    use tagtally_core::Epc;
    use tagtally_protocol::llrp::{ImpinjTagReportContentSelector, MessageView, TagReports};

    fn read(epc: &[u8], antenna: u16, rssi_cdbm: i16) -> TimedRead {
        TimedRead {
            read: SimRead {
                epc: Epc::from_slice(epc).expect("short epc"),
                antenna,
                rssi_cdbm,
            },
            seen_us: 1_700_000_000_123_456,
        }
    }

    #[test]
    fn the_golden_report_of_protocols_md_is_reproduced() {
        let epc = [
            0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
        ];
        let style = ReportStyle {
            version: ProtocolVersion::V1_0_1,
            utc_clock: true,
            impinj: false,
        };
        let mut out = Vec::new();
        encode_report(
            &mut out,
            0x2A,
            &[read(&epc, 1, -5800)],
            1,
            &default_report_spec(),
            style,
            false,
        );
        let golden = [
            0x04, 0x3D, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x2A, 0x00, 0xF0, 0x00, 0x1F,
            0x8D, 0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85, 0x81,
            0x00, 0x01, 0x86, 0xC6, 0x82, 0x00, 0x06, 0x0A, 0x24, 0x18, 0x20, 0x22, 0x40,
        ];
        assert_eq!(out, golden);
    }

    #[test]
    fn long_epcs_impinj_rssi_and_corruption_decode_as_expected() {
        let mut spec = default_report_spec();
        spec.impinj_content = Some(ImpinjTagReportContentSelector {
            enable_peak_rssi: true,
            ..ImpinjTagReportContentSelector::default()
        });
        let style = ReportStyle {
            version: ProtocolVersion::V1_1,
            utc_clock: false,
            impinj: true,
        };
        let reads = [read(&[0xAA; 16], 2, -6125), read(&[0xBB; 12], 3, -4000)];
        let mut out = Vec::new();
        encode_report(&mut out, 1, &reads, 9, &spec, style, false);
        let view = MessageView::new_checked(&out).expect("whole message");
        let decoded: Vec<_> = TagReports::new(view.body())
            .collect::<Result<_, _>>()
            .expect("decodes");
        assert_eq!(decoded[0].epc, &[0xAA; 16]);
        assert_eq!(decoded[0].epc_bits, 128);
        assert_eq!(decoded[0].best_rssi_centi_dbm(), Some(-6125));
        assert_eq!(
            decoded[0].first_seen_us(),
            Some((1_700_000_000_123_456, false))
        );
        assert_eq!(decoded[1].antenna_id, Some(3));

        out.clear();
        encode_report(&mut out, 2, &reads, 9, &spec, style, true);
        let view = MessageView::new_checked(&out).expect("length intact");
        let results: Vec<_> = TagReports::new(view.body()).collect();
        assert!(results[0].is_err());
        assert!(results[1].is_ok());
    }
}
