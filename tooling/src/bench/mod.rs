//! Benchmarks built into the binary (`tagtally bench`, SPEC §5 and §8): they time the daemon's own code paths, not copies of them.
//!
//! * [`ingest`] — LLRP RO_ACCESS_REPORT bytes through the real `LlrpSession` into
//!   `Engine::observe_batch`, first sightings and known tags timed apart, each against
//!   [`minimal_loop`], SPEC §8's reference loop over the same bytes.
//! * [`minimal_loop`] — that reference: TLV walk, EPC hash, probe, no validation.
//! * [`population`] — the synthetic store (distinct SGTIN-96 tags, reports of 100) that the
//!   command and the criterion benches share.
//! * [`capture`] — reading and checking an input file of concatenated LLRP messages.
//! * [`handshake`] — bringing a session to streaming without a socket.
//! * [`store`] — the full-load run: the real daemon as a child process, emulated LLRP readers,
//!   a broker and HQ's subscriber; CPU, memory, read → broker latency, the seq chain.
//! * [`cpu_time`], [`rss`], [`process_cpu`], [`machine`] — thread CPU time, peak and current memory
//!   (of this or another process), a process's CPU time, and the machine a number was measured on
//!   (presence rules come from `run::presence`).

pub mod capture;
pub mod cpu_time;
pub mod handshake;
pub mod ingest;
pub mod machine;
pub mod minimal_loop;
pub mod population;
pub mod process_cpu;
pub mod rss;
pub mod store;
