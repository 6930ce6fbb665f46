//! What arrives on a store's inbound subscriptions, sorted once: a command or a part of HQ's book stock to act on, or the reason it is ignored (wrong topic, a retained command, malformed, a cleared part).
//!
//! The store's uplink hands every inbound PUBLISH to [`parse_inbound`] and acts only on what it
//! returns; the fuzz target `inbound_command` drives the same function with arbitrary topics,
//! payloads and retain flags.

use crate::command::{ReplayCommand, SnapshotCommand};
use crate::error::ContractError;
use crate::expected::ExpectedPart;
use crate::sale::SaleCommand;
use crate::topics::{StoreTopic, Topics};

/// A command from HQ that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// `cmd/snapshot`.
    Snapshot(SnapshotCommand<'a>),
    /// `cmd/replay`.
    Replay(ReplayCommand<'a>),
    /// `cmd/sale`.
    Sale(SaleCommand<'a>),
    /// A part of HQ's book stock (`expected`, `expected/{k}`; retained, unlike commands).
    Expected(ExpectedPart<'a>),
}

/// Why an inbound message is not acted on; the store counts each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboundRefusal {
    /// Not `cmd/snapshot`, `cmd/replay` or `cmd/sale` of this store (or not UTF-8).
    UnexpectedTopic,
    /// A retained command: it would fire again at every reconnect.
    Retained,
    /// The payload breaks the command's rules (size, JSON shape, range, request id).
    Malformed(ContractError),
    /// An empty retained message on `expected`: HQ cleared a part; nothing to apply.
    Cleared,
}

/// Sorts one inbound message on `topic` (raw bytes, as the broker sent them) for the store of
/// `topics`.
pub fn parse_inbound<'a>(
    topics: &Topics,
    topic: &[u8],
    payload: &'a [u8],
    retain: bool,
) -> Result<Inbound<'a>, InboundRefusal> {
    let kind = std::str::from_utf8(topic)
        .ok()
        .and_then(|t| Topics::classify(topics.prefix(), t))
        .filter(|(store, _)| store == topics.store())
        .map(|(_, kind)| kind);
    let kind = match kind {
        Some(StoreTopic::Expected { part }) => return expected_part(part, payload),
        Some(kind @ (StoreTopic::CmdSnapshot | StoreTopic::CmdReplay | StoreTopic::CmdSale)) => {
            kind
        }
        _ => return Err(InboundRefusal::UnexpectedTopic),
    };
    if retain {
        return Err(InboundRefusal::Retained);
    }
    let parsed = match kind {
        StoreTopic::CmdSnapshot => SnapshotCommand::parse(payload).map(Inbound::Snapshot),
        StoreTopic::CmdSale => SaleCommand::parse(payload).map(Inbound::Sale),
        _ => ReplayCommand::parse(payload).map(Inbound::Replay),
    };
    parsed.map_err(InboundRefusal::Malformed)
}

/// A book stock part on the topic of part `part`, retained or not (a fresh subscription gets it
/// retained, a live publication does not).
fn expected_part(part: u32, payload: &[u8]) -> Result<Inbound<'_>, InboundRefusal> {
    if payload.is_empty() {
        return Err(InboundRefusal::Cleared);
    }
    let parsed = ExpectedPart::parse(payload).map_err(InboundRefusal::Malformed)?;
    if parsed.part != part {
        return Err(InboundRefusal::Malformed(ContractError::Invalid(format!(
            "part {} published on the topic of part {part}",
            parsed.part
        ))));
    }
    Ok(Inbound::Expected(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> Topics {
        Topics::new("tagtally/v1", "store-1").unwrap()
    }

    #[test]
    fn only_this_stores_commands_unretained_and_well_formed_pass() {
        let t = topics();
        let snapshot = b"tagtally/v1/store-1/cmd/snapshot";
        let replay = b"tagtally/v1/store-1/cmd/replay";
        assert_eq!(
            parse_inbound(&t, snapshot, b"", false),
            Ok(Inbound::Snapshot(SnapshotCommand::default()))
        );
        assert!(matches!(
            parse_inbound(&t, replay, br#"{"from_seq":2,"to_seq":5}"#, false),
            Ok(Inbound::Replay(ReplayCommand {
                from_seq: 2,
                to_seq: 5,
                ..
            }))
        ));
        assert_eq!(
            parse_inbound(&t, snapshot, b"", true),
            Err(InboundRefusal::Retained)
        );
        for other in [
            &b"tagtally/v1/store-2/cmd/snapshot"[..],
            b"tagtally/v1/store-1/delta",
            b"tagtally/v1/store-1/cmd/snapshot/x",
            b"tagtally/v1/store-1/cmd/\xFF",
            b"",
        ] {
            assert_eq!(
                parse_inbound(&t, other, b"", false),
                Err(InboundRefusal::UnexpectedTopic),
                "{other:?}"
            );
        }
        assert!(matches!(
            parse_inbound(&t, replay, br#"{"from_seq":5,"to_seq":2}"#, false),
            Err(InboundRefusal::Malformed(ContractError::Invalid(_)))
        ));
    }

    #[test]
    fn book_stock_parts_pass_retained_on_their_own_part_topic() {
        let t = topics();
        let part2 = br#"{"schema":"tagtally.expected/1","as_of":"t","expected_id":"e","part":2,"parts":2,"items":[]}"#;
        assert!(matches!(
            parse_inbound(&t, b"tagtally/v1/store-1/expected/2", part2, true),
            Ok(Inbound::Expected(ExpectedPart { part: 2, .. }))
        ));
        assert!(matches!(
            parse_inbound(&t, b"tagtally/v1/store-1/expected", part2, true),
            Err(InboundRefusal::Malformed(_))
        ));
        assert_eq!(
            parse_inbound(&t, b"tagtally/v1/store-1/expected/2", b"", true),
            Err(InboundRefusal::Cleared)
        );
        assert_eq!(
            parse_inbound(&t, b"tagtally/v1/store-2/expected", part2, true),
            Err(InboundRefusal::UnexpectedTopic)
        );
    }
}
