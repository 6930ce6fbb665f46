//! The tools around the daemon, kept out of the gateway build: they run the daemon's real code (`tagtally`, the daemon's library) and the reader emulators (`tagtally-sim`), and the `tagtally` binary links them behind its default `tooling` feature.
//!
//! * [`bench`] — `tagtally bench ingest` and `tagtally bench store` (SPEC §8).
//! * [`demo`] — `tagtally demo`: a generated store, its day of trading, HQ's view.
//! * [`consumer`] — the reference HQ consumer behind `tagtally hq-tail` and the demo's HQ view.

pub mod bench;
pub mod consumer;
pub mod demo;
