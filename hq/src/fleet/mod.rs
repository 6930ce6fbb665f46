//! Emulated stores publishing real payloads, and the throw-away broker and database they run
//! against: the ground truth of the HQ tests and of `tagtally bench hq`.

mod hq_process;
mod mosquitto;
mod postgres;
mod publisher;
mod store;
mod verdict;

pub use hq_process::{free_loopback, metric, HqProcess, HqProcessError};
pub use mosquitto::{TempMosquitto, TempMosquittoError, TlsListener};
pub use postgres::{TempPostgres, TempPostgresError};
pub use publisher::Fleet;
pub use store::{EmulatedStore, Publication};
pub use verdict::{database_view, differences, fleet_truth, Stock, StoreViews};
