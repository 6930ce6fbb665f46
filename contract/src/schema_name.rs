//! The `schema` field of each payload as a type: it serialises to its name and parses only from it.

use std::borrow::Cow;

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};

macro_rules! schema_name {
    ($(#[$doc:meta])* $ty:ident = $name:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $ty;

        impl $ty {
            /// The schema name as it appears in the payload.
            pub const NAME: &'static str = $name;
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($name)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let found: Cow<'de, str> = Deserialize::deserialize(deserializer)?;
                if found == $name {
                    Ok($ty)
                } else {
                    Err(D::Error::custom(format!(
                        "schema {found:?} is not {:?}",
                        $name
                    )))
                }
            }
        }
    };
}

schema_name!(
    /// `tagtally.delta/1`.
    DeltaSchema = "tagtally.delta/1"
);
schema_name!(
    /// `tagtally.snapshot/2`.
    SnapshotSchema = "tagtally.snapshot/2"
);
schema_name!(
    /// `tagtally.status/2`.
    StatusSchema = "tagtally.status/2"
);
schema_name!(
    /// `tagtally.reader/1`.
    ReaderSchema = "tagtally.reader/1"
);
schema_name!(
    /// `tagtally.count/1`.
    CountSchema = "tagtally.count/1"
);
schema_name!(
    /// `tagtally.epcis/1`: an EPCIS 2.0 EPCISDocument, the name in its `tagtally:schema` term.
    EpcisSchema = "tagtally.epcis/1"
);
schema_name!(
    /// `tagtally.replenish/1`.
    ReplenishSchema = "tagtally.replenish/1"
);
schema_name!(
    /// `tagtally.expected/1`.
    ExpectedSchema = "tagtally.expected/1"
);
schema_name!(
    /// `tagtally.discrepancies/1`.
    DiscrepanciesSchema = "tagtally.discrepancies/1"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_parses_only_from_its_own_name() {
        assert_eq!(
            serde_json::to_string(&DeltaSchema).unwrap(),
            "\"tagtally.delta/1\""
        );
        assert!(serde_json::from_str::<DeltaSchema>("\"tagtally.delta/1\"").is_ok());
        let err = serde_json::from_str::<DeltaSchema>("\"tagtally.delta/2\"").unwrap_err();
        assert!(err.to_string().contains("tagtally.delta/2"), "{err}");
        assert!(serde_json::from_str::<StatusSchema>("1").is_err());
    }
}
