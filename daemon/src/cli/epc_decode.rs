//! `tagtally epc decode`: decode EPCs to scheme, fields, URIs and SKU (SPEC §5.1).

use super::EpcDecodeArgs;
use std::process::ExitCode;
use tagtally::exit;

/// Runs `epc decode`.
pub fn run(args: &EpcDecodeArgs) -> ExitCode {
    let _ = args;
    exit::code(exit::OK)
}
