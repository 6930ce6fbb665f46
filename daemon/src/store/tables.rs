//! The redb table definitions and metadata keys: the on-disk layout described in the store's module doc.

use redb::TableDefinition;

/// EPC bytes → postcard [`TagRecord`](super::records::TagRecord) of every present tag.
pub const TAGS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tags");

/// (zone, SKU) → count, for every non-zero count; always equal to the recount of `TAGS`.
pub const COUNTS: TableDefinition<(&str, &str), u32> = TableDefinition::new("counts");

/// seq → the exact bytes of the delta message to publish; written once, removed on acknowledgement or fold.
pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");

/// seq → (acknowledged at, Unix seconds; the exact delta bytes): acknowledged deltas kept for
/// `cmd/replay`, bounded by `history-max-bytes` and `history-max-age` (layout 2).
pub const HISTORY: TableDefinition<u64, (u64, &[u8])> = TableDefinition::new("history");

/// (flush time µs, ordinal) → postcard event row: committed arrivals, moves and departures of
/// tags, kept while `[epcis]` is configured ([`super::events`]; created on first use, so a layout
/// 2 database without it is still layout 2).
pub const EVENTS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("events");

/// EPCIS seq → the exact bytes of an `epcis` message to publish (`[epcis] publish`): written in
/// the flush's transaction, removed once the broker acknowledged it ([`super::epcis_outbox`];
/// created on first use, like `EVENTS`).
pub const EPCIS_OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("epcis_outbox");

/// Numeric metadata, by the `META_*` keys below.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Text metadata, by the `TEXT_*` keys below.
pub const META_TEXT: TableDefinition<&str, &str> = TableDefinition::new("meta_text");

/// Layout version of the tables and records; a database of another version is refused, never guessed at.
pub const META_SCHEMA_VERSION: &str = "schema_version";
/// The seq the next delta gets; every seq below it has been used.
pub const META_NEXT_SEQ: &str = "next_seq";
/// Sum of the payload lengths in `OUTBOX`.
pub const META_OUTBOX_BYTES: &str = "outbox_bytes";
/// Deltas folded into resync markers since the database was created.
pub const META_FOLDED_DELTAS: &str = "folded_deltas";
/// First seq of the pending resync range (absent: none pending).
pub const META_RESYNC_FIRST: &str = "resync_first_seq";
/// Last seq of the pending resync range.
pub const META_RESYNC_LAST: &str = "resync_last_seq";

/// The daemon's starts, counted at every open (layout 2; `status/2`'s `boot`).
pub const META_BOOT: &str = "boot";
/// Sum of the payload lengths in `HISTORY` (layout 2).
pub const META_HISTORY_BYTES: &str = "history_bytes";
/// Parts of the last snapshot handed to the uplink, so retained parts beyond a smaller later
/// snapshot are cleared even after a restart (layout 2).
pub const META_SNAPSHOT_PARTS: &str = "snapshot_parts";

/// The ordinal the next `EVENTS` row gets (absent: 0).
pub const META_NEXT_EVENT: &str = "next_event";
/// Sum of the row lengths in `EVENTS` (absent: 0).
pub const META_EVENT_BYTES: &str = "event_bytes";

/// The EPCIS seq the next `epcis` message gets (absent: 1).
pub const META_NEXT_EPCIS_SEQ: &str = "next_epcis_seq";
/// Sum of the payload lengths in `EPCIS_OUTBOX` (absent: 0).
pub const META_EPCIS_OUTBOX_BYTES: &str = "epcis_outbox_bytes";
/// `epcis` messages dropped unsent since the database was created: the oldest, when the EPCIS
/// outbox was full, and those no broker would take (absent: 0).
pub const META_EPCIS_DROPPED: &str = "epcis_dropped";
/// `epcis` messages the broker acknowledged since the database was created (absent: 0).
pub const META_EPCIS_PUBLISHED: &str = "epcis_published";

/// The epoch string (SPEC §6), created once with the database.
pub const TEXT_EPOCH: &str = "epoch";
/// The store name (config `store`) the database belongs to, recorded at creation: the state of one
/// store is never published under another's name.
pub const TEXT_STORE: &str = "store";

/// The layout this build reads and writes.
pub const SCHEMA_VERSION: u64 = 2;
/// The one older layout this build upgrades in place (see `restore::upgrade`).
pub const SCHEMA_VERSION_1: u64 = 1;
