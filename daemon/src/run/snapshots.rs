//! Building the retained snapshot (SPEC §6.2): the engine's committed counts at the last seq, with a reason and a fresh id, split into parts that fit the packet limit.

use std::borrow::Cow;
use std::time::SystemTime;

use bytes::Bytes;
use tagtally_contract::size::max_payload;
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::{
    encode_snapshot_parts, Resync, SnapshotCount, SnapshotHeader, SnapshotReason, Topics,
    ZoneTrustEntry,
};
use tagtally_reader_drivers::Micros;

use crate::engine::Snapshot;
use crate::time_ordered_id::time_ordered_id;

/// The largest part number whose topic the payload budget allows for: a store would need
/// hundreds of megabytes of counts to go beyond it.
const WIDEST_PART: u32 = 99_999;

/// What one snapshot is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRequest {
    /// Why it is taken.
    pub reason: SnapshotReason,
    /// Echoed from `cmd/snapshot` or `cmd/replay`.
    pub request_id: Option<String>,
    /// Seqs it stands in for beyond the store's pending resync range (an unavailable replay).
    pub resync: Option<Resync>,
}

impl SnapshotRequest {
    /// A snapshot for `reason`, with no request id and nothing extra to cover.
    pub fn because(reason: SnapshotReason) -> SnapshotRequest {
        SnapshotRequest {
            reason,
            request_id: None,
            resync: None,
        }
    }
}

/// Where the parts go and how big they may be.
#[derive(Debug, Clone)]
pub struct SnapshotLayout {
    /// The store's topics.
    pub topics: Topics,
    /// MQTT 5 (one more header byte per PUBLISH).
    pub v5: bool,
}

impl SnapshotLayout {
    /// The largest payload of any part under a packet limit of `packet_limit` bytes.
    pub fn part_budget(&self, packet_limit: usize) -> usize {
        let widest = self.topics.snapshot_part(WIDEST_PART).len();
        max_payload(packet_limit, widest, self.v5)
    }

    /// The largest delta payload under `packet_limit`.
    pub fn delta_budget(&self, packet_limit: usize) -> usize {
        max_payload(packet_limit, self.topics.delta().len(), self.v5)
    }

    /// The largest `epcis` payload under `packet_limit`.
    pub fn epcis_budget(&self, packet_limit: usize) -> usize {
        max_payload(packet_limit, self.topics.epcis().len(), self.v5)
    }
}

/// The parts of one snapshot. `pending` is the store's own resync range (folded or refused
/// deltas); with it, or with a resync in the request, the reason is `resync`.
#[allow(clippy::too_many_arguments)]
pub fn snapshot_parts(
    store: &str,
    epoch: &str,
    seq: u64,
    now: Micros,
    snapshot: &Snapshot,
    zone_trust: &[ZoneTrustEntry],
    request: &SnapshotRequest,
    pending: Option<Resync>,
    budget: usize,
) -> Vec<Bytes> {
    let resync = match (pending, request.resync) {
        (Some(a), Some(b)) => Some(Resync {
            first_seq: a.first_seq.min(b.first_seq),
            last_seq: a.last_seq.max(b.last_seq),
        }),
        (a, b) => a.or(b),
    };
    let reason = if resync.is_some() {
        SnapshotReason::Resync
    } else {
        request.reason
    };
    // A failing random source would be a broken system; a timestamped fallback keeps the id unique.
    let snapshot_id =
        time_ordered_id(SystemTime::now()).unwrap_or_else(|_| format!("{}-{seq}", now.0));
    let time = rfc3339_from_micros(now.0);
    let stale: Vec<&str> = snapshot.stale_zones.iter().map(|z| &**z).collect();
    let header = SnapshotHeader {
        store,
        epoch,
        seq,
        time: &time,
        snapshot_id: &snapshot_id,
        reason,
        request_id: request.request_id.as_deref(),
        stale_zones: &stale,
        resync,
        zone_trust,
    };
    let counts: Vec<SnapshotCount<'_>> = snapshot
        .counts
        .iter()
        .map(|c| SnapshotCount {
            zone: Cow::Borrowed(&c.zone),
            sku: Cow::Borrowed(&c.sku),
            count: c.count,
        })
        .collect();
    encode_snapshot_parts(&header, &counts, budget)
        .into_iter()
        .map(Bytes::from)
        .collect()
}
