//! The MQTT uplink to HQ: publishes committed deltas, snapshots, status and reader health.
//!
//! # Contract
//!
//! * One task ([`spawn`]) owns the rumqttc event loop and is the only publisher. Everything goes
//!   out at QoS 1; deltas in seq order, at most `window` of them without a PUBACK.
//! * Deltas are *pulled* from the outbox ([`DeltaSource`]) a window at a time, so memory stays
//!   bounded however long the broker is away. A delta leaves the outbox only after the daemon
//!   received [`UplinkEvent::Acked`] for it, which follows the broker's PUBACK.
//! * `Acked(seq)` events come once per delta, strictly ascending, even when PUBACKs arrive out of
//!   order (see `inflight.rs`); each one implies every earlier delta is acknowledged.
//! * Inputs ([`UplinkHandle`]) never block; events go through a bounded channel (1024) that the
//!   daemon must keep draining — the task waits for room rather than drop an ack.
//! * Committed `epcis` messages (`[epcis] publish`, SPEC §12) are pulled the same way from their
//!   own outbox, after the deltas and within the same window; [`UplinkEvent::EpcisAcked`] names
//!   the newest one acknowledged, in order, and everything before it is acknowledged too.
//! * After any reconnect the unacknowledged deltas and `epcis` messages go out again, same seq, byte-identical, before
//!   any newer one. After a process restart a fresh uplink reads the outbox from its oldest record.
//!
//! # Session semantics
//!
//! The durable outbox, not the broker session, is what makes delivery at-least-once. So the
//! uplink connects with clean session (3.1.1) / clean start and session expiry 0 (MQTT 5):
//! * no loss: a delta is only forgotten after its PUBACK, and anything unacknowledged when the
//!   link dies is re-sent by us — whether the broker restarted (sessions gone) or not;
//! * no unbounded broker state: a store that is decommissioned or renamed leaves no persistent
//!   session (and no queue of `cmd/snapshot` messages) behind on the broker;
//! * the cost is duplicates after a reconnect (fresh packet ids, DUP not set), which HQ removes on
//!   (store, epoch, seq) anyway, and `cmd/snapshot` messages sent while the store is offline are
//!   dropped — the store publishes a snapshot at start-up and every `snapshot-interval`.
//!
//! Architecture invariant: nothing else in the daemon talks MQTT; the uplink knows no payload
//! schema except through the contract crate (`tagtally-contract`), which it builds `tagtally.status/2` with.

mod commands;
mod handle;
mod inflight;
mod link;
mod readers;
mod settings;
mod source;
mod status;
mod task;

pub use commands::{Command, CommandGate, SALE_MIN_INTERVAL};
pub use handle::{SnapshotOut, UplinkHandle};
pub use settings::{
    inbound_packet_limit, Credentials, Protocol, TlsSetup, UplinkSettings, MAX_WINDOW,
};
pub use source::{DeltaSource, OutboxDelta, OutboxEpcis};
pub use status::{
    status_payload, DownReason, InboundCounters, LinkState, Refusal, StatusIdentity, UplinkStatus,
    STATUS_SCHEMA,
};
pub use tagtally_contract::{check_reader, TopicError, Topics};
pub use tagtally_tls::{client_config, TlsError, TlsFiles};
pub use task::{spawn, Uplink, UplinkEvent};
