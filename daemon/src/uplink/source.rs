//! Where the uplink reads committed deltas from: the durable outbox, pulled a window at a time.
//!
//! Pulling (instead of the engine pushing every delta into a channel) keeps the uplink's memory at
//! one window whatever the outage length: hours of deltas stay on disk, bounded by the outbox,
//! and a fresh uplink after a restart simply starts reading at the oldest unacknowledged record.

use bytes::Bytes;

/// One committed delta as the outbox holds it: its seq and the exact JSON bytes to publish (the
/// engine's `Delta` is the change itself, before commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxDelta {
    /// Seq within the epoch; starts at 1, grows by 1 per delta.
    pub seq: u64,
    /// The committed payload; published byte-identical every time.
    pub payload: Bytes,
}

/// One committed `epcis` message as the EPCIS outbox holds it (`[epcis] publish`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEpcis {
    /// Its EPCIS seq (`tagtally:seq`): its own sequence, from 1 per epoch.
    pub seq: u64,
    /// The committed payload; published byte-identical every time.
    pub payload: Bytes,
}

/// Read access to the outbox of unacknowledged deltas (and of `epcis` messages).
///
/// The daemon deletes records when the uplink reports [`Acked`](crate::uplink::UplinkEvent::Acked);
/// the uplink never writes. Reads must be quick (a redb read transaction): they run on the uplink
/// task between network events.
pub trait DeltaSource: Send + 'static {
    /// Read failure (shown in status and retried).
    type Error: std::fmt::Display + Send;

    /// Up to `max` committed deltas with a seq above `after` (all of them from the oldest when
    /// `after` is `None`), in ascending seq order.
    fn read_after(
        &mut self,
        after: Option<u64>,
        max: usize,
    ) -> Result<Vec<OutboxDelta>, Self::Error>;

    /// Up to `max` committed `epcis` messages with an EPCIS seq above `after` (from the oldest
    /// when `None`), ascending. The daemon deletes them on
    /// [`EpcisAcked`](crate::uplink::UplinkEvent::EpcisAcked). A store that does not publish
    /// events has none, which is what a source without an EPCIS outbox says.
    fn read_epcis_after(
        &mut self,
        after: Option<u64>,
        max: usize,
    ) -> Result<Vec<OutboxEpcis>, Self::Error> {
        let _ = (after, max);
        Ok(Vec::new())
    }
}
