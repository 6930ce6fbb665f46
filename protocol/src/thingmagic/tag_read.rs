//! Streamed tag reads: the data of a 0x22 frame while continuous reading (protocols.md §2.4,
//! MercuryAPI `TMR_SR_parseMetadataFromMessage` and `TMR_SR_hasMoreTags`).
//!
//! ```text
//! option(1, bit 0x10 = metadata present) search_flags(2) metadata_flags(2) response_type(1 = tag)
//! [metadata fields, each only if its flag is set, in flag order]
//! epc_bits(2, counts PC + XPC + EPC + tag CRC) PC(2) [XPC_W1(2) [XPC_W2(2)]] EPC tag_crc(2)
//! ```
//!
//! Metadata fields in order: read count u8, RSSI s8 dBm, antenna (TX high nibble, RX low nibble),
//! frequency kHz u24, timestamp u32 (ms, relative to the search cycle — UNVERIFIED unit), phase
//! u16, protocol u8, embedded data (u16 bit count + bytes), GPIO u8, Gen2 Q u8, Gen2 link
//! frequency u8, Gen2 target u8, brand id u16. Flags above 0x1000 (tag type) are HF/LF only and of
//! variable size: refused.

use crc::{Crc, CRC_16_GENIBUS};

use super::cursor::Cursor;
use super::error::{DecodeError, EncodeError};
use super::metadata_flags::MetadataFlags;
use super::tag_protocol::TagProtocol;

/// Option-byte bit saying metadata flags follow the search flags.
pub const OPTION_METADATA: u8 = 0x10;
/// Response type of a frame that carries one tag (MercuryAPI: "stream continues").
const RESPONSE_TYPE_TAG: u8 = 0x01;
/// PC bit announcing an XPC_W1 word.
pub const PC_XI: u16 = 0x0200;
/// XPC_W1 bit announcing an XPC_W2 word.
pub const XPC_W1_XEB: u16 = 0x8000;

/// Gen2's own CRC over the backscattered PC, XPC and EPC (EPC C1G2: CRC-16/GENIBUS).
static GEN2_CRC: Crc<u16> = Crc::<u16>::new(&CRC_16_GENIBUS);

/// Antenna ports of a read: one nibble each on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AntennaPorts {
    pub tx: u8,
    pub rx: u8,
}

/// Tag memory read along with the inventory (embedded read), as a bit count and its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EmbeddedData {
    pub bits: u16,
    /// Exactly `ceil(bits / 8)` bytes.
    pub bytes: Vec<u8>,
}

/// The optional per-read fields; which ones are `Some` decides the metadata flags on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TagMetadata {
    pub read_count: Option<u8>,
    pub rssi_dbm: Option<i8>,
    pub antenna: Option<AntennaPorts>,
    /// Carrier frequency; 24 bits on the wire.
    pub frequency_khz: Option<u32>,
    pub timestamp_ms: Option<u32>,
    pub phase: Option<u16>,
    pub protocol: Option<TagProtocol>,
    pub data: Option<EmbeddedData>,
    /// Low nibble GPO states, high nibble GPI states.
    pub gpio: Option<u8>,
    pub gen2_q: Option<u8>,
    pub gen2_link_frequency: Option<u8>,
    pub gen2_target: Option<u8>,
    pub brand_id: Option<u16>,
}

/// The extended protocol-control words a Gen2 tag may send after its PC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Xpc {
    pub w1: u16,
    /// Present exactly when `w1` has bit 0x8000 set.
    pub w2: Option<u16>,
}

/// What a Gen2 tag backscattered: PC, optional XPC, EPC, and its CRC.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Gen2Tag {
    pub pc: u16,
    /// Present exactly when `pc` has bit 0x0200 (XI) set.
    pub xpc: Option<Xpc>,
    pub epc: Vec<u8>,
    pub crc: u16,
}

/// One streamed tag read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagReadRecord {
    /// Echo of the search command's option byte; must contain [`OPTION_METADATA`].
    pub option: u8,
    /// Echo of the search flags.
    pub search_flags: u16,
    pub metadata: TagMetadata,
    pub tag: Gen2Tag,
}

