//! The streaming deframer both serial families share: push bytes from the line in, pull checked frames out.
//!
//! Behaviour (tokio-modbus's RTU decoder rules, plus an idle look-ahead):
//! * Nothing is consumed until a whole frame with a good checksum is buffered; a partial frame stays.
//! * Bytes before a header byte are dropped up to the next header. A header whose LEN is impossible,
//!   or whose frame fails its check, loses one byte and the hunt restarts just after it, so a real
//!   frame that began inside the bad one is still found.
//! * A false header (the header byte inside junk) can declare a length that reaches past the junk.
//!   While bytes keep coming that resolves itself: the false frame completes, fails its check and
//!   costs one byte. When the line goes quiet it would stall the real frames behind it, so the driver
//!   calls [`Deframer::on_idle`] after a quiet period; the next `next_frame` then drops a declared
//!   frame that cannot complete if a later header already completes a good frame. Doing this only
//!   when idle keeps a real frame that is still arriving from being given up for a look-alike inside
//!   its own payload (with R2000's 8-bit checksum, tag payloads fake frames far too often otherwise).
//! * The buffer never holds more than `capacity` bytes. `push` takes what fits and returns how much;
//!   the caller offers the rest after pulling frames. Because capacity is at least one maximal frame,
//!   a full buffer always lets `next_frame` make progress, so this never wedges and never silently
//!   loses bytes.
//!
//! Every dropped byte is counted in [`DeframerStats`]. A family plugs in through [`FrameFormat`].

use std::fmt;
use std::marker::PhantomData;

/// What a serial family tells the deframer about its frames.
pub trait FrameFormat {
    /// The byte every frame starts with.
    const HEADER: u8;
    /// The longest frame; also the smallest capacity accepted.
    const MAX_FRAME_LEN: usize;
    /// The checked view handed out.
    type Frame<'a>: Copy + fmt::Debug;
    /// The whole frame's length as announced by the LEN byte after the header, or `None` when no
    /// frame can have that LEN.
    fn frame_len(len_byte: u8) -> Option<usize>;
    /// Checks one whole candidate frame.
    fn check(bytes: &[u8]) -> Result<Self::Frame<'_>, Rejection>;
}

/// Why a whole candidate frame was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The CRC or checksum did not match.
    BadChecksum,
    /// Anything else wrong with it.
    Malformed,
}

/// What the deframer delivered and dropped since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeframerStats {
    /// Good frames handed out.
    pub frames: u64,
    /// Bytes dropped for any reason.
    pub bytes_discarded: u64,
    /// Complete candidate frames whose CRC or checksum did not match.
    pub bad_checksum: u64,
    /// Headers followed by a LEN no frame can have.
    pub bad_length: u64,
    /// Headers given up because a later good frame was already complete (see module docs).
    pub abandoned_partial_frames: u64,
    /// Times the stream lost sync (the first dropped byte after a good frame, or at start).
    pub resyncs: u64,
}

/// A streaming deframer with a bounded buffer.
pub struct Deframer<F: FrameFormat> {
    buffer: Vec<u8>,
    /// Bytes before `start` are consumed; they are removed on the next `push`, so frames handed
    /// out can borrow the buffer.
    start: usize,
    capacity: usize,
    in_sync: bool,
    /// Set by `on_idle`, cleared when bytes arrive: allows the look-ahead past a stalled header.
    idle: bool,
    stats: DeframerStats,
    format: PhantomData<F>,
}

impl<F: FrameFormat> fmt::Debug for Deframer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deframer")
            .field("buffered", &self.buffered())
            .field("capacity", &self.capacity)
            .field("in_sync", &self.in_sync)
            .field("idle", &self.idle)
            .field("stats", &self.stats)
            .finish()
    }
}

enum Step {
    NeedMore,
    Deliver { len: usize },
    Discard { count: usize, reason: DropReason },
}

enum DropReason {
    Junk,
    BadChecksum,
    BadLength,
    Abandoned,
}

impl<F: FrameFormat> Deframer<F> {
    /// A deframer holding at most `capacity` bytes (raised to one maximal frame if smaller).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(F::MAX_FRAME_LEN);
        Self {
            buffer: Vec::with_capacity(capacity),
            start: 0,
            capacity,
            in_sync: true,
            idle: false,
            stats: DeframerStats::default(),
            format: PhantomData,
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
    pub fn next_frame(&mut self) -> Option<F::Frame<'_>> {
        loop {
            match self.step() {
                Step::NeedMore => return None,
                Step::Discard { count, reason } => self.discard(count, reason),
                Step::Deliver { len } => {
                    let begin = self.start;
                    self.start += len;
                    self.stats.frames += 1;
                    self.in_sync = true;
                    // `step` already checked this frame; the check cannot fail here.
                    return F::check(&self.buffer[begin..begin + len]).ok();
                }
            }
        }
    }

    /// Pushes all of `bytes`, calling `on_frame` for every good frame on the way.
    pub fn feed<C>(&mut self, mut bytes: &[u8], mut on_frame: C)
    where
        C: for<'f> FnMut(F::Frame<'f>),
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
        if first != F::HEADER {
            let count = pending
                .iter()
                .position(|&b| b == F::HEADER)
                .unwrap_or(pending.len());
            return Step::Discard {
                count,
                reason: DropReason::Junk,
            };
        }
        let Some(&len) = pending.get(1) else {
            return Step::NeedMore;
        };
        let Some(total) = F::frame_len(len) else {
            return Step::Discard {
                count: 1,
                reason: DropReason::BadLength,
            };
        };
        match pending.get(..total) {
            Some(candidate) => match F::check(candidate) {
                Ok(_) => Step::Deliver { len: total },
                Err(Rejection::BadChecksum) => Step::Discard {
                    count: 1,
                    reason: DropReason::BadChecksum,
                },
                Err(Rejection::Malformed) => Step::Discard {
                    count: 1,
                    reason: DropReason::Junk,
                },
            },
            None if !self.idle => Step::NeedMore,
            None => match later_complete_frame::<F>(pending) {
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
            DropReason::BadChecksum => self.stats.bad_checksum += 1,
            DropReason::BadLength => self.stats.bad_length += 1,
            DropReason::Abandoned => self.stats.abandoned_partial_frames += 1,
        }
        if self.in_sync {
            self.stats.resyncs += 1;
            self.in_sync = false;
        }
    }
}

/// The offset of the first later header that already completes a good frame. `pending` is
/// shorter than one maximal frame here, so this stays cheap.
fn later_complete_frame<F: FrameFormat>(pending: &[u8]) -> Option<usize> {
    (1..pending.len()).find(|&offset| {
        let rest = &pending[offset..];
        match (rest.first(), rest.get(1)) {
            (Some(&header), Some(&len)) if header == F::HEADER => F::frame_len(len)
                .and_then(|total| rest.get(..total))
                .is_some_and(|candidate| F::check(candidate).is_ok()),
            _ => false,
        }
    })
}
