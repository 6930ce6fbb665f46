//! `tagtally demo`: a whole store on one machine — an embedded MQTT broker, emulated readers playing a
//! generated day of trading, the real daemon between them, and a live view of what HQ receives.

pub mod sgtin;
pub mod store_model;
