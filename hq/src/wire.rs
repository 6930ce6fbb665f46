//! Decoding of a store's MQTT topics and JSON payloads (SPEC §6) into [`StoreMessage`]s; the one
//! place that knows the wire format. Anything else is a [`Refusal`] with a reason to count.
//!
//! Every length and number that comes from the network is bounded here, before it reaches the
//! database: names, ids, change lists, part numbers, counts (PostgreSQL `bigint`).

use crate::message::{
    PairCount, ReaderHealth, SnapshotPart, StatusOrder, StoreDelta, StoreMessage, StoreStatus,
};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashSet;
use tagtally_config::is_valid_name;
use tagtally_contract::{
    ContractError, DeltaMessage, DeltaSchema, ReaderHealthMessage, ReaderSchema,
    SnapshotPart as ContractSnapshotPart, SnapshotSchema, StatusMessage, StatusSchema, StoreState,
    StoreTopic, Topics,
};

/// Longest epoch or snapshot id accepted (a UUID is 36 characters).
pub const MAX_ID_BYTES: usize = 128;
/// Longest zone or SKU accepted (an SKU pattern such as a GRAI class is well under this).
pub const MAX_PAIR_NAME_BYTES: usize = 256;
/// Most pairs in one delta or snapshot part (the store's size bound keeps real ones far below).
pub const MAX_PAIRS: usize = 100_000;
/// Most parts of one snapshot.
pub const MAX_PARTS: u32 = 10_000;
/// Largest seq accepted: what a PostgreSQL `bigint` holds.
pub const MAX_NUMBER: u64 = i64::MAX as u64;

/// Why a message was not applied. Every refusal is counted under [`Refusal::label`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The topic is not one of a store's topics under the prefix.
    #[error("topic {topic:?} is not a store topic under the prefix")]
    BadTopic {
        /// The topic, lossily decoded.
        topic: String,
    },
    /// The topic's store level is not a valid store name.
    #[error("store name {store:?} in the topic is not [a-z0-9_-]{{1,64}}")]
    BadStoreName {
        /// The level as received.
        store: String,
    },
    /// Larger than the configured bound.
    #[error("payload of {len} bytes is larger than the {max} bytes accepted")]
    TooLarge {
        /// Payload size.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// Not a JSON object with a `schema` string.
    #[error("payload is not json with a schema field: {reason}")]
    NotJson {
        /// The parser's message.
        reason: String,
    },
    /// A schema this service does not apply on this topic.
    #[error("schema {schema:?} is not applied on {kind} topics")]
    UnknownSchema {
        /// The schema as received.
        schema: String,
        /// The topic kind.
        kind: &'static str,
    },
    /// The right schema with missing, mistyped or out-of-range fields.
    #[error("bad {schema} payload: {reason}")]
    BadPayload {
        /// The schema.
        schema: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The payload names another store than its topic.
    #[error("payload of store {payload:?} arrived on the topic of store {topic:?}")]
    StoreMismatch {
        /// Store in the topic.
        topic: String,
        /// Store in the payload.
        payload: String,
    },
}

impl Refusal {
    /// The metric label of this kind of refusal.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::BadTopic { .. } => "bad_topic",
            Refusal::BadStoreName { .. } => "bad_store_name",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::NotJson { .. } => "not_json",
            Refusal::UnknownSchema { .. } => "unknown_schema",
            Refusal::BadPayload { .. } => "bad_payload",
            Refusal::StoreMismatch { .. } => "store_mismatch",
        }
    }

    /// Every label, for metrics that list zeros too.
    pub const LABELS: [&'static str; 7] = [
        "bad_topic",
        "bad_store_name",
        "too_large",
        "not_json",
        "unknown_schema",
        "bad_payload",
        "store_mismatch",
    ];
}

/// The topic filters a consumer of every store subscribes to (before any `$share/` prefix):
/// the contract's, plus reader health.
pub fn topic_filters(prefix: &str) -> Vec<String> {
    let mut filters = Topics::all_stores_filters(prefix).to_vec();
    filters.push(format!("{prefix}/+/readers/+"));
    filters
}

