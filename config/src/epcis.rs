//! `[epcis]`: GS1 EPCIS 2.0 events of the store's stock changes (SPEC §12).
//!
//! The table's presence turns the event history on (the state database keeps each committed
//! arrival, move and departure for `tagtally epcis`, within the `history-max-*` bounds); `sgln`
//! names the store's
//! Global Location Number, under which zones become SGLNs (`urn:epc:id:sgln:0614141.00777.floor`);
//! `publish = true` also sends each flush's events as EPCIS documents on the `epcis` topic.
//! An SGLN extension holds at most 20 characters of GS1's character set, so with `sgln` every zone
//! name must fit one; that is checked here, at the zone.

use serde::Deserialize;
use std::fmt;
use std::str::FromStr;
use tagtally_protocol::epc::{FieldError, Gs1Epc, Scheme};
use toml::Spanned;

/// `[epcis]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct EpcisSpec {
    pub sgln: Option<Spanned<StoreGln>>,
    pub publish: Option<bool>,
}

/// `[epcis]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epcis {
    /// The store's GLN (`sgln`); `None` names locations `urn:tagtally:<store>:zone:<zone>`.
    pub gln: Option<StoreGln>,
    /// `publish`: each flush's events also go out on the `epcis` topic (default false).
    pub publish: bool,
}

impl EpcisSpec {
    pub(crate) fn build(&self) -> Epcis {
        Epcis {
            gln: self.sgln.as_ref().map(|gln| gln.get_ref().clone()),
            publish: self.publish.unwrap_or(false),
        }
    }
}

/// The store's Global Location Number as an SGLN without extension: company prefix and location
/// reference, 12 digits together (`0614141.00777`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct StoreGln {
    company_prefix: String,
    location_ref: String,
}

/// An `sgln` that is not a GLN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadGln {
    /// Not `<company prefix>.<location reference>`.
    #[error("sgln {0:?} is not <company prefix>.<location reference> (e.g. \"0614141.00777\")")]
    Form(String),
    /// The digits break an SGLN rule.
    #[error("sgln {text:?}: {source}")]
    Digits {
        /// As written.
        text: String,
        /// The SGLN rule it breaks.
        #[source]
        source: FieldError,
    },
}

impl FromStr for StoreGln {
    type Err = BadGln;

    fn from_str(text: &str) -> Result<Self, BadGln> {
        let (company_prefix, location_ref) = text
            .split_once('.')
            .ok_or_else(|| BadGln::Form(text.to_owned()))?;
        let gln = StoreGln {
            company_prefix: company_prefix.to_owned(),
            location_ref: location_ref.to_owned(),
        };
        // The same rules as every SGLN: 6-12 digit prefix, 12 digits in all.
        gln.sgln("0").map_err(|source| BadGln::Digits {
            text: text.to_owned(),
            source,
        })?;
        Ok(gln)
    }
}

impl TryFrom<String> for StoreGln {
    type Error = BadGln;

    fn try_from(text: String) -> Result<Self, BadGln> {
        text.parse()
    }
}

impl StoreGln {
    /// The SGLN of this GLN with `extension` (SGLN-195: up to 20 characters of GS1's set 82).
    pub fn sgln(&self, extension: &str) -> Result<Gs1Epc, FieldError> {
        let fields = vec![
            self.company_prefix.clone(),
            self.location_ref.clone(),
            extension.to_owned(),
        ];
        Gs1Epc::new(Scheme::SGLN_195, Some(0), fields)
    }
}

impl fmt::Display for StoreGln {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.company_prefix, self.location_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glns_are_checked_by_the_sgln_rules() {
        let gln: StoreGln = "0614141.00777".parse().expect("gln");
        assert_eq!(gln.to_string(), "0614141.00777");
        assert_eq!(
            gln.sgln("floor").expect("sgln").pure_identity(),
            "urn:epc:id:sgln:0614141.00777.floor"
        );
        assert!(gln.sgln("a-zone-name-longer-than-20").is_err());
        for bad in [
            "0614141",
            "0614141.0077",
            "06141.4100777",
            "0614141.0077a",
            "",
        ] {
            assert!(bad.parse::<StoreGln>().is_err(), "{bad}");
        }
    }
}
