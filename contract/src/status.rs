//! `tagtally.status/2`: is the store's daemon connected, with an identity HQ can order by.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::error::ContractError;
use crate::schema_name::StatusSchema;

/// The store's state as `status` tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreState {
    /// Connected and committing.
    Online,
    /// Gone: a clean stop, or the last will.
    Offline,
    /// Connected, but the state disk has no room: the outbox drains, nothing new commits.
    DiskFull,
}

/// The last message the store could not publish within the size bound (diagnosis for HQ).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRefusal<'a> {
    /// The topic it was for.
    #[serde(borrow)]
    pub topic: Cow<'a, str>,
    /// Its PUBLISH packet size.
    pub bytes: u64,
    /// The limit it broke.
    pub limit: u64,
    /// The delta seq, when it was a delta (folded into a resync snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// The retained `status` payload (and the last will, with `"state":"offline"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusMessage<'a> {
    /// Always `tagtally.status/2`.
    pub schema: StatusSchema,
    /// The store name.
    #[serde(borrow)]
    pub store: Cow<'a, str>,
    /// The epoch.
    #[serde(borrow)]
    pub epoch: Cow<'a, str>,
    /// The daemon's starts, counted durably in the state database.
    pub boot: u64,
    /// MQTT connections within this boot, from 1.
    pub connection: u64,
    /// RFC 3339 UTC: when this was published (the last will: when its connection was opened).
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// Online, offline or disk full.
    pub state: StoreState,
    /// The daemon's version.
    #[serde(borrow)]
    pub version: Cow<'a, str>,
    /// The last committed delta seq (0 before the first).
    pub seq: u64,
    /// The last message refused for its size, if any in this boot.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<StatusRefusal<'a>>,
}

impl<'a> StatusMessage<'a> {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and checks a payload.
    pub fn parse(payload: &'a [u8]) -> Result<StatusMessage<'a>, ContractError> {
        let s: StatusMessage<'a> = serde_json::from_slice(payload)?;
        if s.boot == 0 || s.connection == 0 {
            return Err(ContractError::Invalid(format!(
                "status of store {:?} has boot {} and connection {}; both count from 1",
                s.store, s.boot, s.connection
            )));
        }
        Ok(s)
    }

    /// How two status messages of one store are ordered: by epoch (time-ordered strings), boot,
    /// connection; within one connection `offline` is the last word (a last will carries the
    /// time its connection opened, earlier than that connection's heartbeats), then by time.
    /// HQ keeps a status only if it is [`Ordering::Greater`] than the one it holds.
    pub fn order(&self, other: &StatusMessage<'_>) -> Ordering {
        let offline = |s: &StatusMessage<'_>| s.state == StoreState::Offline;
        self.epoch
            .cmp(&other.epoch)
            .then(self.boot.cmp(&other.boot))
            .then(self.connection.cmp(&other.connection))
            .then(offline(self).cmp(&offline(other)))
            .then(self.time.cmp(&other.time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(boot: u64, connection: u64, time: &str, state: StoreState) -> StatusMessage<'_> {
        StatusMessage {
            schema: StatusSchema,
            store: "paris-01".into(),
            epoch: "0190a0b0-0000-7000-8000-000000000001".into(),
            boot,
            connection,
            time: time.into(),
            state,
            version: "0.1.0".into(),
            seq: 12,
            refused: None,
        }
    }

    #[test]
    fn the_spec_shape_round_trips() {
        let s = status(3, 2, "2026-01-01T00:00:00.000Z", StoreState::Online);
        let text = String::from_utf8(s.encode()).unwrap();
        assert_eq!(
            text,
            r#"{"schema":"tagtally.status/2","store":"paris-01","epoch":"0190a0b0-0000-7000-8000-000000000001","boot":3,"connection":2,"time":"2026-01-01T00:00:00.000Z","state":"online","version":"0.1.0","seq":12}"#
        );
        assert_eq!(StatusMessage::parse(text.as_bytes()).unwrap(), s);
        let zero = text.replace(r#""boot":3"#, r#""boot":0"#);
        assert!(StatusMessage::parse(zero.as_bytes()).is_err());
        let full = text.replace("online", "disk_full");
        assert_eq!(
            StatusMessage::parse(full.as_bytes()).unwrap().state,
            StoreState::DiskFull
        );
    }

    #[test]
    fn a_late_will_of_an_older_connection_never_wins() {
        let t1 = "2026-01-01T00:00:01.000Z";
        let t9 = "2026-01-01T00:00:09.000Z";
        let live = status(3, 2, t1, StoreState::Online);
        let stale_will = status(3, 1, t9, StoreState::Offline);
        assert_eq!(stale_will.order(&live), Ordering::Less);
        // The will of the live connection itself does win over its heartbeats.
        let own_will = status(3, 2, t1, StoreState::Offline);
        let heartbeat = status(3, 2, t9, StoreState::Online);
        assert_eq!(own_will.order(&heartbeat), Ordering::Greater);
        // A new boot wins over anything of the previous one.
        assert_eq!(
            status(4, 1, t1, StoreState::Online).order(&status(3, 9, t9, StoreState::Offline)),
            Ordering::Greater
        );
    }
}
