//! `tagtally epc decode`: decode EPCs to scheme, fields, URIs and SKU (SPEC §5.1).

use super::EpcDecodeArgs;
use crate::exit;
use std::process::ExitCode;

/// Runs `epc decode`.
pub fn run(args: &EpcDecodeArgs) -> ExitCode {
    let _ = args;
    exit::code(exit::OK)
}
