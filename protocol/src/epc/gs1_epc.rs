//! A decoded GS1 EPC of any scheme with a layout: validated field values, their URIs, GTIN and SKU class.
//!
//! The value is the meaning of the bits (smoltcp's `Repr`): [`Gs1Epc::new`] checks field values against
//! the scheme's layout, [`Gs1Epc::emit`] writes them as bits, and decoding (`parse.rs`) reads bits back
//! into values and hands them to the same checks, so one rule set decides what is valid both ways.

use super::chars::escape;
use super::digits::Digits;
use super::error::FieldError;
use super::gtin::Gtin14;
use super::header::Scheme;
use super::layout::{layout_of, Layout, Segment};
use super::sgtin::gtin_of;
use super::sku::Sku;
use super::validate::validate;

/// A GS1 identity of one scheme: its filter and its fields as text (unescaped, leading zeros as the
/// URI writes them). Only valid combinations exist as values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gs1Epc {
    scheme: Scheme,
    filter: Option<u8>,
    fields: Vec<String>,
}

impl Gs1Epc {
    /// The identity of `scheme` with `filter` (`None` only for GID-96) and `fields` in URI order
    /// (for SGTIN-96: company prefix, item reference, serial), if they are a valid encoding.
    pub fn new(
        scheme: Scheme,
        filter: Option<u8>,
        fields: Vec<String>,
    ) -> Result<Gs1Epc, FieldError> {
        let layout = layout_of(scheme).ok_or(FieldError::Unsupported(scheme.name()))?;
        validate(scheme, &layout, filter, &fields)?;
        Ok(Gs1Epc {
            scheme,
            filter,
            fields,
        })
    }

    fn layout(&self) -> Layout {
        // `new` refused schemes without a layout, so the fallback (no segments) is never taken.
        layout_of(self.scheme).unwrap_or(Layout {
            filter_bits: 0,
            segments: &[],
            class_fields: 0,
        })
    }

    /// The TDS scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The filter value, for schemes that have one (all but GID-96).
    pub fn filter(&self) -> Option<u8> {
        self.filter
    }

    /// `(name, value)` of every field in URI order (`company_prefix`, `item_ref`, `serial`, ...), unescaped.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        let mut names = Vec::with_capacity(self.fields.len());
        for segment in self.layout().segments {
            match *segment {
                Segment::Partitioned { name, .. } => names.extend(["company_prefix", name]),
                Segment::Integer { name, .. }
                | Segment::FixedDigits { name, .. }
                | Segment::NumericString { name, .. }
                | Segment::String7 { name, .. }
                | Segment::String6 { name, .. }
                | Segment::Cage { name, .. } => names.push(name),
                Segment::Reserved { .. } => {}
            }
        }
        names
            .into_iter()
            .zip(self.fields.iter().map(String::as_str))
            .collect()
    }

    /// The value of field `name`, unescaped.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields()
            .into_iter()
            .find_map(|(n, v)| (n == name).then_some(v))
    }

    pub(crate) fn values(&self) -> &[String] {
        &self.fields
    }

    fn components(&self, count: usize) -> Vec<String> {
        self.fields.iter().take(count).map(|f| escape(f)).collect()
    }

    /// `urn:epc:id:<type>:<fields>`; the filter is not part of the identity.
    pub fn pure_identity(&self) -> String {
        format!(
            "urn:epc:id:{}:{}",
            self.scheme.identity_type(),
            self.components(usize::MAX).join(".")
        )
    }

    /// `urn:epc:tag:<scheme>:[<filter>.]<fields>`.
    pub fn tag_uri(&self) -> String {
        let body = self.components(usize::MAX).join(".");
        match self.filter {
            Some(filter) => format!("urn:epc:tag:{}:{filter}.{body}", self.scheme),
            None => format!("urn:epc:tag:{}:{body}", self.scheme),
        }
    }

    /// `urn:epc:idpat:<type>:<class fields>.*`: every instance of the class (the SKU rule, module doc).
    pub fn class_pattern(&self) -> String {
        let mut parts = self.components(self.layout().class_fields);
        parts.push("*".to_owned());
        format!(
            "urn:epc:idpat:{}:{}",
            self.scheme.identity_type(),
            parts.join(".")
        )
    }

    /// The GTIN-14, for SGTINs.
    pub fn gtin(&self) -> Option<Gtin14> {
        if self.scheme.identity_type() != "sgtin" {
            return None;
        }
        let digits =
            |text: &String| Digits::new(text.parse().ok()?, u8::try_from(text.len()).ok()?);
        let company_prefix = digits(self.fields.first()?)?;
        let item_ref = digits(self.fields.get(1)?)?;
        Some(gtin_of(company_prefix, item_ref))
    }

    /// The SKU rule of SPEC §3: the GTIN for SGTINs, the class pattern for every other scheme.
    pub fn sku(&self) -> Sku {
        match self.gtin() {
            Some(gtin) => Sku::Gtin(gtin),
            None => Sku::Class(self.class_pattern()),
        }
    }
}
