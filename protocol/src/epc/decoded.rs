//! Full decoding of any EPC bit string into a GS1 identity, a recognised-only scheme, `invalid` or `unknown`.

use super::error::DecodeError;
use super::gtin::Gtin14;
use super::header::Scheme;
use super::identity::Gs1Identity;
use super::schemes::{Gdti96, Giai96, Gid96, Grai96, Gsrn96, Sgln96, Sscc96};
use super::sgtin::{Sgtin198, Sgtin96};
use super::sku::Sku;
use super::uri::raw_uri;

/// A fully decoded GS1 EPC of one of the schemes this crate decodes field by field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Epc {
    /// SGTIN-96.
    Sgtin96(Sgtin96),
    /// SGTIN-198.
    Sgtin198(Sgtin198),
    /// SSCC-96.
    Sscc96(Sscc96),
    /// SGLN-96.
    Sgln96(Sgln96),
    /// GRAI-96.
    Grai96(Grai96),
    /// GIAI-96.
    Giai96(Giai96),
    /// GID-96.
    Gid96(Gid96),
    /// GDTI-96.
    Gdti96(Gdti96),
    /// GSRN-96.
    Gsrn96(Gsrn96),
}

impl Epc {
    /// Decodes `epc` as `scheme`; `None` when `scheme` is one this crate only recognises by name.
    pub fn decode_as(scheme: Scheme, epc: &[u8]) -> Option<Result<Epc, DecodeError>> {
        Some(match scheme {
            Scheme::SGTIN_96 => Sgtin96::decode(epc).map(Epc::Sgtin96),
            Scheme::SGTIN_198 => Sgtin198::decode(epc).map(Epc::Sgtin198),
            Scheme::SSCC_96 => Sscc96::decode(epc).map(Epc::Sscc96),
            Scheme::SGLN_96 => Sgln96::decode(epc).map(Epc::Sgln96),
            Scheme::GRAI_96 => Grai96::decode(epc).map(Epc::Grai96),
            Scheme::GIAI_96 => Giai96::decode(epc).map(Epc::Giai96),
            Scheme::GID_96 => Gid96::decode(epc).map(Epc::Gid96),
            Scheme::GDTI_96 => Gdti96::decode(epc).map(Epc::Gdti96),
            Scheme::GSRN_96 => Gsrn96::decode(epc).map(Epc::Gsrn96),
            _ => return None,
        })
    }

    /// The identity behind the variant, for its fields and URIs.
    pub fn identity(&self) -> &dyn Gs1Identity {
        match self {
            Epc::Sgtin96(e) => e,
            Epc::Sgtin198(e) => e,
            Epc::Sscc96(e) => e,
            Epc::Sgln96(e) => e,
            Epc::Grai96(e) => e,
            Epc::Giai96(e) => e,
            Epc::Gid96(e) => e,
            Epc::Gdti96(e) => e,
            Epc::Gsrn96(e) => e,
        }
    }

    /// The GTIN-14, for SGTINs.
    pub fn gtin(&self) -> Option<Gtin14> {
        match self {
            Epc::Sgtin96(e) => Some(e.gtin()),
            Epc::Sgtin198(e) => Some(e.gtin()),
            _ => None,
        }
    }

    /// The SKU rule of SPEC §3: the GTIN for SGTINs, the class pattern for every other scheme.
    pub fn sku(&self) -> Sku {
        match self.gtin() {
            Some(gtin) => Sku::Gtin(gtin),
            None => Sku::Class(self.identity().class_pattern()),
        }
    }
}

/// What an EPC turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A GS1 identity, decoded field by field.
    Gs1(Epc),
    /// A TDS header this crate names but does not decode (`sgtin+`, `grai-170`, ...).
    Recognised(Scheme),
    /// The header claims `scheme` but the fields are not a valid encoding of it.
    Invalid {
        /// The scheme the header claims.
        scheme: Scheme,
        /// Why the fields are invalid.
        error: DecodeError,
    },
    /// No TDS header: a factory default (`E280…`), a proprietary EPC, or nothing at all.
    Unknown,
}