/// Decodes one message received on `topic`, under topic prefix `prefix`.
pub fn decode(
    prefix: &str,
    topic: &[u8],
    payload: &[u8],
    max_bytes: usize,
) -> Result<StoreMessage, Refusal> {
    let (store, kind) = parse_topic(prefix, topic)?;
    if payload.len() > max_bytes {
        return Err(Refusal::TooLarge {
            len: payload.len(),
            max: max_bytes,
        });
    }
    let schema = schema_of(payload)?;
    let message = match kind {
        StoreTopic::Delta => StoreMessage::Delta(delta(&schema, payload)?),
        StoreTopic::Snapshot { part } => {
            StoreMessage::SnapshotPart(snapshot_part(&schema, payload, part)?)
        }
        StoreTopic::Status => StoreMessage::Status(status(&schema, payload)?),
        StoreTopic::Reader(reader) => {
            StoreMessage::Reader(reader_health(&schema, payload, &store, reader)?)
        }
        // `count`, `epcis`, `discrepancies` and `replenish` are not part of the stock of record
        // (SPEC §11); commands and `expected` are not a store's.
        StoreTopic::CmdSnapshot
        | StoreTopic::CmdReplay
        | StoreTopic::CmdSale
        | StoreTopic::Count
        | StoreTopic::Epcis
        | StoreTopic::Discrepancies { .. }
        | StoreTopic::Replenish { .. }
        | StoreTopic::Expected { .. } => {
            return Err(Refusal::BadTopic {
                topic: String::from_utf8_lossy(topic).into_owned(),
            })
        }
    };
    if message.store() != store {
        return Err(Refusal::StoreMismatch {
            topic: store,
            payload: message.store().to_owned(),
        });
    }
    Ok(message)
}

fn parse_topic(prefix: &str, topic: &[u8]) -> Result<(String, StoreTopic), Refusal> {
    let bad = || Refusal::BadTopic {
        topic: String::from_utf8_lossy(topic).chars().take(200).collect(),
    };
    let topic = std::str::from_utf8(topic).map_err(|_| bad())?;
    match Topics::classify(prefix, topic) {
        Some((store, kind)) => match kind {
            StoreTopic::CmdSnapshot
            | StoreTopic::CmdReplay
            | StoreTopic::CmdSale
            | StoreTopic::Expected { .. } => Err(bad()),
            kind => Ok((store, kind)),
        },
        None => {
            // Tell a store name that breaks the rule apart from a topic that is not a store's.
            let store = topic
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.split_once('/'))
                .map(|(store, _)| store);
            match store {
                Some(store) if !is_valid_name(store) => Err(Refusal::BadStoreName {
                    store: store.chars().take(80).collect(),
                }),
                _ => Err(bad()),
            }
        }
    }
}

#[derive(Deserialize)]
struct SchemaOnly {
    schema: String,
}

fn schema_of(payload: &[u8]) -> Result<String, Refusal> {
    serde_json::from_slice::<SchemaOnly>(payload)
        .map(|only| only.schema)
        .map_err(|error| Refusal::NotJson {
            reason: error.to_string(),
        })
}

fn check_schema(schema: &str, expected: &'static str, kind: &'static str) -> Result<(), Refusal> {
    if schema == expected {
        Ok(())
    } else {
        Err(Refusal::UnknownSchema {
            schema: schema.chars().take(80).collect(),
            kind,
        })
    }
}

fn bad(schema: &'static str, reason: impl Into<String>) -> Refusal {
    Refusal::BadPayload {
        schema,
        reason: reason.into(),
    }
}

fn contract_error(schema: &'static str) -> impl Fn(ContractError) -> Refusal {
    move |error| bad(schema, error.to_string())
}

fn delta(schema: &str, payload: &[u8]) -> Result<StoreDelta, Refusal> {
    check_schema(schema, DeltaSchema::NAME, "delta")?;
    let wire = DeltaMessage::parse(payload).map_err(contract_error(DeltaSchema::NAME))?;
    check_id(DeltaSchema::NAME, "epoch", &wire.epoch)?;
    check_number(DeltaSchema::NAME, "seq", wire.seq)?;
    let changes = wire
        .changes
        .into_iter()
        .map(|change| (change.zone, change.sku, change.count));
    Ok(StoreDelta {
        store: wire.store.into_owned(),
        epoch: wire.epoch.into_owned(),
        seq: wire.seq,
        changes: pairs(DeltaSchema::NAME, changes)?,
    })
}

fn snapshot_part(schema: &str, payload: &[u8], topic_part: u32) -> Result<SnapshotPart, Refusal> {
    const NAME: &str = SnapshotSchema::NAME;
    check_schema(schema, NAME, "snapshot")?;
    let wire = ContractSnapshotPart::parse(payload).map_err(contract_error(NAME))?;
    check_id(NAME, "epoch", &wire.epoch)?;
    check_id(NAME, "snapshot_id", &wire.snapshot_id)?;
    check_number(NAME, "seq", wire.seq)?;
    if wire.parts > MAX_PARTS {
        return Err(bad(
            NAME,
            format!("{} parts is more than {MAX_PARTS}", wire.parts),
        ));
    }
    if wire.part != topic_part {
        return Err(bad(
            NAME,
            format!(
                "part {} arrived on the topic of part {topic_part}",
                wire.part
            ),
        ));
    }
    if wire.stale_zones.len() > MAX_PAIRS || !wire.stale_zones.iter().all(|zone| pair_name_ok(zone))
    {
        return Err(bad(NAME, "stale_zones holds an invalid zone"));
    }
    let counts = wire
        .counts
        .into_iter()
        .map(|count| (count.zone, count.sku, count.count));
    Ok(SnapshotPart {
        store: wire.store.into_owned(),
        epoch: wire.epoch.into_owned(),
        seq: wire.seq,
        snapshot_id: wire.snapshot_id.into_owned(),
        part: wire.part,
        parts: wire.parts,
        counts: pairs(NAME, counts)?,
        stale_zones: wire.stale_zones.into_iter().map(Cow::into_owned).collect(),
    })
}

