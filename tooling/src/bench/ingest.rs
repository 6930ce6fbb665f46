//! `tagtally bench ingest`'s measurement: LLRP bytes → the real `LlrpSession` → its `Reads` batches → `Engine::observe_batch`, timed pass by pass on one thread.
//!
//! This is the daemon's ingest path with the I/O and the channel between the two tasks taken
//! out: the driver task feeds the session what each socket read returned (up to
//! [`CHUNK_BYTES`]) and forwards every `Reads` batch; the engine task hands each batch to
//! `observe_batch`. Here both happen in one loop, so the time is what one core spends on framing,
//! report parsing, `TagRead` building and the engine update — nothing else.
//!
//! # Passes
//!
//! * Pass 1 feeds the stream to a fresh engine: every tag is a first sighting (SGTIN decode, SKU
//!   interning, candidate state). Timed alone.
//! * A tag counts only after `arrive-reads` reads, so `arrive-reads - 1` further passes are fed
//!   untimed to make every tag present (the warm-up).
//! * Passes 2..K feed the same stream again with every tag known: the hot path. Timed together.
//!
//! Between passes the engine is flushed (untimed), as the daemon's flush interval would do, so
//! side tables stay at their steady size.
//!
//! # The reference loop
//!
//! SPEC §8 states the ingest budgets as ratios to [`MinimalLoop`] over the same bytes. After the
//! warm-up it is fed the stream once untimed (its table then holds every tag, as the engine's
//! does), and each of passes 2..K is followed by one timed pass of it, so both see the same
//! machine load. Its table is built after pass 1, when the cold start's memory peak is over.
//!
//! # Time
//!
//! The session and the engine get a virtual clock that advances [`CHUNK_MICROS`] per chunk,
//! not the wall clock: arrivals then never depend on how fast the machine is (a slow pass must
//! not push the warm-up outside `arrive-window`), and no departure can happen mid-run.

use std::time::{Duration, Instant};

use tagtally_core::{Session, SessionAction};
use tagtally_reader_drivers::llrp::{LlrpSession, LlrpSettings};
use tagtally_reader_drivers::Now;
use tagtally_reader_drivers::{DriverEvent, DriverOutput, Micros, ReaderId};
use thiserror::Error;

use super::cpu_time::thread_cpu_time;
use super::handshake::{bring_up, HandshakeError};
use super::minimal_loop::MinimalLoop;
use tagtally::engine::{
    AntennaZone, Engine, EngineConfig, EngineConfigError, PresenceParams, ZoneConfig,
};

/// Bytes per `on_bytes` call: the LLRP driver task's read buffer (`reader-drivers` `llrp/task.rs`).
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Virtual time per chunk; see the module doc.
pub const CHUNK_MICROS: u64 = 1;

/// The virtual clock's start (2026-04-23T10:15:00Z): any sane UTC works.
pub const START_UTC_US: u64 = 1_776_939_300_000_000;

/// The one reader every read comes from.
const READER: ReaderId = ReaderId(0);

/// The zone every antenna maps to.
pub const ZONE: &str = "bench";

/// What to run.
#[derive(Clone, Debug)]
pub struct IngestSetup {
    /// The presence rules of the one zone (they decide how many warm-up passes are needed).
    pub presence: PresenceParams,
    /// Timed passes in all (pass 1 and passes 2..K); at least 2.
    pub passes: u32,
    /// Antenna ports 0..=max_antenna are mapped to the zone (every port the stream names).
    pub max_antenna: u16,
}

/// One timed pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassTiming {
    /// Reads the session delivered and the engine took.
    pub reads: u64,
    /// Wall-clock time around the feed/poll/observe loop.
    pub wall: Duration,
    /// This thread's CPU time over the same loop.
    pub cpu: Duration,
}

impl PassTiming {
    fn add(self, other: PassTiming) -> PassTiming {
        PassTiming {
            reads: self.reads + other.reads,
            wall: self.wall + other.wall,
            cpu: self.cpu + other.cpu,
        }
    }

    /// Reads per second of wall-clock time (0 when nothing was measured).
    pub fn reads_per_sec(&self) -> f64 {
        rate(self.reads, self.wall)
    }

    /// Reads per second of this thread's CPU time.
    pub fn cpu_reads_per_sec(&self) -> f64 {
        rate(self.reads, self.cpu)
    }

    /// Wall-clock nanoseconds per read.
    pub fn ns_per_read(&self) -> f64 {
        per_read(self.wall, self.reads)
    }