/// CRC-16/GENIBUS over PC, XPC words and EPC, as a tag computes it.
pub fn gen2_tag_crc(pc: u16, xpc: Option<Xpc>, epc: &[u8]) -> u16 {
    let mut digest = GEN2_CRC.digest();
    digest.update(&pc.to_be_bytes());
    if let Some(xpc) = xpc {
        digest.update(&xpc.w1.to_be_bytes());
        if let Some(w2) = xpc.w2 {
            digest.update(&w2.to_be_bytes());
        }
    }
    digest.update(epc);
    digest.finalize()
}

impl Gen2Tag {
    /// A tag with the PC a plain tag would send for `epc` (length in words, no XPC, no UMI/NSI
    /// bits) and the right CRC: what the emulator backscatters. EPCs of odd length or over 62
    /// bytes cannot be expressed in a PC and yield `None`.
    pub fn from_epc(epc: &[u8]) -> Option<Self> {
        if !epc.len().is_multiple_of(2) || epc.len() > 62 {
            return None;
        }
        let pc = ((epc.len() / 2) as u16) << 11;
        Some(Self {
            pc,
            xpc: None,
            epc: epc.to_vec(),
            crc: gen2_tag_crc(pc, None, epc),
        })
    }

    /// Whether the carried CRC matches PC, XPC and EPC.
    pub fn crc_matches(&self) -> bool {
        self.crc == gen2_tag_crc(self.pc, self.xpc, &self.epc)
    }

    fn xpc_words(&self) -> usize {
        match self.xpc {
            None => 0,
            Some(Xpc { w2: None, .. }) => 1,
            Some(Xpc { w2: Some(_), .. }) => 2,
        }
    }
}

impl TagMetadata {
    /// The metadata flags that describe exactly the fields present.
    pub fn flags(&self) -> MetadataFlags {
        let mut flags = 0u16;
        let mut set = |present: bool, flag: MetadataFlags| {
            if present {
                flags |= flag.0;
            }
        };
        set(self.read_count.is_some(), MetadataFlags::READ_COUNT);
        set(self.rssi_dbm.is_some(), MetadataFlags::RSSI);
        set(self.antenna.is_some(), MetadataFlags::ANTENNA);
        set(self.frequency_khz.is_some(), MetadataFlags::FREQUENCY);
        set(self.timestamp_ms.is_some(), MetadataFlags::TIMESTAMP);
        set(self.phase.is_some(), MetadataFlags::PHASE);
        set(self.protocol.is_some(), MetadataFlags::PROTOCOL);
        set(self.data.is_some(), MetadataFlags::DATA);
        set(self.gpio.is_some(), MetadataFlags::GPIO);
        set(self.gen2_q.is_some(), MetadataFlags::GEN2_Q);
        set(
            self.gen2_link_frequency.is_some(),
            MetadataFlags::GEN2_LINK_FREQUENCY,
        );
        set(self.gen2_target.is_some(), MetadataFlags::GEN2_TARGET);
        set(self.brand_id.is_some(), MetadataFlags::BRAND_ID);
        MetadataFlags(flags)
    }

