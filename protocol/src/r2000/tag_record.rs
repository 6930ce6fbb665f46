//! One tag seen during real-time inventory (0x89/0x8A/0x8B reply with a tag), after
//! xinxinyun/wms `ReaderHelper.processRealTimeInventory`:
//!
//! ```text
//! FreqAnt(1: frequency index << 2 | antenna 0..3) PC(2) EPC(n) RSSI(1: bit 7 = antennas 5..8)
//! ```
//!
//! RSSI in dBm is `(raw & 0x7F) - 129`, the vendor demo convention (UNVERIFIED against the PDF).
//! The phase-reporting variant of 0x8A (two more bytes) is not supported.

use super::error::{DecodeError, EncodeError};

/// RSSI bit saying the antenna number is 5..8 on 8-port units.
const RSSI_HIGH_ANTENNA_BANK: u8 = 0x80;
/// FreqAnt + PC + 3 + RSSI = 7 bytes, the length of a round summary.
const AMBIGUOUS_EPC_LEN: usize = 3;

/// A tag record as on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagRecord {
    pub freq_ant: u8,
    pub pc: u16,
    pub epc: Vec<u8>,
    pub rssi: u8,
}

impl TagRecord {
    /// Builds a record from meanings: `antenna` 1..=8, `frequency_index` 0..=63, `rssi_dbm`
    /// −129..=−2.
    pub fn new(
        antenna: u8,
        frequency_index: u8,
        pc: u16,
        epc: &[u8],
        rssi_dbm: i16,
    ) -> Result<Self, EncodeError> {
        if !(1..=8).contains(&antenna) {
            return Err(EncodeError::OutOfRange {
                what: "antenna",
                value: i32::from(antenna),
            });
        }
        if frequency_index > 0x3F {
            return Err(EncodeError::OutOfRange {
                what: "frequency index",
                value: i32::from(frequency_index),
            });
        }
        let raw = rssi_dbm + 129;
        if !(0..=0x7F).contains(&raw) {
            return Err(EncodeError::OutOfRange {
                what: "rssi dbm",
                value: i32::from(rssi_dbm),
            });
        }
        let port = antenna - 1;
        let bank = if port >= 4 { RSSI_HIGH_ANTENNA_BANK } else { 0 };
        Ok(Self {
            freq_ant: (frequency_index << 2) | (port & 0x03),
            pc,
            epc: epc.to_vec(),
            rssi: raw as u8 | bank,
        })
    }

    /// Antenna number 1..=8.
    pub fn antenna(&self) -> u8 {
        let bank = if self.rssi & RSSI_HIGH_ANTENNA_BANK != 0 {
            4
        } else {
            0
        };
        (self.freq_ant & 0x03) + 1 + bank
    }

    /// Index into the reader's channel table.
    pub fn frequency_index(&self) -> u8 {
        self.freq_ant >> 2
    }

    /// RSSI in dBm (vendor convention, see module docs).
    pub fn rssi_dbm(&self) -> i16 {
        i16::from(self.rssi & 0x7F) - 129
    }

    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        match data {
            [freq_ant, pc_hi, pc_lo, epc @ .., rssi] => Ok(Self {
                freq_ant: *freq_ant,
                pc: u16::from_be_bytes([*pc_hi, *pc_lo]),
                epc: epc.to_vec(),
                rssi: *rssi,
            }),
            _ => Err(DecodeError::TagRecordTooShort { len: data.len() }),
        }
    }

    /// Appends the reply data. A 3-byte EPC is refused: its 7 data bytes would read back as a
    /// round summary (real EPCs come in 16-bit words anyway).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.epc.len() == AMBIGUOUS_EPC_LEN {
            return Err(EncodeError::OutOfRange {
                what: "epc length (3 bytes reads as a round summary)",
                value: i32::try_from(self.epc.len()).unwrap_or(i32::MAX),
            });
        }
        out.push(self.freq_ant);
        out.extend_from_slice(&self.pc.to_be_bytes());
        out.extend_from_slice(&self.epc);
        out.push(self.rssi);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meanings_round_trip_through_the_raw_bytes() {
        for antenna in 1..=8 {
            let record = TagRecord::new(antenna, 35, 0x3000, &[1, 2], -74).unwrap();
            assert_eq!(record.antenna(), antenna);
            assert_eq!(record.frequency_index(), 35);
            assert_eq!(record.rssi_dbm(), -74);
        }
        assert!(TagRecord::new(9, 0, 0, &[], -60).is_err());
        assert!(TagRecord::new(1, 0, 0, &[], -1).is_err());
    }
}
