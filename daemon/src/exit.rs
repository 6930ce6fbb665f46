//! Process exit codes (sysexits.h), as fixed by SPEC §5.

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// Command-line usage error (clap uses this too).
pub const USAGE: u8 = 2;
/// The input data was bad (e.g. an EPC that is not hex).
pub const DATA_ERR: u8 = 65;
/// A daemon, broker or reader that should answer did not.
pub const UNAVAILABLE: u8 = 69;
/// An I/O error (disk, socket) that is not a configuration problem.
pub const IO_ERR: u8 = 74;
/// The configuration is invalid.
pub const CONFIG: u8 = 78;

/// Wraps a sysexits code for `main`.
pub fn code(code: u8) -> ExitCode {
    ExitCode::from(code)
}
