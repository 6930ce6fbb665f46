//! Criterion bench: framing an RO_ACCESS_REPORT of 100 EPC-96 TagReportData (antenna, PeakRSSI,
//! first/last seen UTC) and iterating its tag reports, in reads per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tagtally_protocol::llrp::*;

const TAGS: u16 = 100;

fn report() -> Vec<u8> {
    let reports = (0..TAGS)
        .map(|i| {
            let mut epc = [0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0, 0];
            epc[10..].copy_from_slice(&i.to_be_bytes());
            let mut report = TagReportData::new(&epc);
            report.antenna_id = Some(1 + i % 4);
            report.peak_rssi_dbm = Some(-55 - (i % 20) as i8);
            report.first_seen_utc_us = Some(1_700_000_000_000_000 + u64::from(i) * 1000);
            report.last_seen_utc_us = Some(1_700_000_000_000_500 + u64::from(i) * 1000);
            report
        })
        .collect();
    let mut bytes = Vec::new();
    Message::RoAccessReport(reports)
        .encode(ProtocolVersion::V1_0_1, 1, &mut bytes)
        .expect("bench report encodes");
    bytes
}

fn parse_report(c: &mut Criterion) {
    let bytes = report();
    let limits = FrameLimits::default();
    let mut group = c.benchmark_group("llrp_report");
    group.throughput(Throughput::Elements(u64::from(TAGS)));
    group.bench_function("ro_access_report_100_epc96", |b| {
        b.iter(|| {
            let mut checksum = 0u64;
            for frame in Frames::new(black_box(&bytes), limits) {
                let Ok(message) = frame else { continue };
                let Some(reports) = TagReports::from_message(&message) else {
                    continue;
                };
                for report in reports.flatten() {
                    checksum = checksum
                        .wrapping_add(u64::from(report.epc[11]))
                        .wrapping_add(u64::from(report.antenna_id.unwrap_or(0)))
                        .wrapping_add(report.best_rssi_centi_dbm().unwrap_or(0) as u64)
                        .wrapping_add(report.first_seen_utc_us.unwrap_or(0));
                }
            }
            checksum
        })
    });
    group.finish();
}

criterion_group!(benches, parse_report);
criterion_main!(benches);
