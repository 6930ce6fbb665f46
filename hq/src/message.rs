//! What the HQ service acts on, decoded and checked from a store's topics (SPEC §6): the few
//! fields the apply rules need, nothing of the wire format.

use std::borrow::Cow;
use std::cmp::Ordering;
use tagtally_contract::{StatusMessage, StatusSchema, StoreState};

/// One (zone, sku) pair with its count after a delta, or in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PairCount {
    /// Zone name.
    pub zone: String,
    /// SKU.
    pub sku: String,
    /// The pair's count.
    pub count: u64,
}

/// A store's delta: the pairs whose count changed at `seq` of `epoch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDelta {
    /// Store name (checked, `[a-z0-9_-]{1,64}`).
    pub store: String,
    /// The store's epoch (time-ordered string: a later epoch sorts after an earlier one).
    pub epoch: String,
    /// Position in the epoch, from 1.
    pub seq: u64,
    /// The new counts of the pairs that changed.
    pub changes: Vec<PairCount>,
}

/// One part of a (possibly split) snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPart {
    /// Store name.
    pub store: String,
    /// The store's epoch.
    pub epoch: String,
    /// Seq of the last delta the snapshot includes.
    pub seq: u64,
    /// Shared by every part of one snapshot.
    pub snapshot_id: String,
    /// This part's number, 1-based.
    pub part: u32,
    /// How many parts the snapshot has.
    pub parts: u32,
    /// This part's counts; pairs absent from every part are 0.
    pub counts: Vec<PairCount>,
    /// Zones whose readers were all down (counts frozen, not emptied).
    pub stale_zones: Vec<String>,
}

/// Where a status message sorts among the store's status messages. The order itself is the
/// contract's ([`StatusMessage::order`]): epoch, boot, connection, an `offline` last within
/// its connection, then time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusOrder {
    /// The store's epoch.
    pub epoch: String,
    /// Daemon start count.
    pub boot: u64,
    /// MQTT connection count within the boot.
    pub connection: u64,
    /// The message said `offline`.
    pub offline: bool,
    /// When the store sent it (RFC 3339 UTC, as sent).
    pub time: String,
}

impl StatusOrder {
    fn as_message(&self) -> StatusMessage<'_> {
        StatusMessage {
            schema: StatusSchema,
            store: Cow::Borrowed(""),
            epoch: Cow::Borrowed(&self.epoch),
            boot: self.boot,
            connection: self.connection,
            time: Cow::Borrowed(&self.time),
            state: if self.offline {
                StoreState::Offline
            } else {
                StoreState::Online
            },
            version: Cow::Borrowed(""),
            seq: 0,
            refused: None,
        }
    }
}

impl Ord for StatusOrder {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_message().order(&other.as_message())
    }
}

impl PartialOrd for StatusOrder {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A store's status message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    /// Store name.
    pub store: String,
    /// Its place in the order of the store's status messages.
    pub order: StatusOrder,
    /// `online` (true) or `offline` (false).
    pub online: bool,
    /// The store could not commit (disk full).
    pub disk_full: bool,
    /// The store's last committed seq.
    pub seq: u64,
}

/// A store's reader health message, kept as published for the API.
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderHealth {
    /// Store name.
    pub store: String,
    /// Reader name (the topic level).
    pub reader: String,
    /// The payload, parsed as JSON.
    pub payload: serde_json::Value,
}

/// One message from a store, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreMessage {
    /// `delta`.
    Delta(StoreDelta),
    /// `snapshot` or `snapshot/{k}`.
    SnapshotPart(SnapshotPart),
    /// `status`.
    Status(StoreStatus),
    /// `readers/{reader}`.
    Reader(ReaderHealth),
}

impl StoreMessage {
    /// The store it came from.
    pub fn store(&self) -> &str {
        match self {
            StoreMessage::Delta(delta) => &delta.store,
            StoreMessage::SnapshotPart(part) => &part.store,
            StoreMessage::Status(status) => &status.store,
            StoreMessage::Reader(reader) => &reader.store,
        }
    }
}
