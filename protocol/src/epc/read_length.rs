//! Whether a read carries a whole EPC: the one rule every reader family applies before a read counts.
//!
//! A read with no EPC bits, or with fewer bits than the tag's own PC word announces, is not a tag
//! seen: it is a damaged or forged report. Counted as one, it would become stock (two such reads
//! arrive as one `unknown` item), so every driver drops it and counts the drop.

use thiserror::Error;

/// Why a read's EPC cannot be taken as a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IncompleteEpc {
    /// The read carries no EPC bits at all.
    #[error("read carries an epc of 0 bits")]
    Empty,
    /// The PC word's length field announces more EPC words than the read carries.
    #[error("read carries {bits} epc bits, its pc word announces {announced}")]
    ShorterThanPc {
        /// Bits the read carries.
        bits: u32,
        /// Bits the PC word's length field announces.
        announced: u32,
    },
}

/// The EPC length in bits that a Gen2 PC word announces (its top five bits count 16-bit words).
#[inline]
pub fn pc_epc_bits(pc: u16) -> u32 {
    u32::from(pc >> 11) * 16
}

/// Checks a read's EPC length: `bits` carried, and the tag's PC word when the reader reports it.
#[inline]
pub fn check_read_length(bits: u32, pc: Option<u16>) -> Result<(), IncompleteEpc> {
    if bits == 0 {
        return Err(IncompleteEpc::Empty);
    }
    match pc.map(pc_epc_bits) {
        Some(announced) if bits < announced => {
            Err(IncompleteEpc::ShorterThanPc { bits, announced })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bits_is_no_tag() {
        assert_eq!(check_read_length(0, None), Err(IncompleteEpc::Empty));
        assert_eq!(check_read_length(0, Some(0)), Err(IncompleteEpc::Empty));
    }

    #[test]
    fn fewer_bits_than_the_pc_announces_is_no_tag() {
        // PC 0x3000: six words, 96 bits.
        assert_eq!(pc_epc_bits(0x3000), 96);
        assert_eq!(
            check_read_length(64, Some(0x3000)),
            Err(IncompleteEpc::ShorterThanPc {
                bits: 64,
                announced: 96
            })
        );
        assert_eq!(check_read_length(96, Some(0x3000)), Ok(()));
        // A reader that sends more than the PC says (padding, a wider EPC bank) still has the whole EPC.
        assert_eq!(check_read_length(128, Some(0x3000)), Ok(()));
    }

    #[test]
    fn without_a_pc_any_nonzero_length_stands() {
        assert_eq!(check_read_length(8, None), Ok(()));
        assert_eq!(check_read_length(496, None), Ok(()));
    }

    #[test]
    fn pc_flags_below_the_length_field_do_not_count() {
        // 0x37FF: length 6 words with UMI, XI and every NSI bit set.
        assert_eq!(pc_epc_bits(0x37FF), 96);
    }
}
