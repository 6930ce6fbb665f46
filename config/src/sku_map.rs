//! `[[sku-map]]`: SKUs for EPCs that decode as no GS1 scheme, by hex prefix (SPEC §3).

use crate::error::ConfigProblem;
use serde::Deserialize;
use toml::Spanned;

/// Longest prefix: a whole 496-bit EPC is 124 hex digits.
pub const MAX_EPC_PREFIX_DIGITS: usize = 124;
/// Longest SKU text accepted.
pub const MAX_SKU_LEN: usize = 128;

/// EPCs starting with `epc_prefix` count under `sku`. When prefixes overlap, the longest match
/// is meant to win (the engine's rule; the config only refuses exact duplicates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuMapping {
    /// Upper-case hex digits; an odd count matches on a half byte.
    pub epc_prefix: String,
    /// The SKU reported for those EPCs.
    pub sku: String,
}

/// One `[[sku-map]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct SkuMapSpec {
    pub epc_prefix: Spanned<String>,
    pub sku: Spanned<String>,
}

/// Checks an `epc-prefix` and returns it in upper case.
pub(crate) fn normalize_epc_prefix(prefix: &str) -> Result<String, ConfigProblem> {
    let reason = if prefix.is_empty() {
        Some("it is empty")
    } else if prefix.len() > MAX_EPC_PREFIX_DIGITS {
        Some("it is longer than the 124 hex digits of a 496-bit EPC")
    } else if !prefix.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Some("it is not hex (0-9, a-f)")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ConfigProblem::BadEpcPrefix {
            prefix: prefix.to_owned(),
            reason,
        }),
        None => Ok(prefix.to_ascii_uppercase()),
    }
}

/// Checks an `sku`: something HQ can store and show.
pub(crate) fn check_sku(sku: &str) -> Result<(), ConfigProblem> {
    let reason = if sku.trim().is_empty() {
        Some("it is empty")
    } else if sku.chars().count() > MAX_SKU_LEN {
        Some("it is longer than 128 characters")
    } else if sku.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ConfigProblem::BadSku {
            sku: sku.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_prefixes_are_upper_cased() {
        assert_eq!(normalize_epc_prefix("e2801160").unwrap(), "E2801160");
        assert_eq!(normalize_epc_prefix("E28").unwrap(), "E28");
    }

    #[test]
    fn non_hex_empty_and_overlong_prefixes_are_refused() {
        for prefix in ["", "E280XYZ", "0xE2", "E2 80", &"A".repeat(125)] {
            assert!(
                matches!(
                    normalize_epc_prefix(prefix),
                    Err(ConfigProblem::BadEpcPrefix { .. })
                ),
                "{prefix:?}"
            );
        }
        assert!(normalize_epc_prefix(&"A".repeat(124)).is_ok());
    }

    #[test]
    fn skus_must_be_printable_and_short() {
        assert!(check_sku("legacy-unknown-brand").is_ok());
        for sku in ["", "  ", "a\nb", &"s".repeat(129)] {
            assert!(
                matches!(check_sku(sku), Err(ConfigProblem::BadSku { .. })),
                "{sku:?}"
            );
        }
    }
}
