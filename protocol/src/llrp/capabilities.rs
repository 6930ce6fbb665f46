//! GET_READER_CAPABILITIES_RESPONSE: the parts tagtally uses (vendor, model, firmware, antenna
//! count, transmit power table).
//!
//! Layouts verified against the LTK `llrp-1x0-def.xml` (LLRP 1.0.1 §16.2.3):
//! * GeneralDeviceCapabilities [137]: u16 MaxNumberOfAntennaSupported, u1 CanSetAntennaProperties,
//!   u1 HasUTCClockCapability, 14 reserved bits, u32 DeviceManufacturerName (the IANA vendor id),
//!   u32 ModelName, utf8v ReaderFirmwareVersion, then ReceiveSensitivityTableEntry [139] 1-N
//!   (u16 Index, s16 value), PerAntennaReceiveSensitivityRange [149] 0-N, GPIOCapabilities [141]
//!   (u16 NumGPIs, u16 NumGPOs), PerAntennaAirProtocol [140] 1-N (u16 AntennaID, u8v ProtocolIDs).
//! * RegulatoryCapabilities [143]: u16 CountryCode, u16 CommunicationsStandard, UHFBandCapabilities
//!   [144] 0-1, Custom*.
//! * UHFBandCapabilities [144]: TransmitPowerLevelTableEntry [145] 1-N (u16 Index,
//!   s16 TransmitPowerValue in dBm×100), FrequencyInformation [146] (u1 Hopping + 7 reserved,
//!   FrequencyHopTable [147]* / FixedFrequencyTable [148]), AirProtocolUHFRFModeTable 1-N
//!   (C1G2UHFRFModeTable [328] of C1G2UHFRFModeTableEntry [329]).
//!
//! Decoding keeps only the fields above; encoding (for the emulator) adds the sub-parameters the
//! standard makes mandatory, with neutral values, so that strict clients accept the response.

use super::cursor::{put_i16, put_tlv, put_u16, put_u32, put_u8, put_utf8v, u16_len, Reader};
use super::error::{DecodeError, EncodeError};
use super::param::for_each_tlv;
use super::status::LlrpStatus;
use super::types::{tlv, PROTOCOL_EPC_C1G2};

/// The device part of the capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GeneralDeviceCapabilities {
    pub max_antennas: u16,
    pub can_set_antenna_properties: bool,
    pub has_utc_clock: bool,
    /// DeviceManufacturerName: the vendor's IANA enterprise number (Impinj 25882, Zebra 161).
    pub manufacturer: u32,
    /// ModelName: a vendor-specific number (Impinj R700 = 2001052).
    pub model: u32,
    pub firmware_version: String,
}

/// One transmit power level the reader offers; AntennaConfiguration selects it by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransmitPowerLevel {
    pub index: u16,
    /// Conducted power at the connector, hundredths of a dBm.
    pub centi_dbm: i16,
}

/// The regulatory part of the capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegulatoryCapabilities {
    pub country_code: u16,
    pub communications_standard: u16,
    pub transmit_power_table: Vec<TransmitPowerLevel>,
}

/// GET_READER_CAPABILITIES_RESPONSE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReaderCapabilities {
    pub status: LlrpStatus,
    pub general: Option<GeneralDeviceCapabilities>,
    pub regulatory: Option<RegulatoryCapabilities>,
}

impl ReaderCapabilities {
    /// The index of the strongest table entry not above `centi_dbm`, or the weakest entry when all
    /// are above it: how a configured dBm becomes the index RFTransmitter wants.
    pub fn power_index_at_most(&self, centi_dbm: i32) -> Option<u16> {
        let table = &self.regulatory.as_ref()?.transmit_power_table;
        table
            .iter()
            .filter(|level| i32::from(level.centi_dbm) <= centi_dbm)
            .max_by_key(|level| level.centi_dbm)
            .or_else(|| table.iter().min_by_key(|level| level.centi_dbm))
            .map(|level| level.index)
    }