    fn parse(flags: MetadataFlags, cursor: &mut Cursor<'_>) -> Result<Self, DecodeError> {
        let unsupported = flags.unsupported();
        if unsupported != MetadataFlags::NONE {
            return Err(DecodeError::UnsupportedMetadata { flags: flags.0 });
        }
        let has = |flag| flags.contains(flag);
        let mut m = Self::default();
        if has(MetadataFlags::READ_COUNT) {
            m.read_count = Some(cursor.u8("read count")?);
        }
        if has(MetadataFlags::RSSI) {
            m.rssi_dbm = Some(cursor.u8("rssi")? as i8);
        }
        if has(MetadataFlags::ANTENNA) {
            let ports = cursor.u8("antenna")?;
            m.antenna = Some(AntennaPorts {
                tx: ports >> 4,
                rx: ports & 0x0F,
            });
        }
        if has(MetadataFlags::FREQUENCY) {
            m.frequency_khz = Some(cursor.u24("frequency")?);
        }
        if has(MetadataFlags::TIMESTAMP) {
            m.timestamp_ms = Some(cursor.u32("timestamp")?);
        }
        if has(MetadataFlags::PHASE) {
            m.phase = Some(cursor.u16("phase")?);
        }
        if has(MetadataFlags::PROTOCOL) {
            m.protocol = Some(TagProtocol::from(cursor.u8("protocol")?));
        }
        if has(MetadataFlags::DATA) {
            let bits = cursor.u16("embedded data length")?;
            // Bounded by the frame: a bit count beyond the payload fails here, before any copy.
            let bytes = cursor.take(usize::from(bits).div_ceil(8), "embedded data")?;
            m.data = Some(EmbeddedData {
                bits,
                bytes: bytes.to_vec(),
            });
        }
        if has(MetadataFlags::GPIO) {
            m.gpio = Some(cursor.u8("gpio")?);
        }
        if has(MetadataFlags::GEN2_Q) {
            m.gen2_q = Some(cursor.u8("gen2 q")?);
        }
        if has(MetadataFlags::GEN2_LINK_FREQUENCY) {
            m.gen2_link_frequency = Some(cursor.u8("gen2 link frequency")?);
        }
        if has(MetadataFlags::GEN2_TARGET) {
            m.gen2_target = Some(cursor.u8("gen2 target")?);
        }
        if has(MetadataFlags::BRAND_ID) {
            m.brand_id = Some(cursor.u16("brand id")?);
        }
        Ok(m)
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if let Some(count) = self.read_count {
            out.push(count);
        }
        if let Some(rssi) = self.rssi_dbm {
            out.push(rssi as u8);
        }
        if let Some(AntennaPorts { tx, rx }) = self.antenna {
            if tx > 0x0F || rx > 0x0F {
                return Err(EncodeError::OutOfRange {
                    what: "antenna port",
                    value: u32::from(tx.max(rx)),
                });
            }
            out.push((tx << 4) | rx);
        }
        if let Some(khz) = self.frequency_khz {
            if khz > 0x00FF_FFFF {
                return Err(EncodeError::OutOfRange {
                    what: "frequency khz",
                    value: khz,
                });
            }
            out.extend_from_slice(&khz.to_be_bytes()[1..]);
        }
        if let Some(timestamp) = self.timestamp_ms {
            out.extend_from_slice(&timestamp.to_be_bytes());
        }
        if let Some(phase) = self.phase {
            out.extend_from_slice(&phase.to_be_bytes());
        }
        if let Some(protocol) = self.protocol {
            let code = protocol.as_u8().ok_or(EncodeError::OutOfRange {
                what: "protocol",
                value: u32::from(u16::from(protocol)),
            })?;
            out.push(code);
        }
        if let Some(data) = &self.data {
            if data.bytes.len() != usize::from(data.bits).div_ceil(8) {
                return Err(EncodeError::OutOfRange {
                    what: "embedded data bit count",
                    value: u32::from(data.bits),
                });
            }
            out.extend_from_slice(&data.bits.to_be_bytes());
            out.extend_from_slice(&data.bytes);
        }
        for byte in [
            self.gpio,
            self.gen2_q,
            self.gen2_link_frequency,
            self.gen2_target,
        ]
        .into_iter()
        .flatten()
        {
            out.push(byte);
        }
        if let Some(brand) = self.brand_id {
            out.extend_from_slice(&brand.to_be_bytes());
        }
        Ok(())
    }
}

