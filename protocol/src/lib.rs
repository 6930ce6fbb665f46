//! tagtally's wire formats: GS1 EPC decoding, LLRP 1.0.1/1.1, ThingMagic (Mercury) and R2000 "0xA0" serial framing.
//!
//! # Contract
//!
//! * **Pure.** No I/O, no clock, no async runtime, no serde. Callers hand in bytes (and, where
//!   time matters, `now`); this crate hands back decoded values, encoded bytes, or errors.
//! * **Never panics on input.** No byte sequence, of any length, makes any decoder or streaming
//!   deframer in this crate panic. Malformed input is an `Err` carrying the offending values, or a
//!   counted drop in the streaming deframers. Fuzz targets under `protocol/fuzz` enforce this.
//! * **Bounded.** Every length that comes from the wire is checked against a maximum before any
//!   buffer grows; streaming deframers hold at most their configured capacity.
//! * **Unknowns are kept, not fatal.** Unknown LLRP parameters are skipped by length; unknown
//!   enum values are kept as `Unknown(n)`; EPCs of no GS1 scheme decode as `unknown`.
//! * **Hot path allocates nothing.** Iterating the tag reports of an RO_ACCESS_REPORT and decoding a
//!   96-bit SGTIN to its SKU touch no heap.

pub mod epc;
pub mod hex;
pub mod llrp;
pub mod r2000;
pub mod serial_deframer;
pub mod text;
pub mod thingmagic;
