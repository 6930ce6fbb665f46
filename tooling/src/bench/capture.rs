//! An input file of concatenated LLRP messages (a capture of what a reader sent): read with a size bound and checked before anything is timed.
//!
//! Live, a framing error drops the reader connection and the rest of the stream is lost; for a
//! benchmark that would silently time half a file. So the whole file is framed once up front with
//! the same framer and limits the session uses, and any framing problem, a truncated last message
//! or a file without a single tag read is an error naming the offending offset and values.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use tagtally_protocol::llrp::{
    next_frame, FrameError, FrameLimits, Framed, MessageType, TagReports,
};
use tagtally_reader_drivers::Epc;
use thiserror::Error;

/// Largest input file accepted: far more than any capture worth benchmarking, small enough to
/// hold in memory next to the engine on a gateway.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// Why an input file cannot be used: unreadable (an I/O problem) or not an LLRP stream (bad data).
#[derive(Debug, Error)]
pub enum InputError {
    /// The file cannot be opened or read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file's content is unusable.
    #[error("{path}: {problem}")]
    Content {
        path: PathBuf,
        #[source]
        problem: CaptureError,
    },
}

/// Why the content of an input file is not a usable LLRP stream.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CaptureError {
    /// Nothing to replay.
    #[error("the input is empty")]
    Empty,
    /// Larger than [`MAX_INPUT_BYTES`].
    #[error("the input is {bytes} bytes, more than the {MAX_INPUT_BYTES} accepted")]
    TooLarge { bytes: u64 },
    /// The framer refused the message starting at `offset` (not LLRP, or an absurd length).
    #[error("not an llrp stream at byte {offset} (message {message}): {source}")]
    Framing {
        offset: usize,
        message: usize,
        #[source]
        source: FrameError,
    },
    /// The last message is cut short.
    #[error("the input ends inside a message: {available} bytes at byte {offset}, the header declares {declared}")]
    Truncated {
        offset: usize,
        available: usize,
        /// The declared length, or 0 when even the header is incomplete.
        declared: usize,
    },
    /// Well-framed, but no RO_ACCESS_REPORT holds a usable tag read.
    #[error("the input holds {messages} llrp messages but no tag reads")]
    NoTagReads { messages: usize },
}

/// What the framing pass found in a valid input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureSummary {
    /// LLRP messages of any type.
    pub messages: usize,
    /// RO_ACCESS_REPORT messages.
    pub reports: usize,
    /// TagReportData the session turns into reads (a usable EPC).
    pub tag_reads: u64,
    /// TagReportData the session drops as malformed.
    pub malformed_tag_reports: u64,
    /// The highest antenna port a read names (0 when none does).
    pub max_antenna: u16,
}

/// Reads `path` whole, refusing files over [`MAX_INPUT_BYTES`] before reading them, and checks it.
pub fn load(path: &Path) -> Result<(Vec<u8>, CaptureSummary), InputError> {
    let unreadable = |source| InputError::Unreadable {
        path: path.to_owned(),
        source,
    };
    let content = |problem| InputError::Content {
        path: path.to_owned(),
        problem,
    };
    let file = File::open(path).map_err(unreadable)?;
    let declared = file.metadata().map_err(unreadable)?.len();
    if declared > MAX_INPUT_BYTES {
        return Err(content(CaptureError::TooLarge { bytes: declared }));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    // The bound holds even for files that grow while being read (or lie about their size).
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(content(CaptureError::TooLarge {
            bytes: bytes.len() as u64,
        }));
    }
    let summary = check(&bytes).map_err(content)?;
    Ok((bytes, summary))
}

/// Frames `bytes` as the session would and counts what it holds.
pub fn check(bytes: &[u8]) -> Result<CaptureSummary, CaptureError> {
    if bytes.is_empty() {
        return Err(CaptureError::Empty);
    }
    let limits = FrameLimits::default();
    let mut summary = CaptureSummary::default();
    let mut offset = 0;
    while offset < bytes.len() {
        let rest = bytes.get(offset..).unwrap_or(&[]);
        match next_frame(rest, &limits) {
            Ok(Framed::Complete { message, consumed }) => {
                summary.messages += 1;
                offset += consumed;
                if message.header().msg_type != MessageType::RoAccessReport {
                    continue;
                }
                summary.reports += 1;
                for report in TagReports::new(message.body()) {
                    match report {
                        Ok(report) if Epc::from_slice(report.epc).is_some() => {
                            summary.tag_reads += 1;
                            summary.max_antenna =
                                summary.max_antenna.max(report.antenna_id.unwrap_or(0));
                        }
                        _ => summary.malformed_tag_reports += 1,
                    }
                }
            }
            Ok(Framed::Incomplete { frame_len }) => {
                return Err(CaptureError::Truncated {
                    offset,
                    available: rest.len(),
                    declared: frame_len.unwrap_or(0),
                })
            }
            Err(source) => {
                return Err(CaptureError::Framing {
                    offset,
                    message: summary.messages,
                    source,
                })
            }
        }
    }
    if summary.tag_reads == 0 {
        return Err(CaptureError::NoTagReads {
            messages: summary.messages,
        });
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::population::Population;
    use tagtally_protocol::llrp::{Message, ProtocolVersion};

    fn stream() -> Vec<u8> {
        let population = Population::new(150).unwrap();
        let mut bytes = Vec::new();
        Message::Keepalive
            .encode(ProtocolVersion::V1_0_1, 9, &mut bytes)
            .unwrap();
        bytes.extend(population.reports(0..150, 1_700_000_000_000_000).unwrap());
        bytes
    }

    #[test]
    fn a_capture_is_counted() {
        let summary = check(&stream()).unwrap();
        assert_eq!(
            summary,
            CaptureSummary {
                messages: 3,
                reports: 2,
                tag_reads: 150,
                malformed_tag_reports: 0,
                max_antenna: 4,
            }
        );
    }

    #[test]
    fn text_is_not_llrp() {
        let error = check(b"this is not an llrp capture\n").unwrap_err();
        assert!(
            matches!(
                error,
                CaptureError::Framing {
                    offset: 0,
                    message: 0,
                    source: FrameError::UnsupportedVersion { .. }
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_cut_message_is_truncation() {
        let bytes = stream();
        let cut = &bytes[..bytes.len() - 7];
        let error = check(cut).unwrap_err();
        let CaptureError::Truncated {
            available,
            declared,
            ..
        } = error
        else {
            panic!("{error:?}");
        };
        assert_eq!(declared, available + 7);
        assert_eq!(
            check(&bytes[..3]),
            Err(CaptureError::Truncated {
                offset: 0,
                available: 3,
                declared: 0
            })
        );
    }

    #[test]
    fn an_absurd_length_is_refused() {
        let mut bytes = stream();
        // Message length field of the first message (bytes 2..6): 16 MiB.
        bytes[2..6].copy_from_slice(&(16u32 << 20).to_be_bytes());
        let error = check(&bytes).unwrap_err();
        assert!(
            matches!(
                error,
                CaptureError::Framing {
                    source: FrameError::LengthTooLarge { .. },
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn no_reads_and_no_bytes_are_refused() {
        let mut keepalive = Vec::new();
        Message::Keepalive
            .encode(ProtocolVersion::V1_0_1, 1, &mut keepalive)
            .unwrap();
        assert_eq!(
            check(&keepalive),
            Err(CaptureError::NoTagReads { messages: 1 })
        );
        assert_eq!(check(&[]), Err(CaptureError::Empty));
    }
}
