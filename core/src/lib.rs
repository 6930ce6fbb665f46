//! tagtally's core: what a read is, who read it and when, and the stock engine that turns reads into counts; pure, no I/O.

pub mod engine;
mod event;
mod now;
mod tag_read;

pub use event::{DriverCounters, DriverEvent, DriverOutput, ReaderInfo};
pub use now::Now;
pub use tag_read::{Epc, Micros, ReaderId, TagRead, MAX_EPC_BYTES};
