//! The unit every reader driver produces: one read of one tag (SPEC §2), fixed-size so batches never allocate per read.

use std::fmt;

use tagtally_protocol::hex::Hex;

/// The longest EPC a Gen2 tag can carry: 496 bits.
pub const MAX_EPC_BYTES: usize = 62;

/// An EPC of up to 496 bits, stored inline (no heap), MSB-aligned as on the wire.
#[derive(Clone, Copy)]
pub struct Epc {
    len: u8,
    bytes: [u8; MAX_EPC_BYTES],
}

impl Epc {
    /// No EPC (zero bits): a placeholder to be [`Epc::set`] in place.
    pub const EMPTY: Self = Self {
        len: 0,
        bytes: [0; MAX_EPC_BYTES],
    };

    /// Copies an EPC from wire bytes; `None` when it is longer than 496 bits.
    #[inline]
    pub fn from_slice(epc: &[u8]) -> Option<Self> {
        let mut out = Self::EMPTY;
        out.set(epc).then_some(out)
    }

    /// Makes this the EPC `epc` in place; `false` (and unchanged) when it is longer than 496 bits.
    ///
    /// The hot path builds a read where it will stay (in its batch) and sets the EPC there:
    /// building it on the stack and moving it costs a store-forwarding stall per read (the EPC is
    /// written in 8- and 4-byte pieces and read back in 16-byte ones), measured at a third of the
    /// LLRP session's time per read.
    #[inline]
    pub fn set(&mut self, epc: &[u8]) -> bool {
        // Only bytes past both lengths are zero already; the others are overwritten or cleared.
        let Some(bytes) = self.bytes.get_mut(..epc.len()) else {
            return false;
        };
        match (epc.first_chunk::<12>(), bytes.first_chunk_mut::<12>()) {
            // SGTIN-96 and the other 96-bit schemes: a fixed-size move, not a call to memcpy.
            (Some(epc96), Some(to)) if epc.len() == 12 => *to = *epc96,
            _ => copy_other_length(bytes, epc),
        }
        let old = usize::from(self.len);
        if let Some(stale) = self.bytes.get_mut(epc.len()..old) {
            stale.fill(0);
        }
        self.len = epc.len() as u8;
        true
    }

    /// The EPC bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Length in bits.
    #[inline]
    pub fn bits(&self) -> u16 {
        u16::from(self.len) * 8
    }
}

/// The copy of [`Epc::set`] for lengths other than 96 bits, kept out of line: inlined, the
/// compiler folds the 96-bit move into this one, a call to memcpy.
#[inline(never)]
fn copy_other_length(to: &mut [u8], from: &[u8]) {
    to.copy_from_slice(from);
}

impl PartialEq for Epc {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for Epc {}

impl std::hash::Hash for Epc {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Display for Epc {
    /// Upper-case hex, as printed on tag labels and in reader tools.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}", Hex(self.as_bytes()))
    }
}

impl fmt::Debug for Epc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Epc({self})")
    }
}

/// Index of a configured reader (its position in the config's `[[reader]]` list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReaderId(pub u16);

/// Microseconds since 1970-01-01T00:00:00Z (LLRP's native time unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Micros(pub u64);

/// One read of one tag by one antenna.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagRead {
    /// Which configured reader saw the tag.
    pub reader: ReaderId,
    /// The reader's antenna port (1-based, as the reader numbers it).
    pub antenna: u16,
    /// The tag's EPC.
    pub epc: Epc,
    /// Received signal strength in hundredths of a dBm (-5825 = -58.25 dBm); `None` when the reader gave none.
    pub rssi_cdbm: Option<i16>,
    /// When the reader saw the tag (UTC).
    pub time: Micros,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epc_keeps_bytes_and_rejects_over_496_bits() {
        let e = Epc::from_slice(&[0x30, 0x74, 0x25]).expect("short epc fits");
        assert_eq!(e.as_bytes(), &[0x30, 0x74, 0x25]);
        assert_eq!(e.bits(), 24);
        assert_eq!(e.to_string(), "307425");
        assert!(Epc::from_slice(&[0u8; MAX_EPC_BYTES]).is_some());
        assert!(Epc::from_slice(&[0u8; MAX_EPC_BYTES + 1]).is_none());
    }

    #[test]
    fn setting_in_place_equals_copying_and_clears_a_longer_old_epc() {
        let mut e = Epc::from_slice(&[0xAB; 16]).unwrap();
        assert!(e.set(&[0x30; 12]));
        assert_eq!(e, Epc::from_slice(&[0x30; 12]).unwrap());
        assert_eq!(
            e.bytes,
            Epc::from_slice(&[0x30; 12]).unwrap().bytes,
            "no stale tail"
        );
        assert!(e.set(&[1, 2, 3]));
        assert_eq!(e.as_bytes(), &[1, 2, 3]);
        assert!(!e.set(&[0u8; MAX_EPC_BYTES + 1]));
        assert_eq!(
            e.as_bytes(),
            &[1, 2, 3],
            "a refused EPC leaves it unchanged"
        );
        assert!(e.set(&[]));
        assert_eq!(e, Epc::EMPTY);
    }

    #[test]
    fn epc_equality_ignores_unused_tail() {
        let a = Epc::from_slice(&[1, 2]).unwrap();
        let b = Epc::from_slice(&[1, 2, 0]).unwrap();
        assert_ne!(a, b, "length is part of identity");
        assert_eq!(a, Epc::from_slice(&[1, 2]).unwrap());
    }
}
