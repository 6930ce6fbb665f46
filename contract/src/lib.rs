//! The MQTT contract between a store and HQ (SPEC §6): topic names, payload types, their encoding and parsing, and the size arithmetic that keeps every message within a broker's limit.
//!
//! One crate for both sides: the daemon emits through it, `tagtally hq-tail` and the HQ service
//! parse through it. It knows no MQTT client, no tokio and no clock; times are handed in.
//!
//! # Payloads
//!
//! | topic (under `{prefix}/{store}/`) | type | schema |
//! |---|---|---|
//! | `delta` | [`DeltaMessage`] | `tagtally.delta/1` |
//! | `snapshot`, `snapshot/{k}` | [`SnapshotPart`] | `tagtally.snapshot/2` |
//! | `status` | [`StatusMessage`] | `tagtally.status/2` |
//! | `readers/{reader}` | [`ReaderHealthMessage`] | `tagtally.reader/1` |
//! | `cmd/snapshot` (inbound) | [`SnapshotCommand`] | — |
//! | `cmd/replay` (inbound) | [`ReplayCommand`] | — |
//! | `count` | [`CountMessage`] | `tagtally.count/1` |
//! | `cmd/sale` (inbound) | [`SaleCommand`] | — |
//! | `epcis` | an EPCIS 2.0 EPCISDocument ([`EpcisHeader`]) | `tagtally.epcis/1` |
//! | `expected`, `expected/{k}` (inbound, retained) | [`ExpectedPart`] | `tagtally.expected/1` |
//! | `discrepancies`, `discrepancies/{k}` | [`DiscrepanciesPart`] | `tagtally.discrepancies/1` |
//! | `replenish`, `replenish/{k}` | [`ReplenishPart`] | `tagtally.replenish/1` |
//!
//! Whatever arrives on the command subscriptions goes through [`parse_inbound`] first: a command,
//! or the reason it is ignored.
//!
//! The JSON Schemas in `docs/schemas/` are the published truth; the daemon's test suites validate
//! every payload they see it emit against them.
//!
//! A committed delta is serialised once, at commit, and its bytes are re-sent as they are: nothing
//! here re-serialises a parsed delta for publication.
//!
//! # Size bound
//!
//! [`size`] holds the MQTT PUBLISH packet arithmetic and the greedy packing that splits a delta
//! over consecutive seqs ([`encode_delta_split`]), a snapshot over parts ([`encode_snapshot_parts`])
//! and a flush's EPCIS events over several documents ([`EpcisHeader::messages`]).

mod book_item;
mod command;
mod count;
mod delta;
mod discrepancies;
mod epcis;
mod error;
mod expected;
mod inbound;
mod reader;
mod replenish;
mod sale;
mod schema_name;
pub mod size;
mod snapshot;
mod status;
pub mod time;
mod topics;
mod zone_trust;

pub use book_item::{
    check_book_item, BookItem, BookItemError, MAX_BOOK_COUNT, MAX_BOOK_SKUS, MAX_BOOK_SKU_CHARS,
};
pub use command::{ReplayCommand, SnapshotCommand, MAX_COMMAND_BYTES, MAX_REQUEST_ID_LEN};
pub use count::CountMessage;
pub use delta::{encode_delta_split, DeltaChange, DeltaMessage};
pub use discrepancies::{
    encode_discrepancies_parts, DiscrepanciesHeader, DiscrepanciesPart, Discrepancy,
};
pub use epcis::{EpcisHeader, EPCIS_CONTEXT, TAGTALLY_TERMS};
pub use error::ContractError;
pub use expected::{
    ExpectedPart, MAX_EXPECTED_LABEL_BYTES, MAX_EXPECTED_PARTS, MAX_EXPECTED_PART_BYTES,
};
pub use inbound::{parse_inbound, Inbound, InboundRefusal};
pub use reader::{ReaderAntenna, ReaderHealthMessage};
pub use replenish::{encode_replenish_parts, PickItem, ReplenishHeader, ReplenishPart};
pub use sale::{epc_from_hex, SaleCommand, MAX_EPC_HEX, MAX_SALE_BYTES, MAX_SALE_EPCS};
pub use schema_name::{
    CountSchema, DeltaSchema, DiscrepanciesSchema, EpcisSchema, ExpectedSchema, ReaderSchema,
    ReplenishSchema, SnapshotSchema, StatusSchema,
};
pub use snapshot::{
    encode_snapshot_parts, Resync, SnapshotCount, SnapshotHeader, SnapshotPart, SnapshotReason,
};
pub use status::{StatusMessage, StatusRefusal, StoreState};
pub use topics::{check_reader, StoreTopic, TopicError, Topics};
pub use zone_trust::{coarse_rate, AntennaTrustEntry, ZoneTrustEntry};
