//! Benchmarks built into the binary (`tagtally bench`, SPEC §5 and §8): they time the daemon's own code paths, not copies of them.
//!
//! * [`ingest`] — LLRP RO_ACCESS_REPORT bytes through the real `LlrpSession` into
//!   `Engine::observe_batch`, first sightings and known tags timed apart.
//! * [`population`] — the synthetic store (distinct SGTIN-96 tags, reports of 100) that the
//!   command and the criterion benches share.
//! * [`capture`] — reading and checking an input file of concatenated LLRP messages.
//! * [`handshake`] — bringing a session to streaming without a socket.
//! * [`cpu_time`], [`rss`] — thread CPU time, peak memory (presence rules come from `run::presence`).

pub mod capture;
pub mod cpu_time;
pub mod handshake;
pub mod ingest;
pub mod population;
pub mod rss;
