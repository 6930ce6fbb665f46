//! Fuzz target: arbitrary inbound MQTT messages (topic bytes, payload bytes, retain flag) through
//! `tagtally_contract::parse_inbound`, the one function the store's uplink sorts `cmd/snapshot` and
//! `cmd/replay` and `cmd/sale` with, and every accepted command through the daemon's `CommandGate`; checked
//! against an oracle written from SPEC §6.1 and the contract's bounds.

#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use tagtally::uplink::{Command, CommandGate, SALE_MIN_INTERVAL};
use tagtally_contract::{
    parse_inbound, ExpectedPart, Inbound, InboundRefusal, ReplayCommand, SaleCommand,
    SnapshotCommand, Topics, MAX_COMMAND_BYTES, MAX_EXPECTED_PART_BYTES, MAX_REQUEST_ID_LEN,
    MAX_SALE_BYTES,
};

const SNAPSHOT_TOPIC: &[u8] = b"tagtally/v1/store-1/cmd/snapshot";
const REPLAY_TOPIC: &[u8] = b"tagtally/v1/store-1/cmd/replay";
const SALE_TOPIC: &[u8] = b"tagtally/v1/store-1/cmd/sale";
const MIN_INTERVAL: Duration = Duration::from_secs(5);

/// A request id the store may echo: bounded, no control characters.
fn check_request_id(id: Option<&str>) {
    if let Some(id) = id {
        assert!((1..=MAX_REQUEST_ID_LEN).contains(&id.len()), "{id:?}");
        assert!(!id.chars().any(char::is_control), "{id:?}");
    }
}

/// Input layout: byte 0 = flags (bit 0 retain, bits 1-2 pick the topic: the three command topics,
/// or topic bytes taken from the input), byte 1 = time step between messages in 100 ms, then
/// messages separated by 0xFF 0x00 (topic and payload separated by 0xFF 0x01 when the topic comes
/// from the input).
fn messages(data: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() && out.len() < 64 {
        let (message, next) = match rest.windows(2).position(|w| w == [0xFF, 0x00]) {
            Some(i) => (&rest[..i], &rest[i + 2..]),
            None => (rest, &[][..]),
        };
        let (topic, payload) = match message.windows(2).position(|w| w == [0xFF, 0x01]) {
            Some(i) => (&message[..i], &message[i + 2..]),
            None => (&[][..], message),
        };
        out.push((topic, payload));
        rest = next;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [flags, step, rest @ ..] = data else {
        return;
    };
    let topics = Topics::new("tagtally/v1", "store-1").expect("valid topics");
    let retain = flags & 1 == 1;
    let step = Duration::from_millis(100 * u64::from(*step));
    let mut gate = CommandGate::new(MIN_INTERVAL);
    let t0 = Instant::now();
    // (when, kind): 0 snapshot, 1 replay, 2 sale.
    let mut served: Vec<(Instant, u8)> = Vec::new();
    for (i, (own_topic, payload)) in messages(rest).into_iter().enumerate() {
        let topic = match (flags >> 1) & 3 {
            0 => SNAPSHOT_TOPIC,
            1 => REPLAY_TOPIC,
            2 => SALE_TOPIC,
            _ => own_topic,
        };
        let result = parse_inbound(&topics, topic, payload, retain);
        let is_sale = topic == SALE_TOPIC;
        let is_command_topic = topic == SNAPSHOT_TOPIC || topic == REPLAY_TOPIC || is_sale;
        let is_expected = topic == topics.expected().as_bytes();
        let command = match result {
            Err(InboundRefusal::UnexpectedTopic) => {
                assert!(!is_command_topic, "a command topic refused as unexpected");
                continue;
            }
            Err(InboundRefusal::Cleared) => {
                assert!(payload.is_empty(), "a part cleared by a payload");
                continue;
            }
            Err(InboundRefusal::Malformed(e)) if !is_command_topic => {
                assert!(!e.to_string().is_empty());
                continue;
            }
            Ok(Inbound::Expected(part)) => {
                // A book part passes retained or not, bounded, on its own part's topic.
                assert!(is_expected || part.part > 1, "a book part off an expected topic");
                assert!(payload.len() <= MAX_EXPECTED_PART_BYTES);
                let bytes = part.encode();
                let back = ExpectedPart::parse(&bytes);
                assert_eq!(back.as_ref(), Ok(&part));
                continue;
            }
            Err(InboundRefusal::Retained) => {
                assert!(retain && is_command_topic);
                continue;
            }
            Err(InboundRefusal::Malformed(e)) => {
                assert!(is_command_topic && !retain);
                assert!(!e.to_string().is_empty());
                continue;
            }
            Ok(inbound) => inbound,
        };
        assert!(is_command_topic && !retain, "accepted off a command topic");
        let bound = if is_sale { MAX_SALE_BYTES } else { MAX_COMMAND_BYTES };
        assert!(payload.len() <= bound, "{} bytes", payload.len());
        // Re-encoded, the command parses back equal.
        let command = match command {
            Inbound::Snapshot(c) => {
                assert_eq!(topic, SNAPSHOT_TOPIC);
                check_request_id(c.request_id.as_deref());
                let bytes = c.encode();
                assert_eq!(SnapshotCommand::parse(&bytes).as_ref(), Ok(&c));
                Command::Snapshot {
                    request_id: c.request_id.map(|r| r.into_owned()),
                }
            }
            Inbound::Replay(c) => {
                assert_eq!(topic, REPLAY_TOPIC);
                assert!(1 <= c.from_seq && c.from_seq <= c.to_seq, "{c:?}");
                check_request_id(c.request_id.as_deref());
                let bytes = c.encode();
                assert_eq!(ReplayCommand::parse(&bytes).as_ref(), Ok(&c));
                Command::Replay {
                    from_seq: c.from_seq,
                    to_seq: c.to_seq,
                    request_id: c.request_id.map(|r| r.into_owned()),
                }
            }
            Inbound::Expected(_) => unreachable!("sorted above"),
            Inbound::Sale(c) => {
                assert!(is_sale);
                check_request_id(c.request_id.as_deref());
                // A basket passes whole or not at all: every EPC is valid hex.
                assert_eq!(c.epc_bytes().len(), c.epcs.len(), "{c:?}");
                let bytes = c.encode();
                assert_eq!(SaleCommand::parse(&bytes).as_ref(), Ok(&c));
                Command::Sale {
                    epcs: c.epc_bytes(),
                    request_ids: c.request_id.map(|r| r.into_owned()).into_iter().collect(),
                }
            }
        };
        // Through the gate: each kind served at most once per interval, whatever arrives.
        let now = t0 + step * i as u32;
        gate.offer(command);
        for c in gate.due(now) {
            let kind = match c {
                Command::Snapshot { .. } => 0,
                Command::Replay { .. } => 1,
                Command::Sale { .. } => 2,
            };
            served.push((now, kind));
        }
    }
    for (kind, interval) in [(0, MIN_INTERVAL), (1, MIN_INTERVAL), (2, SALE_MIN_INTERVAL)] {
        let times: Vec<Instant> = served
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(t, _)| *t)
            .collect();
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= interval, "served twice within the interval");
        }
    }
});
