//! A read-only look at an LLRP reader: identity, antennas, power table and ROSpecs, changing nothing (`tagtally llrp probe`).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tagtally_protocol::llrp::{
    next_frame, CapabilitiesRequest, ConnectionAttemptStatus, DecodeError, FrameError, FrameLimits,
    Framed, Message, MessageType, ProtocolVersion, ReaderEvent, RoSpec,
};

use super::error::LinkError;
use super::model_name::describe;

/// What a probe found.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeReport {
    /// "Impinj R700".
    pub model: String,
    /// DeviceManufacturerName (IANA number) and ModelName.
    pub manufacturer: u32,
    pub model_number: u32,
    pub firmware: String,
    pub antennas: u16,
    pub has_utc_clock: bool,
    /// (index, centi-dBm), as the reader lists them.
    pub power_table: Vec<(u16, i16)>,
    /// The ROSpecs the reader holds, with their state.
    pub rospecs: Vec<RoSpec>,
    /// The LLRP version the reader spoke.
    pub version: ProtocolVersion,
}

/// Why a probe failed: the reader refused or said no, or the link failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: String, reason: String },
    /// Another client holds the reader, or it refused for another reason.
    #[error("{0}")]
    Refused(LinkError),
    #[error("{request} rejected: {status}")]
    Rejected {
        request: &'static str,
        status: String,
    },
    #[error("no {waiting_for} from the reader within {waited:?}")]
    Timeout {
        waiting_for: &'static str,
        waited: Duration,
    },
    #[error("the reader closed the connection while we waited for {waiting_for}")]
    Closed { waiting_for: &'static str },
    #[error("unreadable byte stream: {0}")]
    Framing(FrameError),
    #[error("undecodable {waiting_for}: {error}")]
    Decode {
        waiting_for: &'static str,
        error: DecodeError,
    },
    #[error("link error: {0}")]
    Io(String),
}

/// One connection speaking request/response, answering keepalives while it waits.
struct Conversation {
    stream: TcpStream,
    rx: Vec<u8>,
    version: ProtocolVersion,
    next_id: u32,
    timeout: Duration,
}

impl Conversation {
    async fn send(&mut self, message: &Message, id: u32) -> Result<(), ProbeError> {
        let mut bytes = Vec::new();
        message
            .encode(self.version, id, &mut bytes)
            .map_err(|e| ProbeError::Io(e.to_string()))?;
        self.stream
            .write_all(&bytes)
            .await
            .map_err(|e| ProbeError::Io(e.to_string()))
    }

    /// The next message `accept` takes; others are skipped (keepalives answered).
    async fn wait_for<T>(
        &mut self,
        waiting_for: &'static str,
        mut accept: impl FnMut(MessageType, Message) -> Option<T>,
    ) -> Result<T, ProbeError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let limits = FrameLimits::default();
        loop {
            while let Framed::Complete { message, consumed } =
                next_frame(&self.rx, &limits).map_err(ProbeError::Framing)?
            {
                let header = message.header();
                let decoded = Message::decode(&message);
                self.rx.drain(..consumed);
                if header.msg_type == MessageType::Keepalive {
                    self.send(&Message::KeepaliveAck, header.id).await?;
                    continue;
                }
                let decoded = decoded.map_err(|error| ProbeError::Decode { waiting_for, error })?;
                if self.version != header.version && waiting_for == "connection attempt event" {
                    self.version = header.version;
                }
                if let Some(found) = accept(header.msg_type, decoded) {
                    return Ok(found);
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk))
                .await
                .map_err(|_| ProbeError::Timeout {
                    waiting_for,
                    waited: self.timeout,
                })?
                .map_err(|e| ProbeError::Io(e.to_string()))?;
            if read == 0 {
                return Err(ProbeError::Closed { waiting_for });
            }
            self.rx.extend_from_slice(chunk.get(..read).unwrap_or(&[]));
        }
    }

    async fn request<T>(
        &mut self,
        message: Message,
        request: &'static str,
        response: MessageType,
        mut take: impl FnMut(Message) -> Option<T>,
    ) -> Result<T, ProbeError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&message, id).await?;
        let answer = self
            .wait_for(request, |msg_type, message| {
                (msg_type == response || msg_type == MessageType::ErrorMessage).then_some(message)
            })
            .await?;
        if let Some(status) = answer.status().filter(|s| !s.is_success()) {
            return Err(ProbeError::Rejected {
                request,
                status: status.to_string(),
            });
        }
        take(answer).ok_or(ProbeError::Closed {
            waiting_for: request,
        })
    }
}

/// Connects to `address` (`host:port`), reads identity, capabilities and ROSpecs, and closes
/// with CLOSE_CONNECTION; sends nothing that changes the reader. `timeout` bounds each wait.
pub async fn probe(address: &str, timeout: Duration) -> Result<ProbeReport, ProbeError> {
    let connect_error = |reason: String| ProbeError::Connect {
        address: address.to_owned(),
        reason,
    };
    let stream = tokio::time::timeout(timeout, TcpStream::connect(address))
        .await
        .map_err(|_| connect_error(format!("timed out after {timeout:?}")))?
        .map_err(|e| connect_error(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let mut c = Conversation {
        stream,
        rx: Vec::new(),
        version: ProtocolVersion::V1_0_1,
        next_id: 1,
        timeout,
    };
    let status = c
        .wait_for("connection attempt event", |_, message| match message {
            Message::ReaderEventNotification(data) => {
                data.events.into_iter().find_map(|e| match e {
                    ReaderEvent::ConnectionAttempt(status) => Some(status),
                    _ => None,
                })
            }
            _ => None,
        })
        .await?;
    if status != ConnectionAttemptStatus::Success {
        return Err(ProbeError::Refused(LinkError::ConnectionRefused { status }));
    }
    let caps = c
        .request(
            Message::GetReaderCapabilities(CapabilitiesRequest::All),
            "GET_READER_CAPABILITIES",
            MessageType::GetReaderCapabilitiesResponse,
            |m| match m {
                Message::GetReaderCapabilitiesResponse(caps) => Some(caps),
                _ => None,
            },
        )
        .await?;
    let rospecs = c
        .request(
            Message::GetRoSpecs,
            "GET_ROSPECS",
            MessageType::GetRoSpecsResponse,
            |m| match m {
                Message::GetRoSpecsResponse { rospecs, .. } => Some(rospecs),
                _ => None,
            },
        )
        .await?;
    // Polite close; a reader that just drops us instead is fine too.
    let _ = c
        .request(
            Message::CloseConnection,
            "CLOSE_CONNECTION",
            MessageType::CloseConnectionResponse,
            Some,
        )
        .await;
    let general =
        caps.general
            .unwrap_or_else(|| tagtally_protocol::llrp::GeneralDeviceCapabilities {
                max_antennas: 0,
                can_set_antenna_properties: false,
                has_utc_clock: false,
                manufacturer: 0,
                model: 0,
                firmware_version: String::new(),
            });
    Ok(ProbeReport {
        model: describe(general.manufacturer, general.model),
        manufacturer: general.manufacturer,
        model_number: general.model,
        // Printed to the technician's terminal: the reader's text escaped where it enters.
        firmware: tagtally_protocol::text::escape(&general.firmware_version),
        antennas: general.max_antennas,
        has_utc_clock: general.has_utc_clock,
        power_table: caps
            .regulatory
            .map(|r| {
                r.transmit_power_table
                    .iter()
                    .map(|l| (l.index, l.centi_dbm))
                    .collect()
            })
            .unwrap_or_default(),
        rospecs,
        version: c.version,
    })
}
