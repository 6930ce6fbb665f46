//! The reference loop of SPEC §8's ingest budgets: the least work any ingest of the same bytes must do — frame the LLRP messages, walk each RO_ACCESS_REPORT's TLVs, hash the EPC, update a small per-tag state — and no validation at all.
//!
//! `tagtally bench ingest` times it side by side with the daemon's path over the same stream
//! and prints the ratios the budgets are written in (known tags ≥ 0.6 of it, first sightings
//! ≥ 0.1). It is deliberately *not* the daemon's logic: no length checks beyond what keeps it
//! from panicking, no resynchronisation, no EPC checks, no zones, no SGTIN decoding. Its
//! state is one hash table of every tag read, keyed by the first 16 EPC bytes (longer EPCs
//! share a key with their prefix; the synthetic store's are 12), so its probes miss the cache
//! as the engine's do; and like the engine's `observe_batch` it probes a report's reads
//! [`PROBE_AHEAD`] at a time read-only before updating them, so the misses overlap. Without
//! that, a loop over a store-sized table measures memory latency, not work, and would be no
//! yardstick.

use std::hint::black_box;

use hashbrown::HashMap;
use tagtally_protocol::llrp::types::{tlv, tv, tv_value_len};
use tagtally_protocol::llrp::{MessageType, HEADER_LEN};

/// Reads probed together before any is updated (the engine's `observe_batch` uses the same).
pub const PROBE_AHEAD: usize = 16;

/// One tag report as the loop takes it.
#[derive(Clone, Copy, Debug, Default)]
struct Read {
    key: u128,
    antenna: u16,
    first_seen_us: u64,
}

/// What the loop keeps per tag: a read count, the last antenna and the last first-seen time.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    reads: u32,
    antenna: u16,
    first_seen_us: u64,
}

/// The reference loop and its per-tag table.
#[derive(Debug, Default)]
pub struct MinimalLoop {
    tags: HashMap<u128, Seen>,
}

impl MinimalLoop {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Walks every message of `stream` (concatenated LLRP messages); returns the tag reports taken.
    /// Stops at the first message whose length does not fit.
    pub fn feed(&mut self, stream: &[u8]) -> u64 {
        let mut reads = 0;
        let mut rest = stream;
        while let Some(header) = rest.first_chunk::<HEADER_LEN>() {
            let message_type = u16::from_be_bytes([header[0], header[1]]) & 0x03FF;
            let length = u32::from_be_bytes([header[2], header[3], header[4], header[5]]) as usize;
            let (Some(body), Some(after)) = (rest.get(HEADER_LEN..length), rest.get(length..))
            else {
                break;
            };
            if MessageType::from(message_type) == MessageType::RoAccessReport {
                reads += self.report(body);
            }
            rest = after;
        }
        reads
    }

    /// Distinct keys held.
    pub fn tags(&self) -> usize {
        self.tags.len()
    }

    /// Heap bytes of the table.
    pub fn table_bytes(&self) -> usize {
        self.tags.allocation_size()
    }

    fn report(&mut self, body: &[u8]) -> u64 {
        let mut reads = 0;
        let mut batch = [Read::default(); PROBE_AHEAD];
        let mut batched = 0;
        let mut rest = body;
        while let Some((param_type, param, after)) = split_tlv(rest) {
            rest = after;
            if param_type != tlv::TAG_REPORT_DATA {
                continue;
            }
            let (Some(read), Some(slot)) = (tag_report(param), batch.get_mut(batched)) else {
                continue;
            };
            *slot = read;
            batched += 1;
            reads += 1;
            if batched == PROBE_AHEAD {
                self.take(&batch);
                batched = 0;
            }
        }
        self.take(batch.get(..batched).unwrap_or(&[]));
        reads
    }

    /// Probes every read's key read-only, then updates each read's tag.
    fn take(&mut self, reads: &[Read]) {
        let known = reads
            .iter()
            .filter(|read| self.tags.contains_key(&read.key))
            .count();
        // Kept observable so the probes are not optimised away.
        black_box(known);
        for read in reads {
            let seen = self.tags.entry(read.key).or_default();
            seen.reads = seen.reads.wrapping_add(1);
            seen.antenna = read.antenna;
            seen.first_seen_us = read.first_seen_us;
        }
    }
}

