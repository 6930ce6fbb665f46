//! `tagtally hq`: every store's MQTT topics applied into one PostgreSQL stock of record (SPEC §11).
//!
//! * [`wire`] decodes topics and payloads into [`message`]s, refusing (and naming) anything else;
//! * [`apply`] holds the rules, written once against the [`ledger::Ledger`] interface;
//!
//! Architecture invariant: only [`wire`] knows the payload format; only [`apply`] decides what
//! a message means for the stock.

pub mod api;
pub mod apply;
pub mod bench;
pub mod broker;
pub mod client;
pub mod db;
pub mod fleet;
pub mod handover;
pub mod ingest;
pub mod ledger;
pub mod message;
pub mod metrics;
pub mod outbound;
pub mod requests;
pub mod service;
pub mod wire;

#[cfg(test)]
mod apply_model;
#[cfg(test)]
mod memory_ledger;
