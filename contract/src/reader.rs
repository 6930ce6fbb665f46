//! `tagtally.reader/1`: the health of one RFID reader, retained under `readers/{reader}`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::schema_name::ReaderSchema;
use crate::zone_trust::AntennaTrustEntry;

/// A reader's health payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReaderHealthMessage<'a> {
    /// Always `tagtally.reader/1`.
    pub schema: ReaderSchema,
    /// The store name.
    #[serde(borrow)]
    pub store: Cow<'a, str>,
    /// The reader's configured name.
    #[serde(borrow)]
    pub reader: Cow<'a, str>,
    /// RFC 3339 UTC (absent only in the daemon's own change detection, never on the wire).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Cow<'a, str>>,
    /// `up`, `down` or `connecting`.
    #[serde(borrow)]
    pub link: Cow<'a, str>,
    /// Reads per second, two significant digits.
    pub reads_per_sec: f64,
    /// Per antenna.
    #[serde(borrow)]
    pub antennas: Vec<ReaderAntenna<'a>>,
    /// The most recent link or reader error.
    #[serde(borrow)]
    pub last_error: Option<Cow<'a, str>>,
}

/// One antenna of a reader.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReaderAntenna<'a> {
    /// Port number, from 1.
    pub antenna: u16,
    /// Its zone.
    #[serde(borrow)]
    pub zone: Cow<'a, str>,
    /// `ok`, `fault`, `disconnected` or `unknown`.
    #[serde(borrow)]
    pub state: Cow<'a, str>,
    /// Reads per second.
    pub reads_per_sec: f64,
    /// Zone trust: is a silence of this antenna believed (SPEC §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<AntennaTrustEntry>,
}

impl<'a> ReaderHealthMessage<'a> {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a payload.
    pub fn parse(payload: &'a [u8]) -> Result<ReaderHealthMessage<'a>, ContractError> {
        Ok(serde_json::from_slice(payload)?)
    }
}
