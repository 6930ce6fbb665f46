//! RO_ACCESS_REPORT's TagReportData [240]: the zero-allocation hot-path iterator and the owned
//! form the reader emulator encodes.
//!
//! Layout: LTK `llrp-1x0-def.xml` TagReportData (EPCParameter choice of EPCData [241] / EPC-96 TV
//! 13, then optional TVs, air-protocol tag data, AccessSpecID, OpSpec results, Custom*); TV sizes
//! in [`super::types::tv_value_len`]; ImpinjPeakRSSI per sllurp (vendor 25882 subtype 57, s16).
//!
//! Readers differ in what they send and in which order, so any order is accepted; unknown TLVs
//! (vendor extensions, OpSpec results) are skipped by length, and an unknown TV ends the
//! TagReportData with what was read so far.

use super::cursor::{put_tlv, put_tv, put_u16};
use super::error::{DecodeError, EncodeError};
use super::framing::MessageView;
use super::impinj::{emit_peak_rssi, IMPINJ_VENDOR_ID, SUBTYPE_PEAK_RSSI};
use super::types::{tlv, tv, MessageType};

/// How the reader encoded the EPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpcForm {
    /// TV 13: exactly 96 bits.
    Epc96,
    /// TLV 241: a bit count, then the bits MSB-aligned in whole bytes.
    EpcData,
}

/// One TagReportData, borrowed from the message bytes. Every field but the EPC is optional, as in
/// LLRP: readers send what the ROReportSpec asked for, or less.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagReport<'a> {
    /// The EPC bytes (`ceil(epc_bits / 8)` of them, MSB-aligned).
    pub epc: &'a [u8],
    pub epc_bits: u16,
    pub epc_form: EpcForm,
    pub antenna_id: Option<u16>,
    /// PeakRSSI, whole dBm.
    pub peak_rssi_dbm: Option<i8>,
    /// Impinj's PeakRSSI, hundredths of a dBm.
    pub impinj_peak_rssi_centi_dbm: Option<i16>,
    /// One-based index into the reader's hop table.
    pub channel_index: Option<u16>,
    /// Microseconds since the Unix epoch.
    pub first_seen_utc_us: Option<u64>,
    /// Microseconds since the reader booted.
    pub first_seen_uptime_us: Option<u64>,
    pub last_seen_utc_us: Option<u64>,
    pub last_seen_uptime_us: Option<u64>,
    pub tag_seen_count: Option<u16>,
    pub rospec_id: Option<u32>,
    pub spec_index: Option<u16>,
    pub inventory_parameter_spec_id: Option<u16>,
    pub c1g2_pc: Option<u16>,
    pub c1g2_crc: Option<u16>,
    pub access_spec_id: Option<u32>,
    /// Set when an unknown TV type ended the parameter early (the rest was skipped).
    pub stopped_at_unknown_tv: Option<u8>,
}

impl<'a> TagReport<'a> {
    /// The strongest RSSI precision available, in hundredths of a dBm: Impinj's when present,
    /// otherwise the standard whole-dBm PeakRSSI.
    #[inline]
    pub fn best_rssi_centi_dbm(&self) -> Option<i16> {
        self.impinj_peak_rssi_centi_dbm
            .or_else(|| self.peak_rssi_dbm.map(|dbm| i16::from(dbm) * 100))
    }

    /// The first seen time on whichever clock the reader has: `(microseconds, is_utc)`.
    #[inline]
    pub fn first_seen_us(&self) -> Option<(u64, bool)> {
        self.first_seen_utc_us
            .map(|us| (us, true))
            .or_else(|| self.first_seen_uptime_us.map(|us| (us, false)))
    }

