//! The tagtally daemon as a library (package `tagtally-daemon`): what the `tagtally` binary (tagtally/), the tooling (tagtally-tooling), the benches and the suites share.

pub mod build_info;
pub mod control;
pub mod epcis;
pub mod exit;
pub mod metrics;
pub mod notify;
pub mod operations;
pub mod plan;
pub mod run;
pub mod store;
pub mod time_ordered_id;
pub mod uplink;

// The stock engine lives in the tokio-free core; the daemon's modules and suites reach it here.
pub use tagtally_core::engine;
