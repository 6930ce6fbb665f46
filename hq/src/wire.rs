//! Decoding of a store's MQTT topics and JSON payloads (SPEC §6) into [`StoreMessage`]s; the one
//! place that knows the wire format. Anything else is a [`Refusal`] with a reason to count.
//!
//! Every length and number that comes from the network is bounded here, before it reaches the
//! database: names, ids, change lists, part numbers, counts (PostgreSQL `bigint`).

use crate::message::{
    PairCount, ReaderHealth, SnapshotPart, StatusOrder, StoreDelta, StoreMessage, StoreStatus,
};
use serde::Deserialize;
use tagtally_config::is_valid_name;

/// Schema of deltas this service applies.
pub const DELTA_SCHEMA: &str = "tagtally.delta/1";
/// Schema of snapshot parts this service applies.
pub const SNAPSHOT_SCHEMA: &str = "tagtally.snapshot/2";
/// Schema of status messages this service applies.
pub const STATUS_SCHEMA: &str = "tagtally.status/2";
/// Schema of reader health messages this service keeps.
pub const READER_SCHEMA: &str = "tagtally.reader/1";

/// Longest epoch or snapshot id accepted (a UUID is 36 characters).
pub const MAX_ID_BYTES: usize = 128;
/// Longest zone or SKU accepted (an SKU pattern such as a GRAI class is well under this).
pub const MAX_PAIR_NAME_BYTES: usize = 256;
/// Most pairs in one delta or snapshot part (the store's size bound keeps real ones far below).
pub const MAX_PAIRS: usize = 100_000;
/// Most parts of one snapshot.
pub const MAX_PARTS: u32 = 10_000;
/// Largest seq or count accepted: what a PostgreSQL `bigint` holds.
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

/// What a topic below `{prefix}/{store}/` is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TopicKind {
    Delta,
    Snapshot { part: u32 },
    Status,
    Reader { reader: String },
}

