//! What every decoded GS1 identity offers: its fields, tag URI, pure-identity URI and class pattern.

use super::header::Scheme;

/// A fully decoded GS1 EPC of one scheme. URIs are built from the same fields the tools print.
pub trait Gs1Identity {
    /// The TDS scheme it was decoded as.
    fn scheme(&self) -> Scheme;

    /// The 3-bit filter value, for schemes that have one.
    fn filter(&self) -> Option<u8>;

    /// Named fields in URI order as a person reads them (`company_prefix`, `item_ref`, `serial`, ...);
    /// text serials unescaped.
    fn fields(&self) -> Vec<(&'static str, String)>;

    /// The leading fields that identify the class rather than the instance.
    fn class_len(&self) -> usize;

    /// URI components in field order, percent-escaped where the scheme has text fields.
    fn uri_components(&self) -> Vec<String> {
        self.fields().into_iter().map(|(_, v)| v).collect()
    }

    /// `urn:epc:id:<type>:<fields>`; the filter is not part of the identity.
    fn pure_identity(&self) -> String {
        format!(
            "urn:epc:id:{}:{}",
            self.scheme().identity_type(),
            self.uri_components().join(".")
        )
    }

    /// `urn:epc:tag:<scheme>:[<filter>.]<fields>`.
    fn tag_uri(&self) -> String {
        let body = self.uri_components().join(".");
        match self.filter() {
            Some(filter) => format!("urn:epc:tag:{}:{filter}.{body}", self.scheme()),
            None => format!("urn:epc:tag:{}:{body}", self.scheme()),
        }
    }

    /// `urn:epc:idpat:<type>:<class fields>.*`: every instance of the class (module doc: the SKU rule).
    fn class_pattern(&self) -> String {
        let mut parts = self.uri_components();
        parts.truncate(self.class_len());
        parts.push("*".to_owned());
        format!(
            "urn:epc:idpat:{}:{}",
            self.scheme().identity_type(),
            parts.join(".")
        )
    }
}
