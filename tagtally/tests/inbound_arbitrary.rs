//! Arbitrary inbound MQTT messages through the uplink's one entry point (`parse_inbound`) and the
//! command gate, as a property test: the stable-toolchain companion of the `inbound_command` fuzz
//! target (`protocol/fuzz`), run on every `cargo test`. Nothing panics; only this store's
//! unretained, bounded, well-formed commands pass; each kind is served at most once per interval.
//! `PROPTEST_CASES` raises the case count for a longer run.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use tagtally::uplink::{Command, CommandGate, SALE_MIN_INTERVAL};
use tagtally_contract::{
    parse_inbound, ExpectedPart, Inbound, InboundRefusal, ReplayCommand, SaleCommand,
    SnapshotCommand, Topics, MAX_COMMAND_BYTES, MAX_EXPECTED_PART_BYTES, MAX_REQUEST_ID_LEN,
    MAX_SALE_BYTES,
};

const SNAPSHOT_TOPIC: &str = "tagtally/v1/store-1/cmd/snapshot";
const REPLAY_TOPIC: &str = "tagtally/v1/store-1/cmd/replay";
const SALE_TOPIC: &str = "tagtally/v1/store-1/cmd/sale";
const EXPECTED_TOPIC: &str = "tagtally/v1/store-1/expected";
const MIN_INTERVAL: Duration = Duration::from_secs(5);

/// Topics: the three command topics, near misses, and arbitrary bytes.
fn topic() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(SNAPSHOT_TOPIC.as_bytes().to_vec()),
        Just(REPLAY_TOPIC.as_bytes().to_vec()),
        Just(SALE_TOPIC.as_bytes().to_vec()),
        Just(EXPECTED_TOPIC.as_bytes().to_vec()),
        Just(b"tagtally/v1/store-2/cmd/replay".to_vec()),
        Just(b"tagtally/v1/store-1/cmd/replay/1".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..80),
    ]
}

/// Payloads: near-valid commands, JSON-ish text, arbitrary bytes, and oversized ones.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            any::<i64>(),
            any::<i64>(),
            proptest::option::of("\\PC{0,140}")
        )
            .prop_map(|(from, to, id)| {
                let id = id.map_or(String::new(), |id| {
                    format!(r#","request_id":{}"#, serde_json::Value::String(id))
                });
                format!(r#"{{"from_seq":{from},"to_seq":{to}{id}}}"#).into_bytes()
            }),
        "[ {}\":a-z0-9,_\\\\\\u{1b}]{0,60}".prop_map(String::into_bytes),
        proptest::collection::vec("[0-9a-fA-F]{0,30}", 0..6)
            .prop_map(|epcs| { serde_json::json!({ "epcs": epcs }).to_string().into_bytes() }),
        (
            proptest::collection::vec(("\\PC{0,20}", any::<i64>()), 0..5),
            0u32..3,
            0u32..3
        )
            .prop_map(|(items, part, parts)| {
                let items: Vec<_> = items
                    .into_iter()
                    .map(|(sku, count)| serde_json::json!({ "sku": sku, "count": count }))
                    .collect();
                serde_json::json!({"schema": "tagtally.expected/1", "as_of": "t",
                    "expected_id": "e", "part": part, "parts": parts, "items": items})
                .to_string()
                .into_bytes()
            }),
        proptest::collection::vec(any::<u8>(), 0..200),
        (MAX_COMMAND_BYTES - 2..MAX_COMMAND_BYTES + 3).prop_map(|n| vec![b' '; n]),
        (MAX_SALE_BYTES - 2..MAX_SALE_BYTES + 3).prop_map(|n| vec![b' '; n]),
    ]
}

fn check_request_id(id: Option<&str>) {
    if let Some(id) = id {
        assert!((1..=MAX_REQUEST_ID_LEN).contains(&id.len()), "{id:?}");
        assert!(!id.chars().any(char::is_control), "{id:?}");
    }
}

