//! Brings a real `LlrpSession` to its streaming phase without a socket: plays a compliant reader answering each request of the connection sequence.
//!
//! Only the session's public, sans-IO API is used (start → `Connect`, `on_connected`, the
//! ConnectionAttemptEvent, then one answer per request), the way the session's own unit tests
//! drive it; nothing of its logic is copied here. The handshake is untimed: the benchmark only
//! times what follows, the stream of reports.

use tagtally_core::{Session, SessionAction};
use tagtally_protocol::llrp::{
    ConnectionAttemptStatus, GeneralDeviceCapabilities, LlrpStatus, Message, MessageType,
    MessageView, ProtocolVersion, ReaderCapabilities, ReaderEvent, ReaderEventNotificationData,
    Timestamp,
};
use tagtally_reader_drivers::llrp::LlrpSession;
use tagtally_reader_drivers::Now;
use tagtally_reader_drivers::{DriverEvent, DriverOutput};
use thiserror::Error;

/// Requests answered before giving up: the sequence has at most eight.
const MAX_REQUESTS: usize = 16;

/// Manufacturer id of the played reader: not Impinj, so the plain LLRP sequence is used (the
/// report path is the same either way).
const MANUFACTURER: u32 = 0;

/// Why the session did not reach streaming; a bug in the session or in this reader, not in the input.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// The session did not ask to connect when started.
    #[error("the llrp session did not ask to connect when started")]
    NoConnect,
    /// The session sent something the played reader cannot answer.
    #[error("the llrp session sent {msg_type:?}, which the benchmark's reader does not answer")]
    Unanswerable { msg_type: MessageType },
    /// The session stopped asking without streaming (it may have dropped the link).
    #[error("the llrp session stopped before streaming: {reason}")]
    Stalled { reason: String },
    /// The session kept asking.
    #[error("the llrp session was still not streaming after {requests} requests")]
    TooManyRequests { requests: usize },
}

/// Starts `session` and answers its connection sequence at `now`, until it streams.
pub fn bring_up(session: &mut LlrpSession, now: Now) -> Result<(), HandshakeError> {
    session.start(now);
    let started = drain(session);
    if !started.contains(&SessionAction::Connect) {
        return Err(HandshakeError::NoConnect);
    }
    session.on_connected(now);
    drain(session);
    let connected = Message::ReaderEventNotification(ReaderEventNotificationData {
        timestamp: Some(Timestamp::Utc(now.utc.0)),
        events: vec![ReaderEvent::ConnectionAttempt(
            ConnectionAttemptStatus::Success,
        )],
    });
    let mut actions = feed(session, now, &connected, 0);
    for _ in 0..MAX_REQUESTS {
        if session.is_streaming() {
            return Ok(());
        }
        let Some((msg_type, id)) = last_request(&actions) else {
            return Err(HandshakeError::Stalled {
                reason: link_down_reason(&actions)
                    .unwrap_or_else(|| "no request outstanding".into()),
            });
        };
        actions = feed(session, now, &answer(msg_type)?, id);
    }
    if session.is_streaming() {
        Ok(())
    } else {
        Err(HandshakeError::TooManyRequests {
            requests: MAX_REQUESTS,
        })
    }
}

/// What a compliant reader answers to `request`.
fn answer(request: MessageType) -> Result<Message, HandshakeError> {
    let ok = LlrpStatus::success;
    Ok(match request {
        MessageType::GetReaderCapabilities => {
            Message::GetReaderCapabilitiesResponse(ReaderCapabilities {
                status: ok(),
                general: Some(GeneralDeviceCapabilities {
                    max_antennas: 4,
                    can_set_antenna_properties: false,
                    has_utc_clock: true,
                    manufacturer: MANUFACTURER,
                    model: 0,
                    firmware_version: "tagtally-bench".into(),
                }),
                regulatory: None,
            })
        }
        MessageType::CustomMessage => Message::ImpinjEnableExtensionsResponse(ok()),
        MessageType::SetReaderConfig => Message::SetReaderConfigResponse(ok()),
        MessageType::DeleteRoSpec => Message::DeleteRoSpecResponse(ok()),
        MessageType::AddRoSpec => Message::AddRoSpecResponse(ok()),
        MessageType::EnableRoSpec => Message::EnableRoSpecResponse(ok()),
        MessageType::StartRoSpec => Message::StartRoSpecResponse(ok()),
        msg_type => return Err(HandshakeError::Unanswerable { msg_type }),
    })
}

fn feed(session: &mut LlrpSession, now: Now, message: &Message, id: u32) -> Vec<SessionAction> {
    let mut bytes = Vec::new();
    // Every answer above is small and well-formed; were one not to encode, the session would see
    // no answer and `bring_up` reports it as stalled.
    if message
        .encode(ProtocolVersion::V1_0_1, id, &mut bytes)
        .is_ok()
    {
        session.on_bytes(now, &bytes);
    }
    drain(session)
}

fn drain(session: &mut LlrpSession) -> Vec<SessionAction> {
    std::iter::from_fn(|| session.poll_action()).collect()
}

/// The type and id of the last request the session sent (EnableEventsAndReports has no response).
fn last_request(actions: &[SessionAction]) -> Option<(MessageType, u32)> {
    actions.iter().rev().find_map(|action| match action {
        SessionAction::Send(bytes) => {
            let header = MessageView::new_checked(bytes).ok()?.header();
            (header.msg_type != MessageType::EnableEventsAndReports)
                .then_some((header.msg_type, header.id))
        }
        _ => None,
    })
}

fn link_down_reason(actions: &[SessionAction]) -> Option<String> {
    actions.iter().find_map(|action| match action {
        SessionAction::Output(DriverOutput::Event(DriverEvent::LinkDown { reason, .. })) => {
            Some(reason.clone())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use tagtally_reader_drivers::llrp::LlrpSettings;
    use tagtally_reader_drivers::{Micros, ReaderId};

    #[test]
    fn a_fresh_session_reaches_streaming() {
        let now = Now {
            instant: Instant::now(),
            utc: Micros(1_700_000_000_000_000),
        };
        let mut session =
            LlrpSession::new(LlrpSettings::new(ReaderId(0), "bench:5084"), 1, now.instant);
        assert!(!session.is_streaming());
        bring_up(&mut session, now).unwrap();
        assert!(session.is_streaming());
        assert_eq!(session.counters().connects, 1);
    }

    #[test]
    fn a_started_session_is_not_started_twice() {
        let now = Now {
            instant: Instant::now(),
            utc: Micros(1_700_000_000_000_000),
        };
        let mut session =
            LlrpSession::new(LlrpSettings::new(ReaderId(0), "bench:5084"), 1, now.instant);
        bring_up(&mut session, now).unwrap();
        assert_eq!(bring_up(&mut session, now), Err(HandshakeError::NoConnect));
    }
}