    /// Parses the message body.
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut status = None;
        let mut general = None;
        let mut regulatory = None;
        for_each_tlv(body, |param_type, body| {
            match param_type {
                tlv::LLRP_STATUS => status = Some(LlrpStatus::parse(body)?),
                tlv::GENERAL_DEVICE_CAPABILITIES => {
                    general = Some(GeneralDeviceCapabilities::parse(body)?)
                }
                tlv::REGULATORY_CAPABILITIES => {
                    regulatory = Some(RegulatoryCapabilities::parse(body)?)
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(ReaderCapabilities {
            status: status.ok_or(DecodeError::MissingParameter {
                parent: "get_reader_capabilities_response",
                missing: "llrp status",
            })?,
            general,
            regulatory,
        })
    }

    /// Writes the message body.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.status.emit(out)?;
        if let Some(general) = &self.general {
            general.emit(out)?;
        }
        if let Some(regulatory) = &self.regulatory {
            regulatory.emit(out)?;
        }
        Ok(())
    }
}

impl GeneralDeviceCapabilities {
    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "general device capabilities");
        let max_antennas = r.u16()?;
        let flags = r.u16()?;
        Ok(GeneralDeviceCapabilities {
            max_antennas,
            can_set_antenna_properties: flags & 0x8000 != 0,
            has_utc_clock: flags & 0x4000 != 0,
            manufacturer: r.u32()?,
            model: r.u32()?,
            firmware_version: r.utf8v()?,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::GENERAL_DEVICE_CAPABILITIES, |out| {
            put_u16(out, self.max_antennas);
            let mut flags = 0u16;
            if self.can_set_antenna_properties {
                flags |= 0x8000;
            }
            if self.has_utc_clock {
                flags |= 0x4000;
            }
            put_u16(out, flags);
            put_u32(out, self.manufacturer);
            put_u32(out, self.model);
            put_utf8v(out, &self.firmware_version, "firmware version")?;
            // Mandatory sub-parameters, neutral: one sensitivity entry of 0 dB (the standard's
            // "no control" table), no GPIOs, and Gen2 on every antenna.
            put_tlv(out, tlv::RECEIVE_SENSITIVITY_TABLE_ENTRY, |out| {
                put_u16(out, 1);
                put_i16(out, 0);
                Ok(())
            })?;
            put_tlv(out, tlv::GPIO_CAPABILITIES, |out| {
                put_u16(out, 0);
                put_u16(out, 0);
                Ok(())
            })?;
            for antenna in 1..=self.max_antennas.max(1) {
                put_tlv(out, tlv::PER_ANTENNA_AIR_PROTOCOL, |out| {
                    put_u16(out, antenna);
                    put_u16(out, 1);
                    put_u8(out, PROTOCOL_EPC_C1G2);
                    Ok(())
                })?;
            }
            Ok(())
        })
    }
}

impl RegulatoryCapabilities {
    fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body, "regulatory capabilities");
        let country_code = r.u16()?;
        let communications_standard = r.u16()?;
        let mut transmit_power_table = Vec::new();
        for_each_tlv(r.rest(), |param_type, body| {
            if param_type == tlv::UHF_BAND_CAPABILITIES {
                for_each_tlv(body, |param_type, body| {
                    if param_type == tlv::TRANSMIT_POWER_LEVEL_TABLE_ENTRY {
                        let mut r = Reader::new(body, "transmit power level table entry");
                        transmit_power_table.push(TransmitPowerLevel {
                            index: r.u16()?,
                            centi_dbm: r.i16()?,
                        });
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(RegulatoryCapabilities {
            country_code,
            communications_standard,
            transmit_power_table,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        u16_len(self.transmit_power_table.len(), "transmit power table")?;
        put_tlv(out, tlv::REGULATORY_CAPABILITIES, |out| {
            put_u16(out, self.country_code);
            put_u16(out, self.communications_standard);
            put_tlv(out, tlv::UHF_BAND_CAPABILITIES, |out| {
                for level in &self.transmit_power_table {
                    put_tlv(out, tlv::TRANSMIT_POWER_LEVEL_TABLE_ENTRY, |out| {
                        put_u16(out, level.index);
                        put_i16(out, level.centi_dbm);
                        Ok(())
                    })?;
                }
                // FrequencyInformation: not hopping, no tables (the emulator has no radio).
                put_tlv(out, tlv::FREQUENCY_INFORMATION, |out| {
                    put_u8(out, 0);
                    Ok(())
                })?;
                // One C1G2 RF mode: mode 0, DR 64/3, Miller 4, PR-ASK, dense-interrogator mask,
                // BLF 256 kHz, PIE 1.5, Tari 25 µs: a common Impinj/Zebra default.
                put_tlv(out, tlv::C1G2_UHF_RF_MODE_TABLE, |out| {
                    put_tlv(out, tlv::C1G2_UHF_RF_MODE_TABLE_ENTRY, |out| {
                        put_u32(out, 0);
                        put_u8(out, 0x80);
                        put_u8(out, 2);
                        put_u8(out, 0);
                        put_u8(out, 3);
                        put_u32(out, 256_000);
                        put_u32(out, 1500);
                        put_u32(out, 25_000);
                        put_u32(out, 25_000);
                        put_u32(out, 0);
                        Ok(())
                    })
                })
            })
        })
    }
}