proptest! {
    // 500 cases on every `cargo test` (a few seconds); PROPTEST_CASES for a long run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(500),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_inbound_messages_are_sorted_safely(
        messages in proptest::collection::vec((topic(), payload(), any::<bool>(), 0u64..80), 1..24)
    ) {
        let topics = Topics::new("tagtally/v1", "store-1").expect("valid topics");
        let mut gate = CommandGate::new(MIN_INTERVAL);
        let t0 = Instant::now();
        let mut at = t0;
        // (when, kind): 0 snapshot, 1 replay, 2 sale.
        let mut served: Vec<(Instant, u8)> = Vec::new();
        for (topic, payload, retain, step) in &messages {
            at += Duration::from_millis(100 * step);
            let is_sale = topic == SALE_TOPIC.as_bytes();
            let is_command_topic =
                topic == SNAPSHOT_TOPIC.as_bytes() || topic == REPLAY_TOPIC.as_bytes() || is_sale;
            let is_expected = topic == EXPECTED_TOPIC.as_bytes();
            let command = match parse_inbound(&topics, topic, payload, *retain) {
                Err(InboundRefusal::UnexpectedTopic) => {
                    prop_assert!(!is_command_topic && !is_expected);
                    continue;
                }
                Err(InboundRefusal::Cleared) => {
                    prop_assert!(is_expected && payload.is_empty());
                    continue;
                }
                Err(InboundRefusal::Malformed(e)) if is_expected => {
                    prop_assert!(!e.to_string().is_empty());
                    continue;
                }
                Ok(Inbound::Expected(part)) => {
                    // A book part passes retained or not, bounded, on its own part's topic.
                    prop_assert!(is_expected && part.part == 1);
                    prop_assert!(payload.len() <= MAX_EXPECTED_PART_BYTES);
                    let bytes = part.encode();
                    let back = ExpectedPart::parse(&bytes);
                    prop_assert_eq!(back.as_ref(), Ok(&part));
                    continue;
                }
                Err(InboundRefusal::Retained) => {
                    prop_assert!(*retain && is_command_topic);
                    continue;
                }
                Err(InboundRefusal::Malformed(e)) => {
                    prop_assert!(is_command_topic && !*retain);
                    prop_assert!(!e.to_string().is_empty());
                    continue;
                }
                Ok(inbound) => inbound,
            };
            prop_assert!(is_command_topic && !*retain);
            let bound = if is_sale { MAX_SALE_BYTES } else { MAX_COMMAND_BYTES };
            prop_assert!(payload.len() <= bound);
            let command = match command {
                Inbound::Snapshot(c) => {
                    prop_assert_eq!(topic.as_slice(), SNAPSHOT_TOPIC.as_bytes());
                    check_request_id(c.request_id.as_deref());
                    let bytes = c.encode();
                    let back = SnapshotCommand::parse(&bytes);
                    prop_assert_eq!(back.as_ref(), Ok(&c));
                    Command::Snapshot { request_id: c.request_id.map(|r| r.into_owned()) }
                }
                Inbound::Replay(c) => {
                    prop_assert_eq!(topic.as_slice(), REPLAY_TOPIC.as_bytes());
                    prop_assert!(1 <= c.from_seq && c.from_seq <= c.to_seq);
                    check_request_id(c.request_id.as_deref());
                    let bytes = c.encode();
                    let back = ReplayCommand::parse(&bytes);
                    prop_assert_eq!(back.as_ref(), Ok(&c));
                    Command::Replay {
                        from_seq: c.from_seq,
                        to_seq: c.to_seq,
                        request_id: c.request_id.map(|r| r.into_owned()),
                    }
                }
                Inbound::Expected(_) => unreachable!("sorted above"),
                Inbound::Sale(c) => {
                    prop_assert!(is_sale);
                    check_request_id(c.request_id.as_deref());
                    // A basket passes whole or not at all: every EPC is valid hex.
                    prop_assert_eq!(c.epc_bytes().len(), c.epcs.len());
                    let bytes = c.encode();
                    let back = SaleCommand::parse(&bytes);
                    prop_assert_eq!(back.as_ref(), Ok(&c));
                    Command::Sale {
                        epcs: c.epc_bytes(),
                        request_ids: c.request_id.map(|r| r.into_owned()).into_iter().collect(),
                    }
                }
            };
            gate.offer(command);
            for c in gate.due(at) {
                let kind = match c {
                    Command::Snapshot { .. } => 0,
                    Command::Replay { .. } => 1,
                    Command::Sale { .. } => 2,
                };
                served.push((at, kind));
            }
        }
        for (kind, interval) in [(0, MIN_INTERVAL), (1, MIN_INTERVAL), (2, SALE_MIN_INTERVAL)] {
            let times: Vec<Instant> =
                served.iter().filter(|(_, k)| *k == kind).map(|(t, _)| *t).collect();
            for pair in times.windows(2) {
                prop_assert!(pair[1] - pair[0] >= interval, "served twice within the interval");
            }
        }
    }
}
