//! Incremental framing of an LLRP byte stream into zero-copy message views.
//!
//! LLRP over TCP has no frame marker to resynchronise on: a bad length makes the rest of the stream
//! meaningless. So every length is judged from the header alone, before the caller buffers the
//! body, and any framing error tells the caller to drop the connection.

use super::error::FrameError;
use super::header::{self, Header, HEADER_LEN};

/// Bounds the framer enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest accepted message, header included. Readers send reports of a few KiB; a declared
    /// length far beyond that is corruption or hostility, never data worth buffering.
    pub max_message_len: u32,
}

impl FrameLimits {
    /// 1 MiB: far above any real RO_ACCESS_REPORT, small enough for a gateway's memory.
    pub const DEFAULT_MAX_MESSAGE_LEN: u32 = 1 << 20;
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits {
            max_message_len: Self::DEFAULT_MAX_MESSAGE_LEN,
        }
    }
}

/// A checked view of one whole LLRP message. Once built, no accessor can fail or panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageView<'a> {
    header: Header,
    bytes: &'a [u8],
}

impl<'a> MessageView<'a> {
    /// Checks that `bytes` is exactly one message of a supported version.
    pub fn new_checked(bytes: &'a [u8]) -> Result<MessageView<'a>, FrameError> {
        let declared = header::declared_len(bytes).ok_or(FrameError::LengthMismatch {
            declared: 0,
            actual: bytes.len(),
        })?;
        let header = Header::parse(bytes)?.ok_or(FrameError::LengthMismatch {
            declared,
            actual: bytes.len(),
        })?;
        if (declared as usize) < HEADER_LEN {
            return Err(FrameError::LengthTooSmall { declared });
        }
        if declared as usize != bytes.len() {
            return Err(FrameError::LengthMismatch {
                declared,
                actual: bytes.len(),
            });
        }
        Ok(MessageView { header, bytes })
    }

    #[inline]
    pub fn header(&self) -> Header {
        self.header
    }

    /// The message value after the header.
    #[inline]
    pub fn body(&self) -> &'a [u8] {
        self.bytes.get(HEADER_LEN..).unwrap_or(&[])
    }

    /// The whole message, header included.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// The outcome of looking for one message at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framed<'a> {
    /// Not a whole message yet. `frame_len` is the full length once the header's length field has
    /// arrived (already checked against the limits), so the caller can reserve exactly that much.
    Incomplete { frame_len: Option<usize> },
    /// One whole message; drop `consumed` bytes from the buffer before looking for the next.
    Complete {
        message: MessageView<'a>,
        consumed: usize,
    },
}

/// Looks for one message at the start of `buf` (the bytes received so far).
pub fn next_frame<'a>(buf: &'a [u8], limits: &FrameLimits) -> Result<Framed<'a>, FrameError> {
    let Some(&first) = buf.first() else {
        return Ok(Framed::Incomplete { frame_len: None });
    };
    header::parse_version(first)?;
    let Some(declared) = header::declared_len(buf) else {
        return Ok(Framed::Incomplete { frame_len: None });
    };
    if (declared as usize) < HEADER_LEN {
        return Err(FrameError::LengthTooSmall { declared });
    }
    if declared > limits.max_message_len {
        return Err(FrameError::LengthTooLarge {
            declared,
            max: limits.max_message_len,
        });
    }
    let frame_len = declared as usize;
    let Some(frame) = buf.get(..frame_len) else {
        return Ok(Framed::Incomplete {
            frame_len: Some(frame_len),
        });
    };
    let message = MessageView::new_checked(frame)?;
    Ok(Framed::Complete {
        message,
        consumed: frame_len,
    })
}

/// Iterates the whole messages of a complete buffer (a capture file, a test stream). A trailing
/// partial message ends the iteration silently; see [`Frames::remainder`]. A framing error is
/// yielded once and ends the iteration.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    rest: &'a [u8],
    limits: FrameLimits,
    failed: bool,
}

impl<'a> Frames<'a> {
    pub fn new(buf: &'a [u8], limits: FrameLimits) -> Self {
        Frames {
            rest: buf,
            limits,
            failed: false,
        }
    }

    /// The bytes not yet framed (a partial message after the iteration ended).
    pub fn remainder(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<MessageView<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match next_frame(self.rest, &self.limits) {
            Ok(Framed::Complete { message, consumed }) => {
                self.rest = self.rest.get(consumed..).unwrap_or(&[]);
                Some(Ok(message))
            }
            Ok(Framed::Incomplete { .. }) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEPALIVE: [u8; 10] = [0x04, 0x3E, 0, 0, 0, 10, 0, 0, 0x12, 0x34];

    #[test]
    fn empty_and_partial_headers_need_more() {
        let limits = FrameLimits::default();
        assert_eq!(
            next_frame(&[], &limits),
            Ok(Framed::Incomplete { frame_len: None })
        );
        for n in 1..6 {
            assert_eq!(
                next_frame(&KEEPALIVE[..n], &limits),
                Ok(Framed::Incomplete { frame_len: None }),
                "{n} bytes"
            );
        }
        assert_eq!(
            next_frame(&KEEPALIVE[..9], &limits),
            Ok(Framed::Incomplete {
                frame_len: Some(10)
            })
        );
    }

    #[test]
    fn whole_message_is_consumed_exactly() {
        let mut two = KEEPALIVE.to_vec();
        two.extend_from_slice(&KEEPALIVE);
        let Ok(Framed::Complete { message, consumed }) = next_frame(&two, &FrameLimits::default())
        else {
            panic!("expected a frame");
        };
        assert_eq!(consumed, 10);
        assert_eq!(message.header().id, 0x1234);
        assert!(message.body().is_empty());
    }

    #[test]
    fn lengths_are_judged_from_the_header_alone() {
        let limits = FrameLimits {
            max_message_len: 100,
        };
        let too_small = [0x04, 0x3E, 0, 0, 0, 9];
        assert_eq!(
            next_frame(&too_small, &limits),
            Err(FrameError::LengthTooSmall { declared: 9 })
        );
        let too_large = [0x04, 0x3D, 0, 0, 0, 101];
        assert_eq!(
            next_frame(&too_large, &limits),
            Err(FrameError::LengthTooLarge {
                declared: 101,
                max: 100
            })
        );
        let huge = [0x04, 0x3D, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(matches!(
            next_frame(&huge, &FrameLimits::default()),
            Err(FrameError::LengthTooLarge { .. })
        ));
    }

    #[test]
    fn unsupported_version_is_reported_from_the_first_byte() {
        // Version 3 in bits 2..5 of the first byte.
        assert_eq!(
            next_frame(&[0x0C], &FrameLimits::default()),
            Err(FrameError::UnsupportedVersion { version: 3 })
        );
        assert_eq!(
            next_frame(
                &[0x00, 0x3E, 0, 0, 0, 10, 0, 0, 0, 0],
                &FrameLimits::default()
            ),
            Err(FrameError::UnsupportedVersion { version: 0 })
        );
    }

    #[test]
    fn frames_iterator_stops_at_a_partial_tail() {
        let mut bytes = KEEPALIVE.to_vec();
        bytes.extend_from_slice(&KEEPALIVE[..4]);
        let mut frames = Frames::new(&bytes, FrameLimits::default());
        assert!(matches!(frames.next(), Some(Ok(_))));
        assert!(frames.next().is_none());
        assert_eq!(frames.remainder(), &KEEPALIVE[..4]);
    }
}