    /// Parses the body of one TagReportData TLV.
    #[inline]
    pub fn parse(body: &'a [u8]) -> Result<TagReport<'a>, DecodeError> {
        let mut epc: Option<(&'a [u8], u16, EpcForm)> = None;
        let mut report = TagReport {
            epc: &[],
            epc_bits: 0,
            epc_form: EpcForm::Epc96,
            antenna_id: None,
            peak_rssi_dbm: None,
            impinj_peak_rssi_centi_dbm: None,
            channel_index: None,
            first_seen_utc_us: None,
            first_seen_uptime_us: None,
            last_seen_utc_us: None,
            last_seen_uptime_us: None,
            tag_seen_count: None,
            rospec_id: None,
            spec_index: None,
            inventory_parameter_spec_id: None,
            c1g2_pc: None,
            c1g2_crc: None,
            access_spec_id: None,
            stopped_at_unknown_tv: None,
        };
        let mut rest = body;
        while let Some(&first) = rest.first() {
            if first & 0x80 != 0 {
                let tv_type = first & 0x7F;
                match tv_type {
                    tv::EPC_96 => {
                        let value: &[u8; 12] = take_tv(&mut rest)?;
                        epc = Some((value.as_slice(), 96, EpcForm::Epc96));
                    }
                    tv::ANTENNA_ID => report.antenna_id = Some(tv_u16(&mut rest)?),
                    tv::PEAK_RSSI => {
                        let [value] = *take_tv::<1>(&mut rest)?;
                        report.peak_rssi_dbm = Some(value as i8);
                    }
                    tv::FIRST_SEEN_UTC => report.first_seen_utc_us = Some(tv_u64(&mut rest)?),
                    tv::FIRST_SEEN_UPTIME => report.first_seen_uptime_us = Some(tv_u64(&mut rest)?),
                    tv::LAST_SEEN_UTC => report.last_seen_utc_us = Some(tv_u64(&mut rest)?),
                    tv::LAST_SEEN_UPTIME => report.last_seen_uptime_us = Some(tv_u64(&mut rest)?),
                    tv::CHANNEL_INDEX => report.channel_index = Some(tv_u16(&mut rest)?),
                    tv::TAG_SEEN_COUNT => report.tag_seen_count = Some(tv_u16(&mut rest)?),
                    tv::RO_SPEC_ID => report.rospec_id = Some(tv_u32(&mut rest)?),
                    tv::SPEC_INDEX => report.spec_index = Some(tv_u16(&mut rest)?),
                    tv::INVENTORY_PARAMETER_SPEC_ID => {
                        report.inventory_parameter_spec_id = Some(tv_u16(&mut rest)?)
                    }
                    tv::C1G2_PC => report.c1g2_pc = Some(tv_u16(&mut rest)?),
                    tv::C1G2_CRC => report.c1g2_crc = Some(tv_u16(&mut rest)?),
                    tv::ACCESS_SPEC_ID => report.access_spec_id = Some(tv_u32(&mut rest)?),
                    other => match super::types::tv_value_len(other) {
                        // Known but not reported here (OpSpecID, XPC words...): step over it.
                        Some(len) => skip_tv(&mut rest, len)?,
                        None => {
                            report.stopped_at_unknown_tv = Some(other);
                            break;
                        }
                    },
                }
            } else {
                let (param_type, param_body) = take_tlv(&mut rest)?;
                match param_type {
                    tlv::EPC_DATA => {
                        let bits_raw =
                            param_body
                                .first_chunk::<2>()
                                .ok_or(DecodeError::Truncated {
                                    what: "epc data",
                                    needed: 2,
                                    available: param_body.len(),
                                })?;
                        let bits = u16::from_be_bytes(*bits_raw);
                        let byte_len = usize::from(bits).div_ceil(8);
                        let bytes =
                            param_body
                                .get(2..2 + byte_len)
                                .ok_or(DecodeError::Truncated {
                                    what: "epc data",
                                    needed: byte_len,
                                    available: param_body.len().saturating_sub(2),
                                })?;
                        epc = Some((bytes, bits, EpcForm::EpcData));
                    }
                    tlv::CUSTOM => {
                        if let Some(centi_dbm) = impinj_peak_rssi(param_body) {
                            report.impinj_peak_rssi_centi_dbm = Some(centi_dbm);
                        }
                    }
                    _ => {}
                }
            }
        }
        let (bytes, bits, form) = epc.ok_or(DecodeError::MissingParameter {
            parent: "tag report data",
            missing: "epc",
        })?;
        report.epc = bytes;
        report.epc_bits = bits;
        report.epc_form = form;
        Ok(report)
    }
}

/// The ImpinjPeakRSSI value of a Custom parameter body, if that is what it is.
#[inline]
fn impinj_peak_rssi(body: &[u8]) -> Option<i16> {
    let header: &[u8; 10] = body.first_chunk()?;
    let vendor = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let subtype = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    (vendor == IMPINJ_VENDOR_ID && subtype == SUBTYPE_PEAK_RSSI)
        .then(|| i16::from_be_bytes([header[8], header[9]]))
}

/// Takes one TV parameter (type byte and `N`-byte value) off the front of `rest`.
#[inline]
fn take_tv<'a, const N: usize>(rest: &mut &'a [u8]) -> Result<&'a [u8; N], DecodeError> {
    let Some(value) = rest.get(1..).and_then(|after| after.first_chunk::<N>()) else {
        return Err(DecodeError::Truncated {
            what: "tv parameter",
            needed: N,
            available: rest.len().saturating_sub(1),
        });
    };
    *rest = rest.get(1 + N..).unwrap_or(&[]);
    Ok(value)
}

#[inline]
fn tv_u16(rest: &mut &[u8]) -> Result<u16, DecodeError> {
    Ok(u16::from_be_bytes(*take_tv(rest)?))
}

#[inline]
fn tv_u32(rest: &mut &[u8]) -> Result<u32, DecodeError> {
    Ok(u32::from_be_bytes(*take_tv(rest)?))
}

