//! The redb table definitions and metadata keys: the on-disk layout described in the store's module doc.

use redb::TableDefinition;

/// EPC bytes → postcard [`TagRecord`](super::records::TagRecord) of every present tag.
pub const TAGS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tags");

/// (zone, SKU) → count, for every non-zero count; always equal to the recount of `TAGS`.
pub const COUNTS: TableDefinition<(&str, &str), u32> = TableDefinition::new("counts");

/// seq → the exact bytes of the delta message to publish; written once, removed on acknowledgement or fold.
pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");

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

/// The epoch string (SPEC §6), created once with the database.
pub const TEXT_EPOCH: &str = "epoch";
/// The store name (config `store`) the database belongs to, recorded at creation: the state of one
/// store is never published under another's name.
pub const TEXT_STORE: &str = "store";

/// The layout this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;