/// The decoding of one EPC, for people and tools (allocates; the counting path uses [`super::sku`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Length of the EPC in bits (bytes × 8).
    pub bits: usize,
    /// `urn:epc:raw:<bits>.x<HEX>`, the URI of the bits whatever they encode.
    pub raw_uri: String,
    /// What the bits are.
    pub kind: Kind,
}

/// One value of [`Decoded::report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportValue {
    /// An integer (`bits`, `filter`).
    Number(u64),
    /// Text (every other field, including numeric identifiers whose leading zeros matter).
    Text(String),
}

impl Decoded {
    /// The `scheme` of SPEC §5.1: the TDS name, `invalid` or `unknown`.
    pub fn scheme_name(&self) -> &'static str {
        match &self.kind {
            Kind::Gs1(epc) => epc.identity().scheme().name(),
            Kind::Recognised(scheme) => scheme.name(),
            Kind::Invalid { .. } => "invalid",
            Kind::Unknown => "unknown",
        }
    }

    /// Same as [`super::sku`] on the same bytes.
    pub fn sku(&self) -> Sku {
        match &self.kind {
            Kind::Gs1(epc) => epc.sku(),
            _ => Sku::Unresolved,
        }
    }

    /// The fields of SPEC §5.1 in display order (without `epc`, which is the caller's input):
    /// `bits`, `scheme`, then `filter`, the scheme's fields, `gtin`, `tag_uri`, `pure_identity`, `sku`
    /// for GS1 identities; `error` for invalid ones. EPCs with no decoded identity get the raw URI as
    /// `tag_uri` and `sku` `unknown` (what the daemon counts them as when no `[[sku-map]]` matches).
    pub fn report(&self) -> Vec<(&'static str, ReportValue)> {
        use ReportValue::{Number, Text};
        let mut out = vec![
            ("bits", Number(self.bits as u64)),
            ("scheme", Text(self.scheme_name().to_owned())),
        ];
        match &self.kind {
            Kind::Gs1(epc) => {
                let id = epc.identity();
                if let Some(filter) = id.filter() {
                    out.push(("filter", Number(u64::from(filter))));
                }
                out.extend(id.fields().into_iter().map(|(k, v)| (k, Text(v))));
                if let Some(gtin) = epc.gtin() {
                    out.push(("gtin", Text(gtin.to_string())));
                }
                out.push(("tag_uri", Text(id.tag_uri())));
                out.push(("pure_identity", Text(id.pure_identity())));
            }
            Kind::Invalid { scheme, error } => {
                out.push(("error", Text(format!("{scheme}: {error}"))));
                out.push(("tag_uri", Text(self.raw_uri.clone())));
            }
            Kind::Recognised(_) | Kind::Unknown => {
                out.push(("tag_uri", Text(self.raw_uri.clone())));
            }
        }
        out.push(("sku", Text(self.sku().to_string())));
        out
    }
}

/// Decodes any EPC bit string (bits = `epc.len()` × 8). Never panics; bits beyond a scheme's fixed
/// length (a 96-bit scheme in a 128-bit EPC bank, SGTIN-198's word padding) are ignored.
pub fn decode(epc: &[u8]) -> Decoded {
    let kind = match epc.first().copied().and_then(Scheme::from_header) {
        None => Kind::Unknown,
        Some(scheme) => match Epc::decode_as(scheme, epc) {
            None => Kind::Recognised(scheme),
            Some(Ok(decoded)) => Kind::Gs1(decoded),
            Some(Err(error)) => Kind::Invalid { scheme, error },
        },
    };
    Decoded {
        bits: epc.len().saturating_mul(8),
        raw_uri: raw_uri(epc),
        kind,
    }
}
