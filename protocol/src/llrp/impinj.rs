//! Impinj (vendor 25882) extensions: enable-extensions messages, the tag report content selector
//! and the reported PeakRSSI in hundredths of a dBm.
//!
//! Subtypes and layouts from sllurp `llrp_proto.py` (Param_struct / Message_struct entries with
//! `VENDOR_ID_IMPINJ`); Impinj's own definition file was not available (protocols.md §1.5).

use super::cursor::{put_u16, put_u32, Reader};
use super::error::{DecodeError, EncodeError};
use super::param::{emit_custom, CustomView, Param, Params};
use super::types::tlv;

/// Impinj's IANA enterprise number, the LLRP VendorIdentifier of all its extensions.
pub const IMPINJ_VENDOR_ID: u32 = 25882;

/// CUSTOM_MESSAGE subtype of IMPINJ_ENABLE_EXTENSIONS (body: u32 reserved).
pub const SUBTYPE_ENABLE_EXTENSIONS: u8 = 21;
/// CUSTOM_MESSAGE subtype of IMPINJ_ENABLE_EXTENSIONS_RESPONSE (body: LLRPStatus).
pub const SUBTYPE_ENABLE_EXTENSIONS_RESPONSE: u8 = 22;
/// ImpinjTagReportContentSelector, placed in ROReportSpec.
pub const SUBTYPE_TAG_REPORT_CONTENT_SELECTOR: u32 = 50;
pub const SUBTYPE_ENABLE_SERIALIZED_TID: u32 = 51;
pub const SUBTYPE_ENABLE_RF_PHASE_ANGLE: u32 = 52;
pub const SUBTYPE_ENABLE_PEAK_RSSI: u32 = 53;
/// ImpinjPeakRSSI in TagReportData: s16, hundredths of a dBm.
pub const SUBTYPE_PEAK_RSSI: u32 = 57;
pub const SUBTYPE_ENABLE_RF_DOPPLER_FREQUENCY: u32 = 67;
pub const SUBTYPE_ENABLE_TX_POWER: u32 = 72;

/// Which Impinj per-tag values the reader should add to each TagReportData. Each switch travels as
/// its own Custom parameter holding a u16 mode, 1 = enabled (what sllurp sends to Impinj readers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ImpinjTagReportContentSelector {
    pub enable_peak_rssi: bool,
    pub enable_rf_phase_angle: bool,
    pub enable_rf_doppler_frequency: bool,
}

impl ImpinjTagReportContentSelector {
    /// Parses the data of the selector's Custom parameter (the switches are nested Customs).
    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        let mut selector = ImpinjTagReportContentSelector::default();
        for param in Params::new(data) {
            let Param::Tlv {
                param_type: tlv::CUSTOM,
                body,
            } = param?
            else {
                continue;
            };
            let custom = CustomView::parse(body)?;
            if custom.vendor != IMPINJ_VENDOR_ID {
                continue;
            }
            let enabled = Reader::new(custom.data, "impinj enable mode").u16()? != 0;
            match custom.subtype {
                SUBTYPE_ENABLE_PEAK_RSSI => selector.enable_peak_rssi = enabled,
                SUBTYPE_ENABLE_RF_PHASE_ANGLE => selector.enable_rf_phase_angle = enabled,
                SUBTYPE_ENABLE_RF_DOPPLER_FREQUENCY => {
                    selector.enable_rf_doppler_frequency = enabled
                }
                _ => {}
            }
        }
        Ok(selector)
    }

    /// Writes the whole selector Custom parameter, every switch present (as sllurp does).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        emit_custom(
            out,
            IMPINJ_VENDOR_ID,
            SUBTYPE_TAG_REPORT_CONTENT_SELECTOR,
            |out| {
                for (subtype, enabled) in [
                    (SUBTYPE_ENABLE_RF_PHASE_ANGLE, self.enable_rf_phase_angle),
                    (SUBTYPE_ENABLE_PEAK_RSSI, self.enable_peak_rssi),
                    (
                        SUBTYPE_ENABLE_RF_DOPPLER_FREQUENCY,
                        self.enable_rf_doppler_frequency,
                    ),
                ] {
                    emit_custom(out, IMPINJ_VENDOR_ID, subtype, |out| {
                        put_u16(out, u16::from(enabled));
                        Ok(())
                    })?;
                }
                Ok(())
            },
        )
    }
}

/// Writes the ImpinjPeakRSSI Custom parameter (as a reader puts it in TagReportData).
pub(crate) fn emit_peak_rssi(out: &mut Vec<u8>, centi_dbm: i16) -> Result<(), EncodeError> {
    emit_custom(out, IMPINJ_VENDOR_ID, SUBTYPE_PEAK_RSSI, |out| {
        out.extend_from_slice(&centi_dbm.to_be_bytes());
        Ok(())
    })
}

/// The body of IMPINJ_ENABLE_EXTENSIONS after the CUSTOM_MESSAGE header: one reserved u32.
pub(crate) fn emit_enable_extensions_body(out: &mut Vec<u8>) {
    put_u32(out, 0);
}
