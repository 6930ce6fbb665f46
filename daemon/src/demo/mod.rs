//! `tagtally demo`: a whole store on one machine — an embedded MQTT broker, emulated readers playing a
//! generated day of trading, the real daemon between them, and a live view of what HQ receives.
//!
//! The store model, the SGTIN builder and the HQ view are pure and always built (tests use them); the
//! broker and the runner need the `demo-broker` feature, which the gateway build leaves out.

#[cfg(feature = "demo-broker")]
pub mod broker;
pub mod hq_view;
#[cfg(feature = "demo-broker")]
pub mod runner;
pub mod sgtin;
pub mod store_model;
