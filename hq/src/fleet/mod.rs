//! Emulated stores publishing real payloads: the ground truth of the HQ tests and of
//! `tagtally bench hq`.

mod store;

pub use store::{EmulatedStore, Publication};
