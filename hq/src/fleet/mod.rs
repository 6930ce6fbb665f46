//! Emulated stores publishing real payloads, and the throw-away broker and database they run
//! against: the ground truth of the HQ tests and of `tagtally bench hq`.

mod mosquitto;
mod postgres;
mod publisher;
mod store;

pub use mosquitto::{TempMosquitto, TempMosquittoError};
pub use postgres::{TempPostgres, TempPostgresError};
pub use publisher::Fleet;
pub use store::{EmulatedStore, Publication};