    /// CPU nanoseconds per read.
    pub fn cpu_ns_per_read(&self) -> f64 {
        per_read(self.cpu, self.reads)
    }
}

fn rate(reads: u64, time: Duration) -> f64 {
    if time.is_zero() {
        0.0
    } else {
        reads as f64 / time.as_secs_f64()
    }
}

fn per_read(time: Duration, reads: u64) -> f64 {
    if reads == 0 {
        0.0
    } else {
        time.as_nanos() as f64 / reads as f64
    }
}

/// What a run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestReport {
    /// Pass 1: first sightings.
    pub first_pass: PassTiming,
    /// Passes 2..K, one entry each: every tag known.
    pub known_passes: Vec<PassTiming>,
    /// Untimed passes fed between pass 1 and pass 2 so that every tag arrived.
    pub warmup_passes: u32,
    /// Tags present after the run.
    pub tags: usize,
    /// Tags read but not (yet) counted after the run (0 unless the stream reads some tags fewer
    /// times per pass than others can arrive with).
    pub candidates: u64,
    /// Reports or tag reports the session dropped as malformed.
    pub frames_dropped: u64,
    /// Heap bytes of the engine's tag table.
    pub tag_table_bytes: usize,
    /// The reference loop's timed passes, one after each of passes 2..K.
    pub minimal_passes: Vec<PassTiming>,
    /// Heap bytes of the reference loop's table.
    pub minimal_table_bytes: usize,
}

impl IngestReport {
    /// Passes 2..K taken together.
    pub fn known(&self) -> PassTiming {
        self.known_passes
            .iter()
            .fold(PassTiming::default(), |sum, pass| sum.add(*pass))
    }

    /// Reads in all timed passes of the daemon's path.
    pub fn timed_reads(&self) -> u64 {
        self.first_pass.reads + self.known().reads
    }

    /// The reference loop's passes taken together.
    pub fn minimal(&self) -> PassTiming {
        self.minimal_passes
            .iter()
            .fold(PassTiming::default(), |sum, pass| sum.add(*pass))
    }

    /// Known tags against the reference loop, in wall-clock rates (SPEC §8: at least 0.6).
    pub fn known_ratio(&self) -> f64 {
        ratio(self.known().reads_per_sec(), self.minimal().reads_per_sec())
    }

    /// First sightings against the reference loop, in wall-clock rates (SPEC §8: at least 0.1).
    pub fn first_sighting_ratio(&self) -> f64 {
        ratio(
            self.first_pass.reads_per_sec(),
            self.minimal().reads_per_sec(),
        )
    }

    /// [`Self::known_ratio`] in thread-CPU rates.
    pub fn known_cpu_ratio(&self) -> f64 {
        ratio(
            self.known().cpu_reads_per_sec(),
            self.minimal().cpu_reads_per_sec(),
        )
    }

    /// [`Self::first_sighting_ratio`] in thread-CPU rates.
    pub fn first_sighting_cpu_ratio(&self) -> f64 {
        ratio(
            self.first_pass.cpu_reads_per_sec(),
            self.minimal().cpu_reads_per_sec(),
        )
    }
}

/// SPEC §8's floor for known tags, as a share of the reference loop's rate.
pub const KNOWN_RATIO_BUDGET: f64 = 0.6;

/// SPEC §8's floor for first sightings, as a share of the reference loop's rate.
pub const FIRST_SIGHTING_RATIO_BUDGET: f64 = 0.1;

fn ratio(rate: f64, reference: f64) -> f64 {
    if reference == 0.0 {
        0.0
    } else {
        rate / reference
    }
}

/// Why a run could not be measured.
#[derive(Debug, Error)]
pub enum IngestError {
    /// Fewer than two timed passes: there would be no known-tag measurement.
    #[error(
        "{passes} passes requested, at least 2 are needed (pass 1 first sightings, 2.. known tags)"
    )]
    TooFewPasses { passes: u32 },
    /// The engine refused the bench's configuration (e.g. presence values out of its range).
    #[error("engine configuration: {0}")]
    Engine(#[from] EngineConfigError),
    /// The LLRP session could not be brought to streaming.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// Something in the stream made the session drop the link (as it would live), so the rest of
    /// the input would not have been read.
    #[error("the llrp session dropped the link during pass {pass}: {reason}")]
    LinkLost { pass: u32, reason: String },
}

/// The session, the engine and the virtual clock of one run.
#[derive(Debug)]
struct Rig {
    session: LlrpSession,
    engine: Engine,
    mono_start: Instant,
    elapsed_us: u64,
}

