//! tagtally's core: what a read is, who read it and when, the contract every reader session keeps, and the stock engine that turns reads into counts; pure, no I/O.

mod backoff;
pub mod engine;
mod event;
mod now;
mod repeat_limiter;
mod session;
mod tag_read;

pub use backoff::{Backoff, BackoffPolicy};
pub use event::{DriverCounters, DriverEvent, DriverOutput, ReaderInfo};
pub use now::Now;
pub use repeat_limiter::RepeatLimiter;
pub use session::{LinkLoss, Session, SessionAction, TransportTimeouts};
pub use tag_read::{Epc, Micros, ReaderId, TagRead, MAX_EPC_BYTES};
