//! Inbound commands from HQ: `cmd/snapshot` and `cmd/replay`, bounded and checked before anything acts on them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ContractError;

/// Largest command payload accepted: far above any real command (a replay request is under 100
/// bytes), far below what would cost a gateway memory.
pub const MAX_COMMAND_BYTES: usize = 4096;
/// Longest `request_id` accepted.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// `cmd/snapshot`: an empty payload or `{"request_id":...}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCommand<'a> {
    /// Echoed in the snapshot it causes.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Cow<'a, str>>,
}

/// `cmd/replay`: `{"from_seq","to_seq","request_id"?}`, re-publish those deltas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayCommand<'a> {
    /// First seq wanted.
    pub from_seq: u64,
    /// Last seq wanted.
    pub to_seq: u64,
    /// Echoed in a resync snapshot it causes.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Cow<'a, str>>,
}

fn bounded(payload: &[u8]) -> Result<(), ContractError> {
    if payload.len() > MAX_COMMAND_BYTES {
        return Err(ContractError::TooLarge {
            bytes: payload.len(),
            max: MAX_COMMAND_BYTES,
        });
    }
    Ok(())
}

pub(crate) fn check_request_id(id: Option<&str>) -> Result<(), ContractError> {
    match id {
        Some(id) if id.is_empty() || id.len() > MAX_REQUEST_ID_LEN => {
            Err(ContractError::Invalid(format!(
                "request_id must be 1 to {MAX_REQUEST_ID_LEN} bytes, not {}",
                id.len()
            )))
        }
        Some(id) if id.chars().any(char::is_control) => Err(ContractError::Invalid(
            "request_id contains control characters".to_owned(),
        )),
        _ => Ok(()),
    }
}

impl<'a> SnapshotCommand<'a> {
    /// Parses a `cmd/snapshot` payload (empty means no request id).
    pub fn parse(payload: &'a [u8]) -> Result<SnapshotCommand<'a>, ContractError> {
        bounded(payload)?;
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Ok(SnapshotCommand::default());
        }
        let c: SnapshotCommand<'a> = serde_json::from_slice(payload)?;
        check_request_id(c.request_id.as_deref())?;
        Ok(c)
    }

    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl<'a> ReplayCommand<'a> {
    /// Parses a `cmd/replay` payload.
    pub fn parse(payload: &'a [u8]) -> Result<ReplayCommand<'a>, ContractError> {
        bounded(payload)?;
        let c: ReplayCommand<'a> = serde_json::from_slice(payload)?;
        if c.from_seq == 0 || c.from_seq > c.to_seq {
            return Err(ContractError::Invalid(format!(
                "replay range {}..={} is empty or starts at 0",
                c.from_seq, c.to_seq
            )));
        }
        check_request_id(c.request_id.as_deref())?;
        Ok(c)
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
    fn snapshot_commands() {
        assert_eq!(
            SnapshotCommand::parse(b"").unwrap(),
            SnapshotCommand::default()
        );
        assert_eq!(
            SnapshotCommand::parse(br#"{"request_id":"hq-7"}"#)
                .unwrap()
                .request_id
                .as_deref(),
            Some("hq-7")
        );
        assert_eq!(
            SnapshotCommand::parse(b"{}").unwrap(),
            SnapshotCommand::default()
        );
        assert!(SnapshotCommand::parse(b"now").is_err());
        assert!(SnapshotCommand::parse(br#"{"request_id":""}"#).is_err());
        assert!(SnapshotCommand::parse(br#"{"request_id":"a\u001b[2J"}"#).is_err());
        let huge = vec![b' '; MAX_COMMAND_BYTES + 1];
        assert!(matches!(
            SnapshotCommand::parse(&huge),
            Err(ContractError::TooLarge { .. })
        ));
    }

    #[test]
    fn replay_commands() {
        let c = ReplayCommand::parse(br#"{"from_seq":3,"to_seq":9,"request_id":"x"}"#).unwrap();
        assert_eq!((c.from_seq, c.to_seq), (3, 9));
        assert_eq!(ReplayCommand::parse(&c.encode()).unwrap(), c);
        for bad in [
            &br#"{"from_seq":0,"to_seq":9}"#[..],
            br#"{"from_seq":9,"to_seq":3}"#,
            br#"{"from_seq":-1,"to_seq":3}"#,
            br#"{"to_seq":3}"#,
            b"",
        ] {
            assert!(ReplayCommand::parse(bad).is_err(), "{bad:?}");
        }
    }
}
