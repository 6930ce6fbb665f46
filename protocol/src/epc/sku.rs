//! The SKU rule of SPEC §3, with an allocation-free path for SGTIN-96 (the first-sighting hot path).

use super::decoded::decode_as;
use super::gtin::Gtin14;
use super::header::Scheme;
use super::plus::decode_plus;
use super::sgtin::Sgtin96;
use std::fmt;

/// What a tag counts as.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sku {
    /// SGTIN-96, SGTIN-198, SGTIN+ and DSGTIN+: the trade item's GTIN-14.
    Gtin(Gtin14),
    /// Other decoded GS1 schemes: the pure-identity class pattern (`urn:epc:idpat:grai:0614141.12345.*`),
    /// or for '+' schemes the Digital Link URI of the primary key (`https://id.gs1.org/8003/<GRAI>`).
    Class(String),
    /// No decodable GS1 identity: the caller applies its `[[sku-map]]`, else counts it as `unknown`.
    Unresolved,
}

impl fmt::Display for Sku {
    /// The SKU string of SPEC §3; `Unresolved` shows as `unknown`, the value when no prefix map applies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sku::Gtin(gtin) => gtin.fmt(f),
            Sku::Class(class) => f.write_str(class),
            Sku::Unresolved => f.write_str("unknown"),
        }
    }
}

/// The SKU of an EPC. Equal to `decode(epc).sku()`; for SGTIN-96 it allocates nothing.
#[inline]
pub fn sku(epc: &[u8]) -> Sku {
    if epc.first() == Some(&Scheme::SGTIN_96.header()) {
        return match Sgtin96::decode(epc) {
            Ok(sgtin) => Sku::Gtin(sgtin.gtin()),
            Err(_) => Sku::Unresolved,
        };
    }
    let Some(scheme) = epc.first().copied().and_then(Scheme::from_header) else {
        return Sku::Unresolved;
    };
    match decode_as(scheme, epc) {
        Some(Ok(decoded)) => decoded.sku(),
        Some(Err(_)) => Sku::Unresolved,
        None => match decode_plus(scheme, epc) {
            Some(Ok(decoded)) => decoded.sku(),
            Some(Err(_)) | None => Sku::Unresolved,
        },
    }
}
