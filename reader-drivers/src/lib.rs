//! Reader drivers: the LLRP, ThingMagic and R2000 sessions that turn readers into `TagRead`s, and the one task that runs any of them (the emulators are `tagtally-sim`).

pub mod connect;
pub mod driver;
mod link_report;
pub mod llrp;
pub mod r2000;
mod serial_line;
pub mod serial_port;
pub mod serial_reader;
pub mod thingmagic;

pub use link_report::{COUNTERS_PERIOD, HEARD_PERIOD};
pub use serial_line::SerialLinkTiming;
// What sessions produce is defined by the core, which the engine shares; drivers hand it on as it is.
pub use tagtally_core::{
    DriverCounters, DriverEvent, DriverOutput, Epc, Micros, Now, ReaderId, ReaderInfo, TagRead,
    MAX_EPC_BYTES,
};