/// The topic filters a consumer of every store subscribes to (before any `$share/` prefix).
pub fn topic_filters(prefix: &str) -> [String; 5] {
    [
        format!("{prefix}/+/delta"),
        format!("{prefix}/+/snapshot"),
        format!("{prefix}/+/snapshot/+"),
        format!("{prefix}/+/status"),
        format!("{prefix}/+/readers/+"),
    ]
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
        TopicKind::Delta => StoreMessage::Delta(delta(&schema, payload)?),
        TopicKind::Snapshot { part } => {
            StoreMessage::SnapshotPart(snapshot_part(&schema, payload, part)?)
        }
        TopicKind::Status => StoreMessage::Status(status(&schema, payload)?),
        TopicKind::Reader { reader } => {
            StoreMessage::Reader(reader_health(&schema, payload, &store, reader)?)
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

fn parse_topic(prefix: &str, topic: &[u8]) -> Result<(String, TopicKind), Refusal> {
    let bad = || Refusal::BadTopic {
        topic: String::from_utf8_lossy(topic).into_owned(),
    };
    let topic = std::str::from_utf8(topic).map_err(|_| bad())?;
    let rest = topic
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(bad)?;
    let (store, kind) = rest.split_once('/').ok_or_else(bad)?;
    let kind = match kind.split_once('/') {
        None if kind == "delta" => TopicKind::Delta,
        None if kind == "snapshot" => TopicKind::Snapshot { part: 1 },
        None if kind == "status" => TopicKind::Status,
        // Only the canonical spelling: `snapshot/02` would be a second topic for part 2.
        Some(("snapshot", text)) => match text.parse::<u32>() {
            Ok(part) if (2..=MAX_PARTS).contains(&part) && part.to_string() == text => {
                TopicKind::Snapshot { part }
            }
            _ => return Err(bad()),
        },
        Some(("readers", reader)) if !reader.is_empty() && reader.len() <= 128 => {
            TopicKind::Reader {
                reader: reader.to_owned(),
            }
        }
        _ => return Err(bad()),
    };
    if !is_valid_name(store) {
        return Err(Refusal::BadStoreName {
            store: store.chars().take(80).collect(),
        });
    }
    Ok((store.to_owned(), kind))
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

fn parse<'a, T: Deserialize<'a>>(schema: &'static str, payload: &'a [u8]) -> Result<T, Refusal> {
    serde_json::from_slice(payload).map_err(|error| Refusal::BadPayload {
        schema,
        reason: error.to_string(),
    })
}

fn bad(schema: &'static str, reason: impl Into<String>) -> Refusal {
    Refusal::BadPayload {
        schema,
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
struct WirePair {
    zone: String,
    sku: String,
    count: u64,
}

#[derive(Deserialize)]
struct WireDelta {
    store: String,
    epoch: String,
    seq: u64,
    changes: Vec<WirePair>,
}

fn delta(schema: &str, payload: &[u8]) -> Result<StoreDelta, Refusal> {
    check_schema(schema, DELTA_SCHEMA, "delta")?;
    let wire: WireDelta = parse(DELTA_SCHEMA, payload)?;
    check_id(DELTA_SCHEMA, "epoch", &wire.epoch)?;
    if wire.seq == 0 || wire.seq > MAX_NUMBER {
        return Err(bad(
            DELTA_SCHEMA,
            format!("seq {} is out of range", wire.seq),
        ));
    }
    Ok(StoreDelta {
        store: wire.store,
        epoch: wire.epoch,
        seq: wire.seq,
        changes: pairs(DELTA_SCHEMA, wire.changes)?,
    })
}

#[derive(Deserialize)]
struct WireSnapshot {
    store: String,
    epoch: String,
    seq: u64,
    snapshot_id: String,
    part: u32,
    parts: u32,
    counts: Vec<WirePair>,
    #[serde(default)]
    stale_zones: Vec<String>,
}

fn snapshot_part(schema: &str, payload: &[u8], topic_part: u32) -> Result<SnapshotPart, Refusal> {
    check_schema(schema, SNAPSHOT_SCHEMA, "snapshot")?;
    let wire: WireSnapshot = parse(SNAPSHOT_SCHEMA, payload)?;
    check_id(SNAPSHOT_SCHEMA, "epoch", &wire.epoch)?;
    check_id(SNAPSHOT_SCHEMA, "snapshot_id", &wire.snapshot_id)?;
    if wire.seq > MAX_NUMBER {
        return Err(bad(SNAPSHOT_SCHEMA, "seq is out of range"));
    }
    if !(1..=MAX_PARTS).contains(&wire.parts) || !(1..=wire.parts).contains(&wire.part) {
        return Err(bad(
            SNAPSHOT_SCHEMA,
            format!("part {} of {} is out of range", wire.part, wire.parts),
        ));
    }
    if wire.part != topic_part {
        return Err(bad(
            SNAPSHOT_SCHEMA,
            format!(
                "part {} arrived on the topic of part {topic_part}",
                wire.part
            ),
        ));
    }
    if wire.stale_zones.len() > MAX_PAIRS
        || wire
            .stale_zones
            .iter()
            .any(|zone| !pair_name_ok(zone.as_str()))
    {
        return Err(bad(SNAPSHOT_SCHEMA, "stale_zones holds an invalid zone"));
    }
    Ok(SnapshotPart {
        store: wire.store,
        epoch: wire.epoch,
        seq: wire.seq,
        snapshot_id: wire.snapshot_id,
        part: wire.part,
        parts: wire.parts,
        counts: pairs(SNAPSHOT_SCHEMA, wire.counts)?,
        stale_zones: wire.stale_zones,
    })
}

#[derive(Deserialize)]
struct WireStatus {
    store: String,
    epoch: String,
    boot: u64,
    connection: u64,
    time: String,
    state: String,
    seq: u64,
}

fn status(schema: &str, payload: &[u8]) -> Result<StoreStatus, Refusal> {
    check_schema(schema, STATUS_SCHEMA, "status")?;
    let wire: WireStatus = parse(STATUS_SCHEMA, payload)?;
    check_id(STATUS_SCHEMA, "epoch", &wire.epoch)?;
    let time = humantime::parse_rfc3339_weak(&wire.time)
        .map_err(|error| bad(STATUS_SCHEMA, format!("time {:?}: {error}", wire.time)))?;
    let (online, disk_full) = match wire.state.as_str() {
        "online" => (true, false),
        "offline" => (false, false),
        "disk_full" => (true, true),
        other => {
            return Err(bad(
                STATUS_SCHEMA,
                format!("state {:?} is not online, offline or disk_full", other),
            ))
        }
    };
    if [wire.boot, wire.connection, wire.seq]
        .iter()
        .any(|&number| number > MAX_NUMBER)
    {
        return Err(bad(
            STATUS_SCHEMA,
            "boot, connection or seq is out of range",
        ));
    }
    Ok(StoreStatus {
        store: wire.store,
        order: StatusOrder {
            epoch: wire.epoch,
            boot: wire.boot,
            connection: wire.connection,
            time,
        },
        online,
        disk_full,
        seq: wire.seq,
    })
}

#[derive(Deserialize)]
struct WireReader {
    store: String,
    reader: String,
}

fn reader_health(
    schema: &str,
    payload: &[u8],
    topic_store: &str,
    topic_reader: String,
) -> Result<ReaderHealth, Refusal> {
    check_schema(schema, READER_SCHEMA, "readers")?;
    let wire: WireReader = parse(READER_SCHEMA, payload)?;
    if wire.reader != topic_reader {
        return Err(bad(
            READER_SCHEMA,
            format!(
                "reader {:?} arrived on the topic of {topic_reader:?}",
                wire.reader
            ),
        ));
    }
    if wire.store != topic_store {
        return Err(Refusal::StoreMismatch {
            topic: topic_store.to_owned(),
            payload: wire.store,
        });
    }
    let payload = parse(READER_SCHEMA, payload)?;
    Ok(ReaderHealth {
        store: wire.store,
        reader: topic_reader,
        payload,
    })
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

fn pairs(schema: &'static str, wire: Vec<WirePair>) -> Result<Vec<PairCount>, Refusal> {
    if wire.len() > MAX_PAIRS {
        return Err(bad(schema, format!("more than {MAX_PAIRS} pairs")));
    }
    let mut seen = std::collections::HashSet::with_capacity(wire.len());
    wire.into_iter()
        .map(|pair| {
            if !pair_name_ok(&pair.zone) || !pair_name_ok(&pair.sku) {
                return Err(bad(
                    schema,
                    "a zone or sku is empty, too long or has control characters",
                ));
            }
            if pair.count > MAX_NUMBER {
                return Err(bad(schema, format!("count {} is out of range", pair.count)));
            }
            // The same pair twice would make "the count" of the message ambiguous.
            if !seen.insert((pair.zone.clone(), pair.sku.clone())) {
                return Err(bad(
                    schema,
                    format!("pair ({}, {}) is listed twice", pair.zone, pair.sku),
                ));
            }
            Ok(PairCount {
                zone: pair.zone,
                sku: pair.sku,
                count: pair.count,
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
