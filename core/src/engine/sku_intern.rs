//! SKU classification and interning: every distinct SKU string gets a small index once, so the hot path never touches strings.
//!
//! SPEC §3: GTIN-14 for SGTIN tags, the pure-identity class for other GS1 schemes, the first matching
//! `[[sku-map]]` prefix for EPCs of no GS1 scheme, else `unknown`. GTINs are interned by their integer value,
//! so classifying an SGTIN-96 of an already seen GTIN allocates nothing.

use std::collections::HashMap;
use std::sync::Arc;

use tagtally_protocol::epc::Sku;

use super::config::{EngineConfigError, SkuPrefix};

/// The SKU of EPCs that match no rule.
pub const UNKNOWN_SKU: &str = "unknown";

/// An EPC prefix of whole bytes plus an optional high half byte.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EpcPrefix {
    bytes: Vec<u8>,
    half: Option<u8>,
}

impl EpcPrefix {
    fn parse(hex: &str) -> Option<Self> {
        let nibbles: Vec<u8> = hex
            .chars()
            .map(|c| c.to_digit(16).map(|d| d as u8))
            .collect::<Option<_>>()?;
        if nibbles.is_empty() {
            return None;
        }
        let bytes = nibbles.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect();
        let half = (nibbles.len() % 2 == 1).then(|| nibbles[nibbles.len() - 1]);
        Some(Self { bytes, half })
    }

    fn matches(&self, epc: &[u8]) -> bool {
        if !epc.starts_with(&self.bytes) {
            return false;
        }
        match self.half {
            None => true,
            Some(h) => epc.get(self.bytes.len()).is_some_and(|b| b >> 4 == h),
        }
    }
}

/// Interned SKU strings and the classification rules.
#[derive(Clone, Debug)]
pub struct SkuInterner {
    names: Vec<Arc<str>>,
    by_name: HashMap<Arc<str>, u32, hashbrown::DefaultHashBuilder>,
    by_gtin: HashMap<u64, u32, hashbrown::DefaultHashBuilder>,
    prefixes: Vec<(EpcPrefix, u32)>,
    unknown: u32,
}

impl SkuInterner {
    /// The interner for a config's `[[sku-map]]`.
    pub fn new(sku_map: &[SkuPrefix]) -> Result<Self, EngineConfigError> {
        let mut interner = Self {
            names: Vec::new(),
            by_name: HashMap::default(),
            by_gtin: HashMap::default(),
            prefixes: Vec::new(),
            unknown: 0,
        };
        interner.unknown = interner.intern_name(UNKNOWN_SKU);
        for entry in sku_map {
            let prefix = EpcPrefix::parse(&entry.epc_prefix).ok_or_else(|| {
                EngineConfigError::BadSkuPrefix {
                    prefix: entry.epc_prefix.clone(),
                }
            })?;
            let sku = interner.intern_name(&entry.sku);
            interner.prefixes.push((prefix, sku));
        }
        Ok(interner)
    }

    /// The SKU index of an EPC (the slow path of a first sighting).
    pub fn classify(&mut self, epc: &[u8]) -> u32 {
        match tagtally_protocol::epc::sku(epc) {
            Sku::Gtin(gtin) => self.intern_gtin(gtin.as_u64()),
            Sku::Class(class) => self.intern_name(&class),
            Sku::Unresolved => self.unresolved(epc),
        }
    }

    /// The SKU of an EPC that decodes as no GS1 identity: the prefix map, else `unknown`.
    fn unresolved(&self, epc: &[u8]) -> u32 {
        self.prefixes
            .iter()
            .find(|(p, _)| p.matches(epc))
            .map_or(self.unknown, |&(_, sku)| sku)
    }

    /// The index of a GTIN-14 given as its integer value.
    pub fn intern_gtin(&mut self, gtin: u64) -> u32 {
        if let Some(&id) = self.by_gtin.get(&gtin) {
            return id;
        }
        let id = self.intern_name(&format!("{gtin:014}"));
        self.by_gtin.insert(gtin, id);
        id
    }

    /// The index of a SKU string.
    pub fn intern_name(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        // More than 4 billion distinct SKUs cannot come from a store's tags; saturating keeps this panic-free.
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let name: Arc<str> = name.into();
        self.names.push(name.clone());
        self.by_name.insert(name, id);
        id
    }

    /// The string of an index; `unknown` for an index never handed out.
    pub fn name(&self, id: u32) -> &Arc<str> {
        let fallback = &self.names[self.unknown as usize];
        self.names.get(id as usize).unwrap_or(fallback)
    }

    /// The index of a SKU string, if it was ever interned.
    pub fn lookup(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(prefix: &str, sku: &str) -> SkuPrefix {
        SkuPrefix {
            epc_prefix: prefix.into(),
            sku: sku.into(),
        }
    }

    #[test]
    fn prefix_map_then_unknown() {
        let mut i = SkuInterner::new(&[map("E28011", "legacy"), map("E2A", "half")]).unwrap();
        let legacy = i.classify(&[0xE2, 0x80, 0x11, 0x60]);
        assert_eq!(&**i.name(legacy), "legacy");
        let half = i.classify(&[0xE2, 0xAF]);
        assert_eq!(&**i.name(half), "half");
        let unknown = i.classify(&[0xE2, 0xB0]);
        assert_eq!(&**i.name(unknown), "unknown");
        assert_eq!(i.classify(&[0xE2]), unknown, "too short for the half byte");
    }

    #[test]
    fn gs1_tags_get_their_gtin_or_class() {
        let mut i = SkuInterner::new(&[map("30", "never used for gs1")]).unwrap();
        // SGTIN-96 from TDS: urn:epc:tag:sgtin-96:3.0614141.812345.6789
        let sgtin = [
            0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
        ];
        let id = i.classify(&sgtin);
        assert_eq!(&**i.name(id), "80614141123458");
        assert_eq!(i.classify(&sgtin), id);
    }

    #[test]
    fn gtin_and_its_string_are_one_sku() {
        let mut i = SkuInterner::new(&[]).unwrap();
        let a = i.intern_gtin(614141123452);
        assert_eq!(&**i.name(a), "00614141123452");
        assert_eq!(i.intern_name("00614141123452"), a);
        assert_eq!(i.intern_gtin(614141123452), a);
    }

    #[test]
    fn bad_prefix_is_rejected() {
        assert_eq!(
            SkuInterner::new(&[map("XYZ", "x")]).unwrap_err(),
            EngineConfigError::BadSkuPrefix {
                prefix: "XYZ".into()
            }
        );
    }
}
