//! The other 96-bit GS1 schemes: SSCC, SGLN, GRAI, GIAI, GID, GDTI and GSRN (TDS §14.5, TDT `*-96.json`).

use super::bits::BitReader;
use super::digits::Digits;
use super::error::{expect_scheme, DecodeError};
use super::header::Scheme;
use super::identity::Gs1Identity;
use super::partition::{digits_field, split, Table, GIAI, GRAI, SGLN_GDTI, SSCC_GSRN};

/// Bits of every scheme in this file.
pub const BITS_96: usize = 96;

/// SSCC-96: a logistic unit (pallet, case). The last 24 bits are reserved and not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sscc96 {
    /// Filter value 0..=7.
    pub filter: u8,
    /// GS1 company prefix, 6 to 12 digits.
    pub company_prefix: Digits,
    /// Extension digit plus serial reference; 17 digits together with the company prefix.
    pub serial_ref: Digits,
}

/// SGLN-96: a physical location, with a numeric extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sgln96 {
    /// Filter value 0..=7.
    pub filter: u8,
    /// GS1 company prefix, 6 to 12 digits.
    pub company_prefix: Digits,
    /// Location reference; 12 digits together with the company prefix (none at partition 0).
    pub location_ref: Digits,
    /// Extension, 41 bits, written without leading zeros.
    pub extension: u64,
}

/// GRAI-96: a returnable asset (crate, pallet, roll cage) of an asset type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grai96 {
    /// Filter value 0..=7.
    pub filter: u8,
    /// GS1 company prefix, 6 to 12 digits.
    pub company_prefix: Digits,
    /// Asset type; 12 digits together with the company prefix (none at partition 0).
    pub asset_type: Digits,
    /// Serial, 38 bits.
    pub serial: u64,
}

/// GIAI-96: an individual asset (fixture, reader, tool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Giai96 {
    /// Filter value 0..=7.
    pub filter: u8,
    /// GS1 company prefix, 6 to 12 digits.
    pub company_prefix: Digits,
    /// Individual asset reference, written without leading zeros (at most 25 − prefix digits).
    pub asset_ref: u64,
}

/// GID-96: the general identifier, with no GS1 company prefix, filter or partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gid96 {
    /// General manager number, 28 bits.
    pub manager: u32,
    /// Object class, 24 bits.
    pub object_class: u32,
    /// Serial, 36 bits.
    pub serial: u64,
}

/// GDTI-96: a document of a document type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gdti96 {
    /// Filter value 0..=7.
    pub filter: u8,
    /// GS1 company prefix, 6 to 12 digits.
    pub company_prefix: Digits,
    /// Document type; 12 digits together with the company prefix (none at partition 0).
    pub document_type: Digits,
    /// Serial, 41 bits.
    pub serial: u64,
}

/// GSRN-96: a service relation (loyalty card, patient). The last 24 bits are reserved and not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gsrn96 {
    /// Filter value 0..=7.
    pub filter: u8,
    /// GS1 company prefix, 6 to 12 digits.
    pub company_prefix: Digits,
    /// Service reference; 17 digits together with the company prefix.
    pub service_ref: Digits,
}

/// Filter, company prefix and the partitioned field after it, with the reader left behind them.
struct Partitioned<'a> {
    reader: BitReader<'a>,
    filter: u8,
    company_prefix: Digits,
    reference: Digits,
}

fn partitioned<'a>(
    epc: &'a [u8],
    scheme: Scheme,
    table: &Table,
    ref_field: &'static str,
) -> Result<Partitioned<'a>, DecodeError> {
    expect_scheme(epc, scheme, BITS_96)?;
    let mut reader = BitReader::at(epc, 8);
    let filter = reader.read(3).unwrap_or(0) as u8;
    let partition = reader.read(3).unwrap_or(0) as u8;
    let s = split(table, partition)?;
    let cp = reader.read(s.cp_bits).unwrap_or(0);
    let reference = reader.read(s.ref_bits).unwrap_or(0);
    Ok(Partitioned {
        filter,
        company_prefix: digits_field("company prefix", cp, s.cp_digits, partition)?,
        reference: digits_field(ref_field, reference, s.ref_digits, partition)?,
        reader,
    })
}

impl Sscc96 {
    /// Decodes the first 96 bits of `epc` as an SSCC-96.
    pub fn decode(epc: &[u8]) -> Result<Sscc96, DecodeError> {
        let p = partitioned(epc, Scheme::SSCC_96, &SSCC_GSRN, "serial reference")?;
        Ok(Sscc96 {
            filter: p.filter,
            company_prefix: p.company_prefix,
            serial_ref: p.reference,
        })
    }
}

impl Sgln96 {
    /// Decodes the first 96 bits of `epc` as an SGLN-96.
    pub fn decode(epc: &[u8]) -> Result<Sgln96, DecodeError> {
        let mut p = partitioned(epc, Scheme::SGLN_96, &SGLN_GDTI, "location reference")?;
        Ok(Sgln96 {
            filter: p.filter,
            company_prefix: p.company_prefix,
            location_ref: p.reference,
            extension: p.reader.read(41).unwrap_or(0),
        })
    }
}