impl Rig {
    fn now(&self) -> Now {
        Now {
            instant: self.mono_start + Duration::from_micros(self.elapsed_us),
            utc: Micros(START_UTC_US + self.elapsed_us),
        }
    }

    /// Feeds `stream` in socket-sized chunks; every `Reads` batch goes to the engine.
    fn feed(&mut self, stream: &[u8], pass: u32) -> Result<u64, IngestError> {
        let mut reads = 0u64;
        for chunk in stream.chunks(CHUNK_BYTES) {
            self.elapsed_us += CHUNK_MICROS;
            let now = self.now();
            self.session.on_bytes(now, chunk);
            while let Some(action) = self.session.poll_action() {
                match action {
                    SessionAction::Output(DriverOutput::Reads(batch)) => {
                        reads += batch.len() as u64;
                        self.engine.observe_batch(&batch, now.utc);
                        // As the engine task does: a batch is evidence its reader is live.
                        if let Some(first) = batch.first() {
                            self.engine.heard(first.reader, now.utc);
                        }
                    }
                    SessionAction::Output(DriverOutput::Event(DriverEvent::LinkDown {
                        reason,
                        ..
                    })) => return Err(IngestError::LinkLost { pass, reason }),
                    // Keepalive acks, timers and other events: the driver task's business, not ingest.
                    _ => {}
                }
            }
        }
        Ok(reads)
    }

    fn timed_pass(&mut self, stream: &[u8], pass: u32) -> Result<PassTiming, IngestError> {
        let cpu_start = thread_cpu_time();
        let wall_start = Instant::now();
        let reads = self.feed(stream, pass)?;
        let wall = wall_start.elapsed();
        let cpu = thread_cpu_time().saturating_sub(cpu_start);
        self.flush();
        Ok(PassTiming { reads, wall, cpu })
    }

    fn flush(&mut self) {
        let now = self.now();
        // The delta would go to the store; the benchmark only needs the engine's state to move on.
        drop(self.engine.flush(now.utc));
    }
}

/// The engine configuration of a run: one zone with `presence`, every antenna port of the
/// stream's reader mapped to it.
pub fn engine_config(presence: PresenceParams, max_antenna: u16) -> EngineConfig {
    EngineConfig {
        zones: vec![ZoneConfig {
            name: ZONE.into(),
            presence,
        }],
        antennas: (0..=max_antenna)
            .map(|antenna| AntennaZone {
                reader: READER,
                antenna,
                zone: ZONE.into(),
            })
            .collect(),
        sku_map: Vec::new(),
        max_candidates: None,
        suspect_after: None,
        sentinels: Vec::new(),
    }
}

/// Runs the passes of `setup` over `stream` (concatenated LLRP messages, already checked).
pub fn run(stream: &[u8], setup: &IngestSetup) -> Result<IngestReport, IngestError> {
    if setup.passes < 2 {
        return Err(IngestError::TooFewPasses {
            passes: setup.passes,
        });
    }
    let engine = Engine::new(&engine_config(setup.presence, setup.max_antenna).check()?);
    let mono_start = Instant::now();
    let session = LlrpSession::new(LlrpSettings::new(READER, "bench:5084"), 1, mono_start);
    let mut rig = Rig {
        session,
        engine,
        mono_start,
        elapsed_us: 0,
    };
    let now = rig.now();
    bring_up(&mut rig.session, now)?;
    // What the daemon does when the driver reports LinkUp: the reader's zones are covered.
    rig.engine.reader_up(READER, now.utc);

    let first_pass = rig.timed_pass(stream, 1)?;
    let warmup_passes = u32::from(setup.presence.arrive_reads.saturating_sub(1));
    for _ in 0..warmup_passes {
        rig.feed(stream, 1)?;
        rig.flush();
    }
    let mut minimal = MinimalLoop::new();
    minimal.feed(stream);
    let mut known_passes = Vec::with_capacity(setup.passes as usize - 1);
    let mut minimal_passes = Vec::with_capacity(setup.passes as usize - 1);
    for pass in 2..=setup.passes {
        known_passes.push(rig.timed_pass(stream, pass)?);
        minimal_passes.push(timed_minimal_pass(&mut minimal, stream));
    }
    let counters = rig.engine.counters();
    Ok(IngestReport {
        first_pass,
        known_passes,
        warmup_passes,
        tags: rig.engine.tags_present(),
        candidates: counters.candidates,
        frames_dropped: rig.session.counters().frames_dropped,
        tag_table_bytes: rig.engine.tag_table_bytes(),
        minimal_passes,
        minimal_table_bytes: minimal.table_bytes(),
    })
}