#[inline]
fn tv_u64(rest: &mut &[u8]) -> Result<u64, DecodeError> {
    Ok(u64::from_be_bytes(*take_tv(rest)?))
}

/// Steps over a known TV whose value this module does not report.
#[inline]
fn skip_tv(rest: &mut &[u8], len: usize) -> Result<(), DecodeError> {
    if rest.len() <= len {
        return Err(DecodeError::Truncated {
            what: "tv parameter",
            needed: len,
            available: rest.len().saturating_sub(1),
        });
    }
    *rest = rest.get(1 + len..).unwrap_or(&[]);
    Ok(())
}

/// Splits one TLV off the front of `rest`: its type and body.
#[inline]
fn take_tlv<'a>(rest: &mut &'a [u8]) -> Result<(u16, &'a [u8]), DecodeError> {
    let Some(header) = rest.first_chunk::<4>() else {
        return Err(DecodeError::Truncated {
            what: "tlv parameter header",
            needed: 4,
            available: rest.len(),
        });
    };
    let param_type = u16::from_be_bytes([header[0], header[1]]) & 0x03FF;
    let length = u16::from_be_bytes([header[2], header[3]]);
    let len = usize::from(length);
    if len < 4 || len > rest.len() {
        return Err(DecodeError::BadParameterLength {
            param_type,
            length,
            available: rest.len(),
        });
    }
    let body = rest.get(4..len).unwrap_or(&[]);
    *rest = rest.get(len..).unwrap_or(&[]);
    Ok((param_type, body))
}

/// Iterator over the TagReportData of an RO_ACCESS_REPORT body; allocates nothing.
///
/// A malformed TagReportData yields one `Err` and iteration goes on with the next parameter (its
/// length is still trustworthy). When the top-level lengths themselves are broken, one `Err` is
/// yielded and iteration ends. RFSurveyReportData and Custom parameters are skipped.
#[derive(Debug, Clone)]
pub struct TagReports<'a> {
    rest: &'a [u8],
}

impl<'a> TagReports<'a> {
    /// Iterates over the body of an RO_ACCESS_REPORT (the bytes after the header).
    #[inline]
    pub fn new(body: &'a [u8]) -> Self {
        TagReports { rest: body }
    }

    /// The tag reports of `message`, or `None` when it is not an RO_ACCESS_REPORT.
    #[inline]
    pub fn from_message(message: &MessageView<'a>) -> Option<Self> {
        (message.header().msg_type == MessageType::RoAccessReport)
            .then(|| TagReports::new(message.body()))
    }
}

impl<'a> Iterator for TagReports<'a> {
    type Item = Result<TagReport<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let &first = self.rest.first()?;
            if first & 0x80 != 0 {
                // A TV cannot stand at the top level of a report and cannot be skipped.
                self.rest = &[];
                return Some(Err(DecodeError::UnknownTv {
                    tv_type: first & 0x7F,
                }));
            }
            match take_tlv(&mut self.rest) {
                Ok((tlv::TAG_REPORT_DATA, body)) => return Some(TagReport::parse(body)),
                Ok(_) => continue,
                Err(e) => {
                    self.rest = &[];
                    return Some(Err(e));
                }
            }
        }
    }
}

/// An owned TagReportData, as the reader emulator builds and encodes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagReportData {
    pub epc: Vec<u8>,
    pub epc_bits: u16,
    pub epc_form: EpcForm,
    pub antenna_id: Option<u16>,
    pub peak_rssi_dbm: Option<i8>,
    pub impinj_peak_rssi_centi_dbm: Option<i16>,
    pub channel_index: Option<u16>,
    pub first_seen_utc_us: Option<u64>,
    pub first_seen_uptime_us: Option<u64>,
    pub last_seen_utc_us: Option<u64>,
    pub last_seen_uptime_us: Option<u64>,
    pub tag_seen_count: Option<u16>,
    pub rospec_id: Option<u32>,
    pub spec_index: Option<u16>,
    pub inventory_parameter_spec_id: Option<u16>,
    pub c1g2_pc: Option<u16>,
    pub c1g2_crc: Option<u16>,
    pub access_spec_id: Option<u32>,
}

impl TagReportData {
    /// A report of `epc` alone: EPC-96 form for 12 bytes (as the standard asks), EPCData otherwise.
    pub fn new(epc: &[u8]) -> Self {
        let (epc_bits, epc_form) = if epc.len() == 12 {
            (96, EpcForm::Epc96)
        } else {
            (
                u16::try_from(epc.len().saturating_mul(8)).unwrap_or(u16::MAX),
                EpcForm::EpcData,
            )
        };
        TagReportData {
            epc: epc.to_vec(),
            epc_bits,
            epc_form,
            antenna_id: None,
            peak_rssi_dbm: None,
            impinj_peak_rssi_centi_dbm: None,
            channel_index: None,
            first_seen_utc_us: None,
            first_seen_uptime_us: None,
            last_seen_utc_us: None,
            last_seen_uptime_us: None,
            tag_seen_count: None,
            rospec_id: None,
            spec_index: None,
            inventory_parameter_spec_id: None,
            c1g2_pc: None,
            c1g2_crc: None,
            access_spec_id: None,
        }
    }

