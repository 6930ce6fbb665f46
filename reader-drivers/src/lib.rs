//! Reader drivers: async LLRP and serial sessions that turn readers into `TagRead`s, and reader emulators.

pub mod backoff;
pub mod connect;
mod event;
mod link_report;
pub mod llrp;
mod now;
pub mod r2000;
mod repeat_limiter;
pub mod serial_driver;
mod serial_line;
pub mod serial_port;
pub mod serial_reader;
pub mod serial_session;
pub mod sim;
mod tag_read;
pub mod thingmagic;

pub use event::{DriverCounters, DriverEvent, DriverOutput, ReaderInfo};
pub use link_report::{COUNTERS_PERIOD, HEARD_PERIOD};
pub use now::Now;
pub use tag_read::{Epc, Micros, ReaderId, TagRead, MAX_EPC_BYTES};
