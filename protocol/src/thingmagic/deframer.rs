//! Streaming ThingMagic deframer: push bytes from the serial line in, pull checked frames out.
//!
//! Behaviour (the tokio-modbus RTU decoder's rules, plus an idle look-ahead):
//! * Nothing is consumed until a whole frame with a good CRC is buffered; a partial frame stays.
//! * Bytes before a header (0xFF) are dropped up to the next header. A header whose frame fails
//!   its CRC loses one byte and the hunt restarts just after it, so a real frame that began inside
//!   the bad one is still found.
//! * A false header (0xFF inside junk) can declare a length that reaches past the junk. While
//!   bytes keep coming that resolves itself: the false frame completes, fails its CRC and costs
//!   one byte. When the line goes quiet it would stall the real frames behind it, so the driver
//!   calls [`Deframer::on_idle`] after a quiet period; the next `next_frame` then drops a
//!   declared frame that cannot complete if a later header already completes a frame with a good
//!   CRC. Doing this only when idle keeps a real frame that is still arriving from ever being
//!   given up for a look-alike inside its own payload.
//! * The buffer never holds more than `capacity` bytes. `push` takes what fits and returns how
//!   much; the caller offers the rest after pulling frames. Because capacity is at least one
//!   maximal frame, a full buffer always lets `next_frame` make progress, so this never wedges
//!   and never silently loses bytes.
//!
//! Every dropped byte is counted in [`DeframerStats`].

use std::fmt;
use std::marker::PhantomData;

use super::error::FrameError;
use super::frame::{
    CommandFrame, ResponseFrame, COMMAND_OVERHEAD, HEADER, MAX_DATA_LEN, RESPONSE_OVERHEAD,
};

/// Which way the bytes flow, so the deframer knows the frame overhead and the view to hand out.
pub trait Direction {
    /// Bytes around the data: header, LEN, opcode, (status,) CRC.
    const OVERHEAD: usize;
    /// The checked view handed out.
    type Frame<'a>: Copy + fmt::Debug;
    /// Checks one whole frame.
    fn view(bytes: &[u8]) -> Result<Self::Frame<'_>, FrameError>;
}

/// Module→host: what the driver reads.
#[derive(Debug)]
pub enum ModuleToHost {}

/// Host→module: what the emulator reads.
#[derive(Debug)]
pub enum HostToModule {}

impl Direction for ModuleToHost {
    const OVERHEAD: usize = RESPONSE_OVERHEAD;
    type Frame<'a> = ResponseFrame<'a>;
    fn view(bytes: &[u8]) -> Result<ResponseFrame<'_>, FrameError> {
        ResponseFrame::new_checked(bytes)
    }
}

impl Direction for HostToModule {
    const OVERHEAD: usize = COMMAND_OVERHEAD;
    type Frame<'a> = CommandFrame<'a>;
    fn view(bytes: &[u8]) -> Result<CommandFrame<'_>, FrameError> {
        CommandFrame::new_checked(bytes)
    }
}

/// The driver's deframer.
pub type ResponseDeframer = Deframer<ModuleToHost>;
/// The emulator's deframer.
pub type CommandDeframer = Deframer<HostToModule>;

/// What the deframer delivered and dropped since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeframerStats {
    /// Good frames handed out.
    pub frames: u64,
    /// Bytes dropped for any reason.
    pub bytes_discarded: u64,
    /// Complete candidate frames whose CRC did not match.
    pub bad_crc: u64,
    /// Headers given up because a later valid frame was already complete (see module docs).
    pub abandoned_partial_frames: u64,
    /// Times the stream lost sync (the first dropped byte after a good frame, or at start).
    pub resyncs: u64,
}

/// A streaming deframer with a bounded buffer.
#[derive(Debug)]
pub struct Deframer<D: Direction> {
    buffer: Vec<u8>,
    /// Bytes before `start` are consumed; they are removed on the next `push`, so frames handed
    /// out can borrow the buffer.
    start: usize,
    capacity: usize,
    in_sync: bool,
    /// Set by `on_idle`, cleared when bytes arrive: allows the look-ahead past a stalled header.
    idle: bool,
    stats: DeframerStats,
    direction: PhantomData<D>,
}

enum Step {
    NeedMore,
    Deliver { len: usize },
    Discard { count: usize, reason: DropReason },
}

enum DropReason {
    Junk,
    BadCrc,
    Abandoned,
}

impl<D: Direction> Deframer<D> {
    /// The longest frame in this direction; also the smallest capacity accepted.
    pub const MAX_FRAME_LEN: usize = MAX_DATA_LEN + D::OVERHEAD;

