//! `cmd/sale` (inbound): the till's sold tags, bounded and checked before anything departs.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::command::check_request_id;
use crate::error::ContractError;

/// Largest `cmd/sale` payload: below the 64 KiB packet the daemon announces on MQTT 5; a basket
/// of [`MAX_SALE_EPCS`] SGTIN-96 EPCs is about 27 KB.
pub const MAX_SALE_BYTES: usize = 60 * 1024;
/// Most EPCs in one `cmd/sale`: far above a basket, a bound on the work one message can cause.
pub const MAX_SALE_EPCS: usize = 1000;
/// Longest EPC in hex: 496 bits.
pub const MAX_EPC_HEX: usize = 124;

/// `cmd/sale`: `{"request_id"?,"epcs":[hex...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleCommand<'a> {
    /// For HQ's logs; the store logs it with the sale.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Cow<'a, str>>,
    /// The sold tags, hex (either case).
    #[serde(borrow)]
    pub epcs: Vec<Cow<'a, str>>,
}

/// Decodes one EPC written in hex: an even number of hex digits, 2 to [`MAX_EPC_HEX`] of them.
pub fn epc_from_hex(hex: &str) -> Result<Vec<u8>, String> {
    let hex = hex.trim();
    if hex.is_empty() || hex.len() > MAX_EPC_HEX || !hex.len().is_multiple_of(2) {
        return Err(format!(
            "an epc is an even number of hex digits, 2 to {MAX_EPC_HEX}, not {} characters",
            hex.len()
        ));
    }
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("an epc is hex digits only".to_owned());
    }
    Ok((0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect())
}

impl<'a> SaleCommand<'a> {
    /// Parses a `cmd/sale` payload: bounded in bytes and EPCs, every EPC hex. Refused whole on any
    /// problem (a till resends a refused sale; half of a basket departing would be a half-applied sale).
    pub fn parse(payload: &'a [u8]) -> Result<SaleCommand<'a>, ContractError> {
        if payload.len() > MAX_SALE_BYTES {
            return Err(ContractError::TooLarge {
                bytes: payload.len(),
                max: MAX_SALE_BYTES,
            });
        }
        let c: SaleCommand<'a> = serde_json::from_slice(payload)?;
        check_request_id(c.request_id.as_deref())?;
        if c.epcs.is_empty() || c.epcs.len() > MAX_SALE_EPCS {
            return Err(ContractError::Invalid(format!(
                "a sale carries 1 to {MAX_SALE_EPCS} epcs, not {}",
                c.epcs.len()
            )));
        }
        for (i, epc) in c.epcs.iter().enumerate() {
            epc_from_hex(epc).map_err(|e| ContractError::Invalid(format!("epcs[{i}]: {e}")))?;
        }
        Ok(c)
    }

    /// The sold EPCs as bytes (valid: [`SaleCommand::parse`] checked them).
    pub fn epc_bytes(&self) -> Vec<Vec<u8>> {
        self.epcs
            .iter()
            .filter_map(|e| epc_from_hex(e).ok())
            .collect()
    }

    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sale_is_parsed_whole_or_refused() {
        let c = SaleCommand::parse(br#"{"request_id":"till-3-881","epcs":["3074257BF7194E4000001A85","e28011600000000000000001"]}"#)
            .unwrap();
        assert_eq!(c.request_id.as_deref(), Some("till-3-881"));
        assert_eq!(c.epc_bytes()[0][..2], [0x30, 0x74]);
        assert_eq!(SaleCommand::parse(&c.encode()).unwrap(), c);
        for bad in [
            &br#"{"epcs":[]}"#[..],
            br#"{"epcs":["30g4"]}"#,
            br#"{"epcs":["307"]}"#,
            br#"{"epcs":[""]}"#,
            br#"{"epcs":"3074"}"#,
            br#"{"request_id":"","epcs":["3074"]}"#,
            b"",
            b"sold",
        ] {
            assert!(SaleCommand::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!(r#"{{"epcs":["{}"]}}"#, "ab".repeat(63));
        assert!(
            SaleCommand::parse(long.as_bytes()).is_err(),
            "126 hex digits: more than 496 bits"
        );
        let many = format!(
            r#"{{"epcs":[{}]}}"#,
            vec!["\"3074\""; MAX_SALE_EPCS + 1].join(",")
        );
        assert!(SaleCommand::parse(many.as_bytes()).is_err());
        let huge = vec![b' '; MAX_SALE_BYTES + 1];
        assert!(matches!(
            SaleCommand::parse(&huge),
            Err(ContractError::TooLarge { .. })
        ));
    }
}