/// One TagReportData body: EPC (EPC-96 or EPCData), AntennaID and FirstSeenTimestampUTC are
/// kept, every other parameter stepped over. `None` when it held no EPC.
fn tag_report(body: &[u8]) -> Option<Read> {
    let mut epc: &[u8] = &[];
    let mut antenna = 0;
    let mut first_seen_us = 0;
    let mut rest = body;
    while let Some(&first) = rest.first() {
        if first & 0x80 == 0 {
            let Some((param_type, param, after)) = split_tlv(rest) else {
                break;
            };
            if param_type == tlv::EPC_DATA {
                epc = param.get(2..).unwrap_or(&[]);
            }
            rest = after;
            continue;
        }
        let tv_type = first & 0x7F;
        // A TV has no length: an unknown one ends the walk.
        let Some(len) = tv_value_len(tv_type) else {
            break;
        };
        let Some(value) = rest.get(1..1 + len) else {
            break;
        };
        match (tv_type, value) {
            (tv::EPC_96, _) => epc = value,
            (tv::ANTENNA_ID, &[high, low]) => antenna = u16::from_be_bytes([high, low]),
            (tv::FIRST_SEEN_UTC, _) => {
                if let Some(time) = value.first_chunk::<8>() {
                    first_seen_us = u64::from_be_bytes(*time);
                }
            }
            _ => {}
        }
        rest = rest.get(1 + len..).unwrap_or(&[]);
    }
    if epc.is_empty() {
        return None;
    }
    Some(Read {
        key: key(epc),
        antenna,
        first_seen_us,
    })
}

/// The first 16 bytes of an EPC as one number (shorter EPCs zero-padded on the right).
fn key(epc: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    let take = epc.len().min(16);
    if let (Some(to), Some(from)) = (bytes.get_mut(..take), epc.get(..take)) {
        to.copy_from_slice(from);
    }
    u128::from_be_bytes(bytes)
}

/// Splits one TLV off the front: its type, its body and what follows. `None` when the header
/// or the length does not fit (or a TV stands there).
fn split_tlv(rest: &[u8]) -> Option<(u16, &[u8], &[u8])> {
    let header = rest.first_chunk::<4>()?;
    if header[0] & 0x80 != 0 {
        return None;
    }
    let param_type = u16::from_be_bytes([header[0], header[1]]) & 0x03FF;
    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
    Some((param_type, rest.get(4..length)?, rest.get(length..)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::population::Population;
    use tagtally_protocol::llrp::{Message, ProtocolVersion, TagReportData};

    #[test]
    fn every_tag_report_of_a_stream_is_taken_once() {
        let population = Population::new(1_000).unwrap();
        let mut bytes = Vec::new();
        Message::Keepalive
            .encode(ProtocolVersion::V1_0_1, 1, &mut bytes)
            .unwrap();
        bytes.extend(population.reports(0..1_000, 1_776_939_000_000_000).unwrap());
        let mut minimal = MinimalLoop::new();
        assert_eq!(minimal.feed(&bytes), 1_000);
        assert_eq!(minimal.tags(), 1_000);
        assert_eq!(minimal.feed(&bytes), 1_000);
        assert_eq!(minimal.tags(), 1_000, "the second pass finds every tag");
        assert!(minimal.table_bytes() > 1_000 * 16);
        let epc = population.epc(17);
        let seen = minimal.tags[&key(&epc)];
        assert_eq!(seen.reads, 2);
        assert_eq!(seen.antenna, 1 + 17 % 4);
        assert_eq!(seen.first_seen_us, 1_776_939_000_000_017);
    }

    #[test]
    fn epc_data_counts_and_a_cut_stream_ends_the_walk() {
        let mut read = TagReportData::new(&[0xE2, 0x80, 0x11, 0x05]);
        read.antenna_id = Some(3);
        let mut bytes = Vec::new();
        Message::RoAccessReport(vec![read])
            .encode(ProtocolVersion::V1_0_1, 2, &mut bytes)
            .unwrap();
        let whole = bytes.len();
        bytes.extend_from_within(..whole - 1);
        let mut minimal = MinimalLoop::new();
        assert_eq!(minimal.feed(&bytes), 1);
        assert_eq!(minimal.tags[&key(&[0xE2, 0x80, 0x11, 0x05])].antenna, 3);
        assert_eq!(minimal.feed(&[0xFF; 9]), 0);
        assert_eq!(minimal.feed(&[]), 0);
    }
}