fn status(schema: &str, payload: &[u8]) -> Result<StoreStatus, Refusal> {
    const NAME: &str = StatusSchema::NAME;
    check_schema(schema, NAME, "status")?;
    let wire = StatusMessage::parse(payload).map_err(contract_error(NAME))?;
    check_id(NAME, "epoch", &wire.epoch)?;
    // The contract orders status by its time as text: only RFC 3339 makes that the time order.
    humantime::parse_rfc3339_weak(&wire.time)
        .map_err(|error| bad(NAME, format!("time {:?}: {error}", wire.time)))?;
    for (field, number) in [
        ("boot", wire.boot),
        ("connection", wire.connection),
        ("seq", wire.seq),
    ] {
        check_number(NAME, field, number)?;
    }
    Ok(StoreStatus {
        store: wire.store.into_owned(),
        order: StatusOrder {
            epoch: wire.epoch.into_owned(),
            boot: wire.boot,
            connection: wire.connection,
            offline: wire.state == StoreState::Offline,
            time: wire.time.into_owned(),
        },
        online: wire.state != StoreState::Offline,
        disk_full: wire.state == StoreState::DiskFull,
        seq: wire.seq,
    })
}

fn reader_health(
    schema: &str,
    payload: &[u8],
    topic_store: &str,
    topic_reader: String,
) -> Result<ReaderHealth, Refusal> {
    const NAME: &str = ReaderSchema::NAME;
    check_schema(schema, NAME, "readers")?;
    let wire = ReaderHealthMessage::parse(payload).map_err(contract_error(NAME))?;
    if wire.reader != topic_reader {
        return Err(bad(
            NAME,
            format!(
                "reader {:?} arrived on the topic of {topic_reader:?}",
                wire.reader
            ),
        ));
    }
    if wire.store != topic_store {
        return Err(Refusal::StoreMismatch {
            topic: topic_store.to_owned(),
            payload: wire.store.into_owned(),
        });
    }
    let payload = serde_json::to_value(&wire).map_err(|error| bad(NAME, error.to_string()))?;
    Ok(ReaderHealth {
        store: wire.store.into_owned(),
        reader: topic_reader,
        payload,
    })
}

fn check_number(schema: &'static str, field: &str, number: u64) -> Result<(), Refusal> {
    if number > MAX_NUMBER {
        return Err(bad(schema, format!("{field} {number} is out of range")));
    }
    Ok(())
}

fn check_id(schema: &'static str, field: &str, id: &str) -> Result<(), Refusal> {
    if id.is_empty() || id.len() > MAX_ID_BYTES || id.chars().any(char::is_control) {
        return Err(bad(
            schema,
            format!("{field} must be 1 to {MAX_ID_BYTES} bytes without control characters"),
        ));
    }
    Ok(())
}

fn pair_name_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_PAIR_NAME_BYTES && !name.chars().any(char::is_control)
}

