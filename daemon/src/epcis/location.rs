//! `readPoint` and `bizLocation` identifiers: SGLNs under the store's GLN when it has one (GS1's
//! identifiers for locations), `urn:tagtally:` URNs otherwise.
//!
//! With a GLN (company prefix and location reference), a zone is the SGLN extension `<zone>` and an
//! antenna the extension `<reader>:<antenna>`, e.g. `urn:epc:id:sgln:0614141.00777.floor` and
//! `urn:epc:id:sgln:0614141.00777.ceiling-1:2`. An SGLN extension holds at most 20 characters, so a
//! longer zone or reader name is an error here (and a configuration error before it gets here).
//! Without one: `urn:tagtally:<store>:zone:<zone>` and `urn:tagtally:<store>:reader:<reader>:<antenna>`.

use tagtally_protocol::epc::FieldError;
use thiserror::Error;

pub use tagtally_config::StoreGln;

/// A location that cannot be written as an identifier (a configuration the loader accepted
/// cannot produce one: it checks every zone against the store's GLN).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocationError {
    /// A zone or antenna does not fit an SGLN extension.
    #[error("{what}: {source}")]
    Sgln {
        /// What was being written.
        what: String,
        /// The SGLN rule it breaks.
        #[source]
        source: FieldError,
    },
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
    /// The locations of store `store`, under `gln` when it has one (`[epcis] sgln`).
    pub fn of(store: &str, gln: Option<&StoreGln>) -> Locations {
        match gln {
            Some(gln) => Locations::Gln(gln.clone()),
            None => Locations::Urn {
                store: store.to_owned(),
            },
        }
    }

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
    let sgln = gln.sgln(extension).map_err(|source| LocationError::Sgln {
        what: what.to_owned(),
        source,
    })?;
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
