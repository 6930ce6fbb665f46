//! Probe taps: the LLRP emulator timestamps its reads of chosen EPCs when the report carrying them goes out, so a benchmark can time read → delta at the broker.
//!
//! A [`ProbeTap`] is a set of EPCs and a channel. Once a report holding a read of one of them has
//! been written to the client's socket (`write_all` returned: the bytes are in the kernel's send
//! buffer, on their way to the client), the tap receives a [`ProbeRead`] stamped with that instant.
//! The instant is taken in the emulator's own process, so a benchmark that runs the emulator and
//! its MQTT subscriber in one process compares two readings of one monotonic clock.
//!
//! What the stamp leaves out is the time the read spent in the emulated reader's report buffer
//! before that (a reader reports every N tags, as the client's ROReportSpec asks): that is the
//! reader's latency, not the daemon's. While a tap is installed every report costs one set lookup
//! per read; without one, nothing.

use std::collections::HashSet;
use std::time::Instant;

use tokio::sync::mpsc;

use tagtally_core::Epc;

/// One read of a watched EPC, as it left the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeRead {
    /// The tag.
    pub epc: Epc,
    /// The antenna port that read it.
    pub antenna: u16,
    /// When the report carrying it had been written to the client's socket.
    pub written: Instant,
}

/// Which EPCs to watch, and where their reads go (see the module doc).
#[derive(Debug)]
pub struct ProbeTap {
    epcs: HashSet<Epc>,
    reads: mpsc::UnboundedSender<ProbeRead>,
}

impl ProbeTap {
    /// A tap on `epcs`; each of their reads is sent to `reads` (a closed receiver just drops them).
    pub fn new(
        epcs: impl IntoIterator<Item = Epc>,
        reads: mpsc::UnboundedSender<ProbeRead>,
    ) -> Self {
        Self {
            epcs: epcs.into_iter().collect(),
            reads,
        }
    }

    /// True when reads of `epc` are watched.
    pub fn watches(&self, epc: &Epc) -> bool {
        self.epcs.contains(epc)
    }

    /// Reports reads that have just been written.
    pub fn written(&self, reads: impl IntoIterator<Item = (Epc, u16)>, at: Instant) {
        for (epc, antenna) in reads {
            let _ = self.reads.send(ProbeRead {
                epc,
                antenna,
                written: at,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_watched_epcs_are_reported_with_their_instant() {
        let watched = Epc::from_slice(&[0x30, 1, 2]).unwrap();
        let other = Epc::from_slice(&[0x30, 1, 3]).unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let tap = ProbeTap::new([watched], tx);
        assert!(tap.watches(&watched));
        assert!(!tap.watches(&other));
        let at = Instant::now();
        tap.written([(watched, 4)], at);
        assert_eq!(
            rx.try_recv().unwrap(),
            ProbeRead {
                epc: watched,
                antenna: 4,
                written: at
            }
        );
        assert!(rx.try_recv().is_err());
    }
}
