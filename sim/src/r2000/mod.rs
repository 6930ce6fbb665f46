//! The R2000 "0xA0" module emulator (sans-IO); `sim::serial_server` carries it over a pty or TCP.

mod module;

pub use module::{R2000Module, MODULE_ADDRESS};