fn pairs<'a>(
    schema: &'static str,
    wire: impl ExactSizeIterator<Item = (Cow<'a, str>, Cow<'a, str>, u32)>,
) -> Result<Vec<PairCount>, Refusal> {
    if wire.len() > MAX_PAIRS {
        return Err(bad(schema, format!("more than {MAX_PAIRS} pairs")));
    }
    let mut seen = HashSet::with_capacity(wire.len());
    wire.map(|(zone, sku, count)| {
        if !pair_name_ok(&zone) || !pair_name_ok(&sku) {
            return Err(bad(
                schema,
                "a zone or sku is empty, too long or has control characters",
            ));
        }
        // The same pair twice would make "the count" of the message ambiguous.
        if !seen.insert((zone.clone(), sku.clone())) {
            return Err(bad(schema, format!("pair ({zone}, {sku}) is listed twice")));
        }
        Ok(PairCount {
            zone: zone.into_owned(),
            sku: sku.into_owned(),
            count: u64::from(count),
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELTA: &str = r#"{"schema":"tagtally.delta/1","store":"paris-01","epoch":"e1","seq":7,"time":"2025-03-14T09:26:53.589Z","changes":[{"zone":"floor","sku":"x","delta":-1,"count":11}]}"#;

    fn refusal(topic: &str, payload: &str) -> &'static str {
        decode("tagtally/v1", topic.as_bytes(), payload.as_bytes(), 4096)
            .unwrap_err()
            .label()
    }

    #[test]
    fn a_delta_decodes_with_its_absolute_counts() {
        let message = decode(
            "tagtally/v1",
            b"tagtally/v1/paris-01/delta",
            DELTA.as_bytes(),
            4096,
        )
        .unwrap();
        let StoreMessage::Delta(delta) = message else {
            panic!("not a delta: {message:?}")
        };
        assert_eq!((delta.seq, delta.changes[0].count), (7, 11));
    }

    #[test]
    fn odd_topics_and_store_names_are_refused() {
        for topic in [
            "other/paris-01/delta",
            "tagtally/v1/paris-01/deltas",
            "tagtally/v1/paris-01",
            "tagtally/v1/paris-01/snapshot/1",
            "tagtally/v1/paris-01/snapshot/02",
            "tagtally/v1/paris-01/snapshot/x",
            "tagtally/v1/paris-01/readers/",
        ] {
            assert_eq!(refusal(topic, DELTA), "bad_topic", "{topic}");
        }
        for store in ["Paris-01", "paris 01", "pa\u{0}ris", "", "caf\u{e9}"] {
            let topic = format!("tagtally/v1/{store}/delta");
            assert_eq!(refusal(&topic, DELTA), "bad_store_name", "{store:?}");
        }
        assert_eq!(
            refusal("tagtally/v1/lyon-02/delta", DELTA),
            "store_mismatch"
        );
    }

    #[test]
    fn malformed_payloads_and_unknown_schemas_are_refused() {
        let topic = "tagtally/v1/paris-01/delta";
        assert_eq!(refusal(topic, "not json"), "not_json");
        assert_eq!(refusal(topic, r#"{"seq":1}"#), "not_json");
        assert_eq!(
            refusal(topic, &DELTA.replace("delta/1", "delta/9")),
            "unknown_schema"
        );
        for (from, to) in [
            (r#""seq":7"#, r#""seq":0"#),
            (r#""seq":7"#, r#""seq":-7"#),
            (r#""seq":7"#, r#""seq":"7""#),
            (r#""count":11"#, r#""count":9223372036854775808"#),
            (r#""epoch":"e1""#, r#""epoch":"""#),
            (r#""zone":"floor""#, r#""zone":"""#),
        ] {
            assert_eq!(
                refusal(topic, &DELTA.replace(from, to)),
                "bad_payload",
                "{to}"
            );
        }
        let twice = DELTA.replace(
            r#""count":11}]"#,
            r#""count":11},{"zone":"floor","sku":"x","delta":0,"count":3}]"#,
        );
        assert_eq!(refusal(topic, &twice), "bad_payload");
        assert_eq!(
            decode("tagtally/v1", topic.as_bytes(), DELTA.as_bytes(), 10)
                .unwrap_err()
                .label(),
            "too_large"
        );
    }

    #[test]
    fn snapshot_parts_must_sit_on_their_own_topic() {
        let part = r#"{"schema":"tagtally.snapshot/2","store":"s","epoch":"e","seq":3,"time":"t","snapshot_id":"i","part":2,"parts":2,"reason":"interval","counts":[],"stale_zones":[]}"#;
        assert!(decode("p", b"p/s/snapshot/2", part.as_bytes(), 4096).is_ok());
        assert_eq!(
            decode("p", b"p/s/snapshot", part.as_bytes(), 4096)
                .unwrap_err()
                .label(),
            "bad_payload"
        );
        let beyond = part.replace(r#""part":2"#, r#""part":3"#);
        assert_eq!(
            decode("p", b"p/s/snapshot/3", beyond.as_bytes(), 4096)
                .unwrap_err()
                .label(),
            "bad_payload"
        );
    }

    #[test]
    fn status_states_and_times_are_checked() {
        let status = r#"{"schema":"tagtally.status/2","store":"s","epoch":"e","boot":2,"connection":1,"time":"2025-03-14T09:26:53Z","state":"online","version":"0.1.0","seq":4}"#;
        assert!(decode("p", b"p/s/status", status.as_bytes(), 4096).is_ok());
        for (from, to) in [
            (r#""online""#, r#""sleeping""#),
            ("2025-03-14T09:26:53Z", "yesterday"),
        ] {
            assert_eq!(
                decode(
                    "p",
                    b"p/s/status",
                    status.replace(from, to).as_bytes(),
                    4096
                )
                .unwrap_err()
                .label(),
                "bad_payload"
            );
        }
    }
}
