//! The contract between an emulated serial module (ThingMagic, R2000) and the server that
//! carries its bytes over a pseudo-terminal or TCP: sans-IO, time given as the scenario clock.

use std::time::Duration;

use super::scenario::Fault;

/// One frame the module sends, and whether it carries a tag read (for the emulator's stats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmittedFrame {
    pub bytes: Vec<u8>,
    pub carries_read: bool,
}

/// An emulated module: answers commands and streams reads, never touching I/O or clocks.
/// Frames come out one by one so the server can damage single frames or splice junk
/// between them.
pub trait EmulatedModule: Send {
    /// The protocol's frame header byte: injected junk starts with it, to test resync on false headers.
    fn frame_header(&self) -> u8;
    /// Bytes from the host arrived at `elapsed` on the scenario clock.
    fn on_bytes(&mut self, bytes: &[u8], elapsed: Duration, out: &mut Vec<EmittedFrame>);
    /// Time passed: whatever the module sends by `elapsed` (tag frames, status, round ends).
    fn on_tick(&mut self, elapsed: Duration, out: &mut Vec<EmittedFrame>);
    /// When `on_tick` next has something to do.
    fn next_tick(&self) -> Option<Duration>;
    /// Power was cut (unplugged, rebooted): forget running operations and half-received bytes.
    fn power_cycle(&mut self);
    /// A fault that concerns the module itself (antenna events, reader exceptions); link faults
    /// are the server's business and ignored here.
    fn inject(&mut self, fault: &Fault);
}
