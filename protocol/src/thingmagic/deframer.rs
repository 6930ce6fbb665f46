//! ThingMagic's two stream directions plugged into the shared serial deframer (`crate::serial_deframer`).
//!
//! The driver reads module→host frames ([`ResponseDeframer`]); the emulator reads host→module frames
//! ([`CommandDeframer`]). Behaviour, bounds and counters are those of the shared deframer.

use std::fmt;

use super::error::FrameError;
use super::frame::{
    CommandFrame, ResponseFrame, COMMAND_OVERHEAD, HEADER, MAX_DATA_LEN, RESPONSE_OVERHEAD,
};
use crate::serial_deframer::{FrameFormat, Rejection};

pub use crate::serial_deframer::{Deframer, DeframerStats};

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

impl<D: Direction> FrameFormat for D {
    const HEADER: u8 = HEADER;
    const MAX_FRAME_LEN: usize = MAX_DATA_LEN + D::OVERHEAD;
    type Frame<'a> = D::Frame<'a>;

    fn frame_len(len_byte: u8) -> Option<usize> {
        Some(usize::from(len_byte) + D::OVERHEAD)
    }

    fn check(bytes: &[u8]) -> Result<D::Frame<'_>, Rejection> {
        D::view(bytes).map_err(|e| match e {
            FrameError::BadCrc { .. } => Rejection::BadChecksum,
            _ => Rejection::Malformed,
        })
    }
}

/// The driver's deframer.
pub type ResponseDeframer = Deframer<ModuleToHost>;
/// The emulator's deframer.
pub type CommandDeframer = Deframer<HostToModule>;

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
