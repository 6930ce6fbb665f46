//! `tagtally demo`: a whole store on one machine — an embedded MQTT broker, emulated readers playing a
//! generated day of trading, the real daemon between them, and a live view of what HQ receives.
//!
//! The store also has a till sending its sales on `cmd/sale` (`till`), a stockroom that only a
//! handheld counts (`handheld_count`), and books that HQ publishes with planted errors
//! (`book_stock`), so a new user sees the store operations of SPEC §10: sales, counts, the
//! differences from the books and the pick list that follow from them.
//!
//! The store model, the SGTIN builder, the HQ view, the books and the till's receipts are pure and always
//! built (tests use them); the broker, the runner and the parts of `till` and `handheld_count` that
//! talk to the broker or the daemon need the `demo-broker` feature, which the gateway build leaves out.

pub mod book_stock;
#[cfg(feature = "demo-broker")]
pub mod broker;
pub mod handheld_count;
pub mod hq_view;
#[cfg(feature = "demo-broker")]
pub mod runner;
pub mod sgtin;
pub mod store_model;
pub mod till;