impl TagReadRecord {
    /// Decodes the data of a 0x22 frame with status OK and a non-empty payload.
    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        let mut cursor = Cursor::new(data);
        let option = cursor.u8("option")?;
        if option & OPTION_METADATA == 0 {
            return Err(DecodeError::UnexpectedValue {
                what: "option byte without the metadata bit",
                value: u32::from(option),
            });
        }
        let search_flags = cursor.u16("search flags")?;
        let flags = MetadataFlags(cursor.u16("metadata flags")?);
        let response_type = cursor.u8("response type")?;
        if response_type != RESPONSE_TYPE_TAG {
            return Err(DecodeError::NotATagRecord { response_type });
        }
        let metadata = TagMetadata::parse(flags, &mut cursor)?;
        let bits = cursor.u16("epc length")?;
        let pc = cursor.u16("pc")?;
        let xpc = if pc & PC_XI != 0 {
            let w1 = cursor.u16("xpc w1")?;
            let w2 = if w1 & XPC_W1_XEB != 0 {
                Some(cursor.u16("xpc w2")?)
            } else {
                None
            };
            Some(Xpc { w1, w2 })
        } else {
            None
        };
        let xpc_words: u8 = match xpc {
            None => 0,
            Some(Xpc { w2: None, .. }) => 1,
            Some(Xpc { w2: Some(_), .. }) => 2,
        };
        let framing_bytes = 2 + 2 * usize::from(xpc_words) + 2;
        let epc_len = bits
            .is_multiple_of(8)
            .then(|| usize::from(bits / 8).checked_sub(framing_bytes))
            .flatten()
            .ok_or(DecodeError::BadEpcLength { bits, xpc_words })?;
        let epc = cursor.take(epc_len, "epc")?.to_vec();
        let crc = cursor.u16("tag crc")?;
        cursor.finish("tag record")?;
        Ok(Self {
            option,
            search_flags,
            metadata,
            tag: Gen2Tag { pc, xpc, epc, crc },
        })
    }

    /// Appends the frame data (not the frame) for this read.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.option & OPTION_METADATA == 0 {
            return Err(EncodeError::OutOfRange {
                what: "option byte without the metadata bit",
                value: u32::from(self.option),
            });
        }
        let tag = &self.tag;
        let xi = tag.pc & PC_XI != 0;
        let xpc_consistent = match tag.xpc {
            None => !xi,
            Some(Xpc { w1, w2 }) => xi && ((w1 & XPC_W1_XEB != 0) == w2.is_some()),
        };
        if !xpc_consistent {
            return Err(EncodeError::InconsistentXpc { pc: tag.pc });
        }
        let epc_field_bytes = 2 + 2 * tag.xpc_words() + tag.epc.len() + 2;
        let bits = u16::try_from(epc_field_bytes * 8).map_err(|_| EncodeError::OutOfRange {
            what: "epc length",
            value: u32::try_from(tag.epc.len()).unwrap_or(u32::MAX),
        })?;
        out.push(self.option);
        out.extend_from_slice(&self.search_flags.to_be_bytes());
        out.extend_from_slice(&self.metadata.flags().0.to_be_bytes());
        out.push(RESPONSE_TYPE_TAG);
        self.metadata.emit(out)?;
        out.extend_from_slice(&bits.to_be_bytes());
        out.extend_from_slice(&tag.pc.to_be_bytes());
        if let Some(xpc) = tag.xpc {
            out.extend_from_slice(&xpc.w1.to_be_bytes());
            if let Some(w2) = xpc.w2 {
                out.extend_from_slice(&w2.to_be_bytes());
            }
        }
        out.extend_from_slice(&tag.epc);
        out.extend_from_slice(&tag.crc.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen2_crc_of_the_protocols_md_example() {
        let epc = [
            0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
        ];
        let tag = Gen2Tag::from_epc(&epc).unwrap();
        assert_eq!(tag.pc, 0x3000);
        assert_eq!(tag.crc, 0xAAF9);
        assert!(tag.crc_matches());
    }

    #[test]
    fn epc_length_too_short_for_pc_and_crc_is_an_error() {
        // option, search flags, metadata 0, response type, epc bits = 16 (only a PC).
        let data = [0x10, 0x00, 0x1B, 0x00, 0x00, 0x01, 0x00, 0x10, 0x30, 0x00];
        assert_eq!(
            TagReadRecord::parse(&data),
            Err(DecodeError::BadEpcLength {
                bits: 16,
                xpc_words: 0
            })
        );
    }
}