    /// Writes the whole TagReportData TLV, fields in the order the standard gives them.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::TAG_REPORT_DATA, |out| {
            match self.epc_form {
                EpcForm::Epc96 => {
                    if self.epc.len() != 12 || self.epc_bits != 96 {
                        return Err(EncodeError::EpcBitLength {
                            bits: self.epc_bits,
                            bytes: self.epc.len(),
                        });
                    }
                    put_tv(out, tv::EPC_96, &self.epc);
                }
                EpcForm::EpcData => {
                    if usize::from(self.epc_bits).div_ceil(8) != self.epc.len() {
                        return Err(EncodeError::EpcBitLength {
                            bits: self.epc_bits,
                            bytes: self.epc.len(),
                        });
                    }
                    put_tlv(out, tlv::EPC_DATA, |out| {
                        put_u16(out, self.epc_bits);
                        out.extend_from_slice(&self.epc);
                        Ok(())
                    })?;
                }
            }
            if let Some(v) = self.rospec_id {
                put_tv(out, tv::RO_SPEC_ID, &v.to_be_bytes());
            }
            if let Some(v) = self.spec_index {
                put_tv(out, tv::SPEC_INDEX, &v.to_be_bytes());
            }
            if let Some(v) = self.inventory_parameter_spec_id {
                put_tv(out, tv::INVENTORY_PARAMETER_SPEC_ID, &v.to_be_bytes());
            }
            if let Some(v) = self.antenna_id {
                put_tv(out, tv::ANTENNA_ID, &v.to_be_bytes());
            }
            if let Some(v) = self.peak_rssi_dbm {
                put_tv(out, tv::PEAK_RSSI, &v.to_be_bytes());
            }
            if let Some(v) = self.channel_index {
                put_tv(out, tv::CHANNEL_INDEX, &v.to_be_bytes());
            }
            if let Some(v) = self.first_seen_utc_us {
                put_tv(out, tv::FIRST_SEEN_UTC, &v.to_be_bytes());
            }
            if let Some(v) = self.first_seen_uptime_us {
                put_tv(out, tv::FIRST_SEEN_UPTIME, &v.to_be_bytes());
            }
            if let Some(v) = self.last_seen_utc_us {
                put_tv(out, tv::LAST_SEEN_UTC, &v.to_be_bytes());
            }
            if let Some(v) = self.last_seen_uptime_us {
                put_tv(out, tv::LAST_SEEN_UPTIME, &v.to_be_bytes());
            }
            if let Some(v) = self.tag_seen_count {
                put_tv(out, tv::TAG_SEEN_COUNT, &v.to_be_bytes());
            }
            if let Some(v) = self.c1g2_pc {
                put_tv(out, tv::C1G2_PC, &v.to_be_bytes());
            }
            if let Some(v) = self.c1g2_crc {
                put_tv(out, tv::C1G2_CRC, &v.to_be_bytes());
            }
            if let Some(v) = self.access_spec_id {
                put_tv(out, tv::ACCESS_SPEC_ID, &v.to_be_bytes());
            }
            if let Some(v) = self.impinj_peak_rssi_centi_dbm {
                emit_peak_rssi(out, v)?;
            }
            Ok(())
        })
    }
}

impl From<&TagReport<'_>> for TagReportData {
    fn from(r: &TagReport<'_>) -> Self {
        TagReportData {
            epc: r.epc.to_vec(),
            epc_bits: r.epc_bits,
            epc_form: r.epc_form,
            antenna_id: r.antenna_id,
            peak_rssi_dbm: r.peak_rssi_dbm,
            impinj_peak_rssi_centi_dbm: r.impinj_peak_rssi_centi_dbm,
            channel_index: r.channel_index,
            first_seen_utc_us: r.first_seen_utc_us,
            first_seen_uptime_us: r.first_seen_uptime_us,
            last_seen_utc_us: r.last_seen_utc_us,
            last_seen_uptime_us: r.last_seen_uptime_us,
            tag_seen_count: r.tag_seen_count,
            rospec_id: r.rospec_id,
            spec_index: r.spec_index,
            inventory_parameter_spec_id: r.inventory_parameter_spec_id,
            c1g2_pc: r.c1g2_pc,
            c1g2_crc: r.c1g2_crc,
            access_spec_id: r.access_spec_id,
        }
    }
}
