//! The ThingMagic module emulator (sans-IO); `sim::serial_server` carries it over a pty or TCP.

mod module;

pub use module::{ThingMagicModule, MAX_READ_POWER_CDBM, MIN_READ_POWER_CDBM};