fn timed_minimal_pass(minimal: &mut MinimalLoop, stream: &[u8]) -> PassTiming {
    let cpu_start = thread_cpu_time();
    let wall_start = Instant::now();
    let reads = minimal.feed(stream);
    let wall = wall_start.elapsed();
    let cpu = thread_cpu_time().saturating_sub(cpu_start);
    PassTiming { reads, wall, cpu }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::population::{Population, ANTENNAS};
    use tagtally_protocol::llrp::{
        Message, ProtocolVersion, ReaderEvent, ReaderEventNotificationData,
    };

    fn setup(arrive_reads: u16, passes: u32) -> IngestSetup {
        IngestSetup {
            presence: PresenceParams {
                arrive_reads,
                ..PresenceParams::default()
            },
            passes,
            max_antenna: ANTENNAS,
        }
    }

    fn stream(tags: u32, reads: u64) -> Vec<u8> {
        let population = Population::new(tags).unwrap();
        let order: Vec<u32> = population.read_order(reads, 5).collect();
        population.reports(order, START_UTC_US - reads).unwrap()
    }

    #[test]
    fn every_read_reaches_the_engine_in_every_pass() {
        let report = run(&stream(3_000, 3_000), &setup(2, 4)).unwrap();
        assert_eq!(report.first_pass.reads, 3_000);
        assert_eq!(report.known_passes.len(), 3);
        assert!(report.known_passes.iter().all(|pass| pass.reads == 3_000));
        assert_eq!(report.timed_reads(), 12_000);
        assert_eq!(report.warmup_passes, 1);
        assert_eq!(report.tags, 3_000);
        assert_eq!(report.candidates, 0);
        assert_eq!(report.frames_dropped, 0);
        assert!(report.tag_table_bytes > 0);
        assert!(report.first_pass.wall > Duration::ZERO);
        assert_eq!(report.minimal_passes.len(), 3);
        assert!(report.minimal_passes.iter().all(|pass| pass.reads == 3_000));
        assert!(report.minimal_table_bytes > 0);
        assert!(report.known_ratio() > 0.0 && report.first_sighting_ratio() > 0.0);
        assert!(report.known_cpu_ratio() > 0.0 && report.first_sighting_cpu_ratio() > 0.0);
    }

    #[test]
    fn warm_up_covers_arrive_reads() {
        assert_eq!(
            run(&stream(500, 500), &setup(1, 2)).unwrap().warmup_passes,
            0
        );
        let report = run(&stream(500, 500), &setup(4, 2)).unwrap();
        assert_eq!(report.warmup_passes, 3);
        assert_eq!(report.tags, 500);
    }

    #[test]
    fn fewer_reads_than_tags_count_only_the_tags_read() {
        let report = run(&stream(1_000, 400), &setup(2, 2)).unwrap();
        assert_eq!(report.tags, 400);
        assert_eq!(report.known().reads, 400);
    }

    #[test]
    fn a_reader_closing_the_connection_is_a_lost_link() {
        let mut bytes = stream(200, 200);
        Message::ReaderEventNotification(ReaderEventNotificationData {
            timestamp: None,
            events: vec![ReaderEvent::ConnectionClose],
        })
        .encode(ProtocolVersion::V1_0_1, 7, &mut bytes)
        .unwrap();
        let error = run(&bytes, &setup(2, 2)).unwrap_err();
        assert!(
            matches!(error, IngestError::LinkLost { pass: 1, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn one_pass_is_too_few() {
        assert!(matches!(
            run(&stream(10, 10), &setup(2, 1)),
            Err(IngestError::TooFewPasses { passes: 1 })
        ));
    }

    #[test]
    fn rates_of_an_empty_timing_are_zero() {
        let timing = PassTiming::default();
        assert_eq!(timing.reads_per_sec(), 0.0);
        assert_eq!(timing.ns_per_read(), 0.0);
        let timing = PassTiming {
            reads: 1_000,
            wall: Duration::from_millis(1),
            cpu: Duration::from_micros(500),
        };
        assert_eq!(timing.reads_per_sec(), 1_000_000.0);
        assert_eq!(timing.cpu_reads_per_sec(), 2_000_000.0);
        assert_eq!(timing.ns_per_read(), 1_000.0);
        assert_eq!(timing.cpu_ns_per_read(), 500.0);
    }
}