    /// A deframer holding at most `capacity` bytes (raised to one maximal frame if smaller).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(Self::MAX_FRAME_LEN);
        Self {
            buffer: Vec::with_capacity(capacity),
            start: 0,
            capacity,
            in_sync: true,
            idle: false,
            stats: DeframerStats::default(),
            direction: PhantomData,
        }
    }

    /// The most bytes this deframer ever holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes waiting to become frames.
    pub fn buffered(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Counters since creation.
    pub fn stats(&self) -> DeframerStats {
        self.stats
    }

    /// Forgets buffered bytes (e.g. after the link was reopened); not counted as drops.
    pub fn clear(&mut self) {
        self.buffer.clear();
        self.start = 0;
        self.in_sync = true;
        self.idle = false;
    }

    /// Appends as many of `bytes` as fit and returns how many that was.
    #[must_use = "bytes beyond the returned count were not taken; pull frames, then offer them again"]
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let room = self.capacity.saturating_sub(self.buffer.len());
        let taken = room.min(bytes.len());
        self.buffer.extend_from_slice(&bytes[..taken]);
        if taken > 0 {
            self.idle = false;
        }
        taken
    }

    /// Tells the deframer the line has been quiet (the driver decides how long: a few byte
    /// times at the link's baud rate is plenty). Until more bytes arrive, `next_frame` may then
    /// give up a header whose declared frame cannot complete from what is buffered, when a later
    /// header already completes a good frame — so junk that looks like a long frame does not
    /// hold back the real frames behind it.
    pub fn on_idle(&mut self) {
        self.idle = true;
    }

    /// The next good frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<D::Frame<'_>> {
        loop {
            match self.step() {
                Step::NeedMore => return None,
                Step::Discard { count, reason } => self.discard(count, reason),
                Step::Deliver { len } => {
                    let begin = self.start;
                    self.start += len;
                    self.stats.frames += 1;
                    self.in_sync = true;
                    // `step` already checked this frame; the view cannot fail here.
                    return D::view(&self.buffer[begin..begin + len]).ok();
                }
            }
        }
    }

    /// Pushes all of `bytes`, calling `on_frame` for every good frame on the way.
    pub fn feed<F>(&mut self, mut bytes: &[u8], mut on_frame: F)
    where
        F: for<'f> FnMut(D::Frame<'f>),
    {
        loop {
            let taken = self.push(bytes);
            bytes = &bytes[taken..];
            while let Some(frame) = self.next_frame() {
                on_frame(frame);
            }
            if bytes.is_empty() {
                return;
            }
        }
    }

    fn step(&self) -> Step {
        let pending = &self.buffer[self.start..];
        let Some(&first) = pending.first() else {
            return Step::NeedMore;
        };
        if first != HEADER {
            let count = pending
                .iter()
                .position(|&b| b == HEADER)
                .unwrap_or(pending.len());
            return Step::Discard {
                count,
                reason: DropReason::Junk,
            };
        }
        let Some(&len) = pending.get(1) else {
            return Step::NeedMore;
        };
        let total = usize::from(len) + D::OVERHEAD;
        match pending.get(..total) {
            Some(candidate) => match D::view(candidate) {
                Ok(_) => Step::Deliver { len: total },
                Err(FrameError::BadCrc { .. }) => Step::Discard {
                    count: 1,
                    reason: DropReason::BadCrc,
                },
                Err(_) => Step::Discard {
                    count: 1,
                    reason: DropReason::Junk,
                },
            },
            None if !self.idle => Step::NeedMore,
            None => match later_complete_frame::<D>(pending) {
                Some(offset) => Step::Discard {
                    count: offset,
                    reason: DropReason::Abandoned,
                },
                None => Step::NeedMore,
            },
        }
    }

    fn discard(&mut self, count: usize, reason: DropReason) {
        self.start += count;
        self.stats.bytes_discarded += count as u64;
        match reason {
            DropReason::Junk => {}
            DropReason::BadCrc => self.stats.bad_crc += 1,
            DropReason::Abandoned => self.stats.abandoned_partial_frames += 1,
        }
        if self.in_sync {
            self.stats.resyncs += 1;
            self.in_sync = false;
        }
    }
}

/// The offset of the first later header that already completes a frame with a good CRC.
/// `pending` is shorter than one maximal frame here, so this stays cheap.
fn later_complete_frame<D: Direction>(pending: &[u8]) -> Option<usize> {
    (1..pending.len()).find(|&offset| {
        let rest = &pending[offset..];
        match (rest.first(), rest.get(1)) {
            (Some(&HEADER), Some(&len)) => rest
                .get(..usize::from(len) + D::OVERHEAD)
                .is_some_and(|candidate| D::view(candidate).is_ok()),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thingmagic::frame::encode_response;
    use crate::thingmagic::{Opcode, StatusWord};

    fn keep_alive() -> Vec<u8> {
        let mut out = Vec::new();
        encode_response(
            Opcode::ReadTagIdMultiple,
            StatusWord::NoTagsFound,
            &[],
            &mut out,
        )
        .unwrap();
        out
    }

    #[test]
    fn capacity_is_at_least_one_maximal_frame() {
        assert_eq!(ResponseDeframer::new(0).capacity(), 262);
        assert_eq!(CommandDeframer::new(10).capacity(), 260);
        assert_eq!(ResponseDeframer::new(4096).capacity(), 4096);
    }

    #[test]
    fn push_stops_at_capacity_and_the_rest_goes_in_after_draining() {
        let frame = keep_alive();
        let stream: Vec<u8> = frame
            .iter()
            .copied()
            .cycle()
            .take(frame.len() * 100)
            .collect();
        let mut deframer = ResponseDeframer::new(0);
        let taken = deframer.push(&stream);
        assert_eq!(taken, 262);
        let mut frames = 0;
        while deframer.next_frame().is_some() {
            frames += 1;
        }
        assert_eq!(frames, 262 / frame.len());
        let mut total = frames;
        deframer.feed(&stream[taken..], |_| total += 1);
        assert_eq!(total, 100);
        assert_eq!(deframer.stats().bytes_discarded, 0);
    }
}