impl Grai96 {
    /// Decodes the first 96 bits of `epc` as a GRAI-96.
    pub fn decode(epc: &[u8]) -> Result<Grai96, DecodeError> {
        let mut p = partitioned(epc, Scheme::GRAI_96, &GRAI, "asset type")?;
        Ok(Grai96 {
            filter: p.filter,
            company_prefix: p.company_prefix,
            asset_type: p.reference,
            serial: p.reader.read(38).unwrap_or(0),
        })
    }
}

impl Giai96 {
    /// Decodes the first 96 bits of `epc` as a GIAI-96.
    pub fn decode(epc: &[u8]) -> Result<Giai96, DecodeError> {
        let p = partitioned(epc, Scheme::GIAI_96, &GIAI, "asset reference")?;
        Ok(Giai96 {
            filter: p.filter,
            company_prefix: p.company_prefix,
            asset_ref: p.reference.value(),
        })
    }
}

impl Gid96 {
    /// Decodes the first 96 bits of `epc` as a GID-96.
    pub fn decode(epc: &[u8]) -> Result<Gid96, DecodeError> {
        expect_scheme(epc, Scheme::GID_96, BITS_96)?;
        let mut r = BitReader::at(epc, 8);
        Ok(Gid96 {
            manager: r.read(28).unwrap_or(0) as u32,
            object_class: r.read(24).unwrap_or(0) as u32,
            serial: r.read(36).unwrap_or(0),
        })
    }
}

impl Gdti96 {
    /// Decodes the first 96 bits of `epc` as a GDTI-96.
    pub fn decode(epc: &[u8]) -> Result<Gdti96, DecodeError> {
        let mut p = partitioned(epc, Scheme::GDTI_96, &SGLN_GDTI, "document type")?;
        Ok(Gdti96 {
            filter: p.filter,
            company_prefix: p.company_prefix,
            document_type: p.reference,
            serial: p.reader.read(41).unwrap_or(0),
        })
    }
}

impl Gsrn96 {
    /// Decodes the first 96 bits of `epc` as a GSRN-96.
    pub fn decode(epc: &[u8]) -> Result<Gsrn96, DecodeError> {
        let p = partitioned(epc, Scheme::GSRN_96, &SSCC_GSRN, "service reference")?;
        Ok(Gsrn96 {
            filter: p.filter,
            company_prefix: p.company_prefix,
            service_ref: p.reference,
        })
    }
}

impl Gs1Identity for Sscc96 {
    fn scheme(&self) -> Scheme {
        Scheme::SSCC_96
    }
    fn filter(&self) -> Option<u8> {
        Some(self.filter)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("company_prefix", self.company_prefix.to_string()),
            ("serial_ref", self.serial_ref.to_string()),
        ]
    }
    fn class_len(&self) -> usize {
        1
    }
}

impl Gs1Identity for Sgln96 {
    fn scheme(&self) -> Scheme {
        Scheme::SGLN_96
    }
    fn filter(&self) -> Option<u8> {
        Some(self.filter)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("company_prefix", self.company_prefix.to_string()),
            ("location_ref", self.location_ref.to_string()),
            ("extension", self.extension.to_string()),
        ]
    }
    fn class_len(&self) -> usize {
        2
    }
}

impl Gs1Identity for Grai96 {
    fn scheme(&self) -> Scheme {
        Scheme::GRAI_96
    }
    fn filter(&self) -> Option<u8> {
        Some(self.filter)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("company_prefix", self.company_prefix.to_string()),
            ("asset_type", self.asset_type.to_string()),
            ("serial", self.serial.to_string()),
        ]
    }
    fn class_len(&self) -> usize {
        2
    }
}

impl Gs1Identity for Giai96 {
    fn scheme(&self) -> Scheme {
        Scheme::GIAI_96
    }
    fn filter(&self) -> Option<u8> {
        Some(self.filter)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("company_prefix", self.company_prefix.to_string()),
            ("asset_ref", self.asset_ref.to_string()),
        ]
    }
    fn class_len(&self) -> usize {
        1
    }
}

impl Gs1Identity for Gid96 {
    fn scheme(&self) -> Scheme {
        Scheme::GID_96
    }
    fn filter(&self) -> Option<u8> {
        None
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("manager", self.manager.to_string()),
            ("object_class", self.object_class.to_string()),
            ("serial", self.serial.to_string()),
        ]
    }
    fn class_len(&self) -> usize {
        2
    }
}

impl Gs1Identity for Gdti96 {
    fn scheme(&self) -> Scheme {
        Scheme::GDTI_96
    }
    fn filter(&self) -> Option<u8> {
        Some(self.filter)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("company_prefix", self.company_prefix.to_string()),
            ("document_type", self.document_type.to_string()),
            ("serial", self.serial.to_string()),
        ]
    }
    fn class_len(&self) -> usize {
        2
    }
}

impl Gs1Identity for Gsrn96 {
    fn scheme(&self) -> Scheme {
        Scheme::GSRN_96
    }
    fn filter(&self) -> Option<u8> {
        Some(self.filter)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("company_prefix", self.company_prefix.to_string()),
            ("service_ref", self.service_ref.to_string()),
        ]
    }
    fn class_len(&self) -> usize {
        1
    }
}
