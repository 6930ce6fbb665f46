//! Emulated stores publishing real payloads: the ground truth of the HQ tests and of
//! `tagtally bench hq`.

mod postgres;
mod store;

pub use postgres::{TempPostgres, TempPostgresError};
pub use store::{EmulatedStore, Publication};
