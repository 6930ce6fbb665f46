//! `readPoint` and `bizLocation` identifiers: SGLNs under the store's GLN when it has one (GS1's
//! identifiers for locations), `urn:tagtally:` URNs otherwise.
//!
//! With a GLN (company prefix and location reference), a zone is the SGLN extension `<zone>` and an
//! antenna the extension `<reader>:<antenna>`, e.g. `urn:epc:id:sgln:0614141.00777.floor` and
//! `urn:epc:id:sgln:0614141.00777.ceiling-1:2`. An SGLN extension holds at most 20 characters, so a
//! longer zone or reader name is an error here (and a configuration error before it gets here).
//! Without one: `urn:tagtally:<store>:zone:<zone>` and `urn:tagtally:<store>:reader:<reader>:<antenna>`.

use std::fmt;
use std::str::FromStr;
use tagtally_protocol::epc::{FieldError, Gs1Epc, Scheme};
use thiserror::Error;

/// The store's Global Location Number as an SGLN without extension: company prefix and location
/// reference, 12 digits together (`0614141.00777`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreGln {
    company_prefix: String,
    location_ref: String,
}

/// A location that cannot be written as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocationError {
    /// Not `<company prefix>.<location reference>`.
    #[error("gln {0:?} is not <company prefix>.<location reference>")]
    GlnForm(String),
    /// The digits break an SGLN rule, or a zone or antenna does not fit an SGLN extension.
    #[error("{what}: {source}")]
    Sgln {
        /// What was being written.
        what: String,
        /// The SGLN rule it breaks.
        #[source]
        source: FieldError,
    },
}

impl FromStr for StoreGln {
    type Err = LocationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (company_prefix, location_ref) = text
            .split_once('.')
            .ok_or_else(|| LocationError::GlnForm(text.to_owned()))?;
        let gln = StoreGln {
            company_prefix: company_prefix.to_owned(),
            location_ref: location_ref.to_owned(),
        };
        // The same rules as every SGLN: 6-12 digit prefix, 12 digits in all.
        gln.sgln("0", text)?;
        Ok(gln)
    }
}

impl StoreGln {
    fn sgln(&self, extension: &str, what: &str) -> Result<Gs1Epc, LocationError> {
        let fields = vec![
            self.company_prefix.clone(),
            self.location_ref.clone(),
            extension.to_owned(),
        ];
        // SGLN-195 carries a text extension of up to 20 characters of GS1 set 82.
        Gs1Epc::new(Scheme::SGLN_195, Some(0), fields).map_err(|source| LocationError::Sgln {
            what: what.to_owned(),
            source,
        })
    }
}

impl fmt::Display for StoreGln {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.company_prefix, self.location_ref)
    }
}

/// An EPCIS location identifier: the URI events carry, and the form event hashes compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The identifier in the event (`urn:epc:id:sgln:…` or `urn:tagtally:…`).
    pub uri: String,
    /// The identifier as the CBV 2.0 hash canonicalises it (GS1 Digital Link for SGLNs).
    pub canonical: String,
}

/// How a store names its locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locations {
    /// Under the store's GLN.
    Gln(StoreGln),
    /// Under the store's name.
    Urn {
        /// The store name (`[a-z0-9_-]`, SPEC §4).
        store: String,
    },
}

impl Locations {
    /// `bizLocation` of a zone.
    pub fn zone(&self, zone: &str) -> Result<Location, LocationError> {
        match self {
            Locations::Gln(gln) => sgln_location(gln, zone, &format!("zone {zone}")),
            Locations::Urn { store } => Ok(plain(format!("urn:tagtally:{store}:zone:{zone}"))),
        }
    }

    /// `readPoint` of a reader's antenna.
    pub fn antenna(&self, reader: &str, antenna: u16) -> Result<Location, LocationError> {
        match self {
            Locations::Gln(gln) => sgln_location(
                gln,
                &format!("{reader}:{antenna}"),
                &format!("reader {reader} antenna {antenna}"),
            ),
            Locations::Urn { store } => Ok(plain(format!(
                "urn:tagtally:{store}:reader:{reader}:{antenna}"
            ))),
        }
    }
}

fn sgln_location(gln: &StoreGln, extension: &str, what: &str) -> Result<Location, LocationError> {
    let sgln = gln.sgln(extension, what)?;
    let uri = sgln.pure_identity();
    let canonical = sgln.digital_link().unwrap_or_else(|| uri.clone());
    Ok(Location { uri, canonical })
}

fn plain(uri: String) -> Location {
    Location {
        canonical: uri.clone(),
        uri,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgln_locations_and_their_digital_links() {
        let gln: StoreGln = "0614141.00777".parse().expect("gln");
        let locations = Locations::Gln(gln);
        let zone = locations.zone("floor").expect("zone");
        assert_eq!(zone.uri, "urn:epc:id:sgln:0614141.00777.floor");
        assert_eq!(
            zone.canonical,
            "https://id.gs1.org/414/0614141007776/254/floor"
        );
        let antenna = locations.antenna("ceiling-1", 2).expect("antenna");
        assert_eq!(antenna.uri, "urn:epc:id:sgln:0614141.00777.ceiling-1:2");
        assert_eq!(
            antenna.canonical,
            "https://id.gs1.org/414/0614141007776/254/ceiling-1%3A2"
        );
        assert!(locations.zone("a-zone-name-longer-than-20").is_err());
    }

    #[test]
    fn bad_glns_are_refused() {
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

    #[test]
    fn urn_locations() {
        let locations = Locations::Urn {
            store: "paris-01".into(),
        };
        assert_eq!(
            locations.antenna("till", 1).expect("urn").uri,
            "urn:tagtally:paris-01:reader:till:1"
        );
        assert_eq!(
            locations.zone("floor").expect("urn").canonical,
            "urn:tagtally:paris-01:zone:floor"
        );
    }
}
