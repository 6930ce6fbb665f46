//! The tagtally daemon as a library: what the `tagtally` binary, the benches and the scenario tests share.

pub mod bench;
pub mod build_info;
pub mod control;
pub mod demo;
pub mod epcis;
pub mod exit;
pub mod metrics;
pub mod notify;
pub mod plan;
pub mod run;
pub mod store;
pub mod time_ordered_id;
pub mod uplink;

// The stock engine lives in the tokio-free core; the daemon's modules and suites reach it here.
pub use tagtally_core::engine;
