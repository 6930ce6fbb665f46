//! Reader drivers: async LLRP and serial sessions that turn readers into `TagRead`s, and reader emulators.

pub mod backoff;
mod event;
pub mod llrp;
pub mod sim;
mod tag_read;

pub use event::{DriverCounters, DriverEvent, DriverOutput, ReaderInfo};
pub use tag_read::{Epc, Micros, ReaderId, TagRead, MAX_EPC_BYTES};
