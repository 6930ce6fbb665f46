//! End-of-round summaries of real-time inventory, after xinxinyun/wms `ReaderHelper`:
//! 0x89/0x8B send `ant(1) read_rate(u16) total_reads(u32)`; 0x8A sends
//! `total_reads(u24) command_duration_ms(u32)` (the Java combines the bytes with `* 255`, an
//! obvious slip for 256; we read plain big-endian). Both are 7 data bytes, told apart by command.

/// 0x89 / 0x8B round end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InventoryRoundSummary {
    /// Work antenna of the round, 0-based as on the wire.
    pub antenna: u8,
    /// Reads per second during the round.
    pub read_rate: u16,
    pub total_reads: u32,
}

/// 0x8A round end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FastSwitchSummary {
    /// Tags read in the whole command; 24 bits on the wire.
    pub total_reads: u32,
    pub duration_ms: u32,
}

/// Data bytes of either summary.
pub(crate) const SUMMARY_LEN: usize = 7;

impl InventoryRoundSummary {
    pub(crate) fn parse(data: [u8; SUMMARY_LEN]) -> Self {
        let [antenna, r1, r2, t1, t2, t3, t4] = data;
        Self {
            antenna,
            read_rate: u16::from_be_bytes([r1, r2]),
            total_reads: u32::from_be_bytes([t1, t2, t3, t4]),
        }
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.antenna);
        out.extend_from_slice(&self.read_rate.to_be_bytes());
        out.extend_from_slice(&self.total_reads.to_be_bytes());
    }
}

impl FastSwitchSummary {
    pub(crate) fn parse(data: [u8; SUMMARY_LEN]) -> Self {
        let [t1, t2, t3, d1, d2, d3, d4] = data;
        Self {
            total_reads: u32::from_be_bytes([0, t1, t2, t3]),
            duration_ms: u32::from_be_bytes([d1, d2, d3, d4]),
        }
    }

    /// `None` when `total_reads` does not fit 24 bits.
    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Option<()> {
        if self.total_reads > 0x00FF_FFFF {
            return None;
        }
        out.extend_from_slice(&self.total_reads.to_be_bytes()[1..]);
        out.extend_from_slice(&self.duration_ms.to_be_bytes());
        Some(())
    }
}
