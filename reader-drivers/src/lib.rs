//! Reader drivers: async LLRP and serial sessions that turn readers into `TagRead`s, and reader emulators.

mod tag_read;

pub use tag_read::{Epc, Micros, ReaderId, TagRead, MAX_EPC_BYTES};
