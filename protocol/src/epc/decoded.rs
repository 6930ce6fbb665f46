//! Full decoding of any EPC bit string into a GS1 identity, a recognised-only scheme, `invalid` or `unknown`.

use super::error::DecodeError;
use super::gs1_epc::Gs1Epc;
use super::header::Scheme;
use super::layout::layout_of;
use super::parse::parse;
use super::plus::{decode_plus, PlusEpc};
use super::sku::Sku;
use super::uri::raw_uri;

/// Decodes `epc` as `scheme`; `None` when `scheme` is one this crate only recognises by name.
pub(crate) fn decode_as(scheme: Scheme, epc: &[u8]) -> Option<Result<Gs1Epc, DecodeError>> {
    let layout = layout_of(scheme)?;
    Some(parse(scheme, &layout, epc))
}

/// What an EPC turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A GS1 identity, decoded field by field.
    Gs1(Gs1Epc),
    /// A TDS 2.0 '+' identity (`sgtin+`, `dsgtin+`, `sscc+`, ...), decoded AI by AI.
    Plus(PlusEpc),
    /// A TDS header this crate names but does not decode (the TDS 2.3 '++' schemes, `gdti-113`).
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
            Kind::Gs1(epc) => epc.scheme().name(),
            Kind::Plus(epc) => epc.scheme().name(),
            Kind::Recognised(scheme) => scheme.name(),
            Kind::Invalid { .. } => "invalid",
            Kind::Unknown => "unknown",
        }
    }

    /// Same as [`super::sku`] on the same bytes.
    pub fn sku(&self) -> Sku {
        match &self.kind {
            Kind::Gs1(epc) => epc.sku(),
            Kind::Plus(epc) => epc.sku(),
            _ => Sku::Unresolved,
        }
    }

    /// The fields of SPEC §5.1 in display order (without `epc`, which is the caller's input):
    /// `bits`, `scheme`, then `filter`, the scheme's fields, `gtin`, `tag_uri`, `pure_identity`, `sku`
    /// for GS1 identities; for '+' identities `filter`, the AI fields (the key of SGTIN+ is `gtin`), the raw URI as
    /// `tag_uri` and `digital_link` instead of `pure_identity` (they carry no company-prefix
    /// length); `error` for invalid ones. EPCs with no decoded identity get the raw URI as
    /// `tag_uri` and `sku` `unknown` (what the daemon counts them as when no `[[sku-map]]` matches).
    pub fn report(&self) -> Vec<(&'static str, ReportValue)> {
        use ReportValue::{Number, Text};
        let mut out = vec![
            ("bits", Number(self.bits as u64)),
            ("scheme", Text(self.scheme_name().to_owned())),
        ];
        match &self.kind {
            Kind::Gs1(epc) => {
                if let Some(filter) = epc.filter() {
                    out.push(("filter", Number(u64::from(filter))));
                }
                out.extend(
                    epc.fields()
                        .into_iter()
                        .map(|(k, v)| (k, Text(v.to_owned()))),
                );
                if let Some(gtin) = epc.gtin() {
                    out.push(("gtin", Text(gtin.to_string())));
                }
                out.push(("tag_uri", Text(epc.tag_uri())));
                out.push(("pure_identity", Text(epc.pure_identity())));
            }
            Kind::Plus(epc) => {
                out.push(("filter", Number(u64::from(epc.filter()))));
                // The key field of SGTIN+ and DSGTIN+ is already named `gtin`.
                out.extend(epc.fields().into_iter().map(|(k, v)| (k, Text(v))));
                out.push(("tag_uri", Text(self.raw_uri.clone())));
                out.push(("digital_link", Text(epc.digital_link())));
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

/// Decodes any EPC bit string (bits = `epc.len()` × 8). Never panics; bits beyond a scheme's
/// length (a 96-bit scheme in a 128-bit EPC bank, SGTIN-198's word padding) are ignored.
pub fn decode(epc: &[u8]) -> Decoded {
    let kind = match epc.first().copied().and_then(Scheme::from_header) {
        None => Kind::Unknown,
        Some(scheme) => match decode_as(scheme, epc) {
            None => match decode_plus(scheme, epc) {
                None => Kind::Recognised(scheme),
                Some(Ok(decoded)) => Kind::Plus(decoded),
                Some(Err(error)) => Kind::Invalid { scheme, error },
            },
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
