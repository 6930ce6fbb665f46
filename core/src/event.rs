//! What a reader driver tells the daemon: batches of reads, and link, antenna and error events.

use crate::{ReaderId, TagRead};

/// Everything a driver task sends downstream, over one bounded channel per daemon.
///
/// Back-pressure: a driver `await`s the send. While the engine is behind, the driver stops reading
/// its transport, so the reader buffers (LLRP readers report `ReportBufferLevelWarning`) or the serial
/// line's kernel buffer fills; reads are never dropped silently inside tagtally.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverOutput {
    /// Reads decoded from one report or frame burst, in the order the reader sent them.
    Reads(Vec<TagRead>),
    /// A change of state or a problem worth telling a technician about.
    Event(DriverEvent),
}

/// A reader's state changes and problems, each naming the reader.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverEvent {
    /// The session is established and reads may flow.
    LinkUp { reader: ReaderId, info: ReaderInfo },
    /// The link is gone; `reason` is a human sentence ("keepalive missed 3 times (30s)",
    /// "ADD_ROSPEC rejected: M_ParameterError ...", "another client holds the reader").
    LinkDown { reader: ReaderId, reason: String },
    /// An antenna port was reported connected or disconnected.
    Antenna {
        reader: ReaderId,
        antenna: u16,
        connected: bool,
    },
    /// The reader reported a problem without the link going down (exception event, bad status frame).
    ReaderError { reader: ReaderId, message: String },
    /// The reader's clock differs from ours by more than the tolerated skew; reads use receive time.
    ClockSkew { reader: ReaderId, skew_ms: i64 },
    /// The reader was heard: a valid frame or message came from it (a tag report, a KEEPALIVE, a status or
    /// keep-alive frame, a round summary, any response) while the link is up. The daemon stamps it with its own
    /// receive time: it is the evidence that the reader's zones were really watched, without which nothing
    /// departs (SPEC §3). Sent at most once per `HEARD_PERIOD` (250 ms, `tagtally-reader-drivers`) per reader; a `Reads`
    /// batch is evidence of its own and needs no `Heard` beside it.
    Heard { reader: ReaderId },
    /// Cumulative counters, sent periodically and on change.
    Counters {
        reader: ReaderId,
        counters: DriverCounters,
    },
}

/// What the driver learned about the reader when the link came up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReaderInfo {
    /// Manufacturer and model as the reader names them (e.g. "Impinj R700", "ThingMagic M6e Nano").
    pub model: String,
    /// Firmware version text.
    pub firmware: String,
    /// Antenna ports the reader has.
    pub antenna_count: u16,
}

/// Monotonic counters of one driver since the daemon started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DriverCounters {
    /// Tag reads delivered downstream.
    pub reads: u64,
    /// Frames or messages dropped as corrupt (bad CRC, malformed parameters).
    pub frames_dropped: u64,
    /// Junk bytes discarded while resynchronising a serial stream.
    pub bytes_discarded: u64,
    /// Times the link was (re)established.
    pub connects: u64,
    /// Times the link was lost.
    pub disconnects: u64,
    /// Attempts to (re)establish the link that failed (refused, unreachable, setup rejected).
    pub failed_connects: u64,
}
