//! R2000's frame format plugged into the shared serial deframer (`crate::serial_deframer`).
//!
//! Commands and replies share one layout, so the driver and the emulator use the same deframer; a
//! LEN below 3 can start no frame and counts as `bad_length`.

use super::error::FrameError;
use super::frame::{Frame, HEADER, MAX_FRAME_LEN, MIN_LEN};
use crate::serial_deframer::{FrameFormat, Rejection};

pub use crate::serial_deframer::DeframerStats;

/// The R2000 "0xA0" frame format.
#[derive(Debug)]
pub enum R2000Format {}

impl FrameFormat for R2000Format {
    const HEADER: u8 = HEADER;
    const MAX_FRAME_LEN: usize = MAX_FRAME_LEN;
    type Frame<'a> = Frame<'a>;

    fn frame_len(len_byte: u8) -> Option<usize> {
        // LEN counts the bytes after itself: ADDR, CMD, data and CHECK.
        (len_byte >= MIN_LEN).then(|| usize::from(len_byte) + 2)
    }

    fn check(bytes: &[u8]) -> Result<Frame<'_>, Rejection> {
        Frame::new_checked(bytes).map_err(|e| match e {
            FrameError::BadChecksum { .. } => Rejection::BadChecksum,
            _ => Rejection::Malformed,
        })
    }
}

/// The R2000 streaming deframer (driver and emulator alike).
pub type Deframer = crate::serial_deframer::Deframer<R2000Format>;
