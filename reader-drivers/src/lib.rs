//! Reader drivers: async LLRP and serial sessions that turn readers into `TagRead`s, and reader emulators.

pub mod backoff;
pub mod connect;
mod link_report;
pub mod llrp;
pub mod r2000;
mod repeat_limiter;
pub mod serial_driver;
mod serial_line;
pub mod serial_port;
pub mod serial_reader;
pub mod serial_session;
pub mod sim;
pub mod thingmagic;

pub use link_report::{COUNTERS_PERIOD, HEARD_PERIOD};
// What sessions produce is defined by the core, which the engine shares; drivers hand it on as it is.
pub use tagtally_core::{
    DriverCounters, DriverEvent, DriverOutput, Epc, Micros, Now, ReaderId, ReaderInfo, TagRead,
    MAX_EPC_BYTES,
};
