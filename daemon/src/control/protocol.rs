//! The control socket's wire format: JSON lines, each carrying `"version": 1`.
//!
//! A request is one line of at most [`MAX_REQUEST_BYTES`] bytes:
//! `{"version":1,"command":"status"|"readers"|"stock"|"tail"|"metrics"|"epcis", ...arguments}`;
//! `epcis` takes `since` and optionally `until` (RFC 3339, [`EpcisRange`]); `stock` takes
//! `zone` and `sku`, `tail` takes `kinds`, `zone`, `reader`, `sku` and `epc` (see
//! [`super::filter`]). Unknown arguments are errors, so a typo never silently widens a filter.
//!
//! A reply is one line `{"version":1,"<name>":<payload>}` where `<name>` is `status`,
//! `readers`, `stock`, `metrics` (the Prometheus text as one string), `epcis` (an EPCIS 2.0
//! EPCISDocument), `error` (a text), or, on a `tail` connection, first `subscribed` (the
//! filter in force) and then `event` (a [`TailEvent`]) or `dropped` (how many events this
//! client missed because it read too slowly) lines until either side closes.

use super::book::{ExpectedReply, ExpectedRequest, ReconcileReply, ReconcileRequest};
use super::filter::{EpcisRange, StockFilter, TailFilter};
use super::model::{ReaderStatus, Status, Stock, TailEvent};
use super::operations::{
    CountReply, CountRequest, DeparturesReply, DeparturesRequest, SaleReply, SaleRequest,
};
use super::replenish::{ReplenishReply, ReplenishRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The protocol version this build speaks; a request or reply with another one is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest request line, without its newline. Requests are a few dozen bytes; the bound
/// keeps a misbehaving client from growing the daemon's memory.
pub const MAX_REQUEST_BYTES: usize = 4096;

/// The most bytes the server reads while looking for one request line's end: the longest
/// request, a `\r` and the `\n`. Whatever a client sends, a connection buffers no more.
pub const MAX_REQUEST_READ: usize = MAX_REQUEST_BYTES + 2;

/// The longest reply line the client accepts: a store's full stock table (tens of thousands of
/// (zone, SKU) pairs) is a few MiB, so this only stops a runaway peer.
pub const MAX_REPLY_BYTES: usize = 64 * 1024 * 1024;

const COMMANDS: &str =
    "status, readers, stock, tail, metrics, epcis, count, sale, departures, expected, reconcile, replenish";

/// A request, as the client sends it and the server understands it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    /// Daemon health.
    Status,
    /// Reader and antenna links.
    Readers,
    /// Current counts, filtered.
    Stock(StockFilter),
    /// A live event stream, filtered; the connection carries nothing else afterwards.
    Tail(TailFilter),
    /// The Prometheus exposition of the daemon's metrics.
    Metrics,
    /// The committed EPCIS events of a time range, as one EPCISDocument.
    Epcis(EpcisRange),
    /// A count session operation (SPEC §10; see [`super::operations`]).
    Count(CountRequest),
    /// Till sales.
    Sale(SaleRequest),
    /// Departures per SKU and reason over a window.
    Departures(DeparturesRequest),
    /// Putting a book stock in place, or showing it (SPEC §10; see [`super::book`]).
    Expected(ExpectedRequest),
    /// Book stock against the count.
    Reconcile(ReconcileRequest),
    /// The replenishment pick list.
    Replenish(ReplenishRequest),
}

/// A reply line's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The answer to `status`.
    Status(Status),
    /// The answer to `readers`.
    Readers(Vec<ReaderStatus>),
    /// The answer to `stock`.
    Stock(Stock),
    /// The answer to `metrics`: Prometheus text exposition format 0.0.4.
    Metrics(String),
    /// The answer to `epcis`: an EPCIS 2.0 EPCISDocument.
    Epcis(Value),
    /// The first line of a `tail` stream: the filter in force.
    Subscribed(TailFilter),
    /// One event of a `tail` stream.
    Event(TailEvent),
    /// This many events were not sent to this client because it read too slowly.
    Dropped(u64),
    /// The answer to `count`.
    Count(CountReply),
    /// The answer to `sale`.
    Sale(SaleReply),
    /// The answer to `departures`.
    Departures(DeparturesReply),
    /// The answer to `expected`.
    Expected(ExpectedReply),
    /// The answer to `reconcile`.
    Reconcile(ReconcileReply),
    /// The answer to `replenish`.
    Replenish(ReplenishReply),
    /// A store operation the daemon understood and refused (no session, unknown zone, bad EPC).
    Refused(String),
    /// The request failed; the text says why.
    Error(String),
}

/// An event line borrowing its event, so that streaming to many clients clones nothing.
#[derive(Debug, Serialize)]
pub(crate) struct EventLine<'a> {
    /// The event.
    pub event: &'a TailEvent,
}

/// A line as it travels: the version beside the payload.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// Always [`PROTOCOL_VERSION`] when sent by this build.
    pub version: u32,
    /// The request or reply.
    #[serde(flatten)]
    pub body: T,
}

/// Why a request line was refused; the text is what the error reply says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The line is longer than [`MAX_REQUEST_BYTES`].
    #[error("request longer than {max} bytes")]
    TooLong {
        /// The bound.
        max: usize,
    },
    /// Not JSON.
    #[error("malformed request: {reason}")]
    Malformed {
        /// What the JSON parser said.
        reason: String,
    },
    /// JSON, but not an object.
    #[error("a request is a json object, not {found}")]
    NotAnObject {
        /// What it was instead.
        found: &'static str,
    },
    /// No `version` field.
    #[error("missing `version` (this daemon speaks version {PROTOCOL_VERSION})")]
    MissingVersion,
    /// A version this build does not speak.
    #[error("unsupported version {found} (this daemon speaks version {PROTOCOL_VERSION})")]
    UnsupportedVersion {
        /// The version as sent.
        found: String,
    },
    /// No `command` field, or not a string.
    #[error("missing `command` (one of {COMMANDS})")]
    MissingCommand,
    /// A command this build does not know.
    #[error("unknown command `{command}` (one of {COMMANDS})")]
    UnknownCommand {
        /// The command as sent.
        command: String,
    },
    /// Arguments that do not fit the command.
    #[error("bad `{command}` arguments: {reason}")]
    BadArguments {
        /// The command.
        command: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// What the server makes of one read from a client: see [`receive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// The client closed the connection between requests.
    Closed,
    /// A line of only whitespace: ignored, no reply.
    Blank,
    /// A request line, parsed or refused; a refusal gets an error reply and the connection stays
    /// open.
    Request(Result<Request, RequestError>),
    /// A line longer than [`MAX_REQUEST_BYTES`]: an error reply, then the connection is closed,
    /// because there is no trustworthy place to resume.
    TooLong,
}

/// Classifies `read`: what one `read_until(b'\n')` limited to [`MAX_REQUEST_READ`] bytes
/// returned, so empty only at the end of the stream. The line end is `\n` or `\r\n` and does
/// not count towards [`MAX_REQUEST_BYTES`]; a last line without a line end (the client
/// half-closed after it) is served as it is.
pub fn receive(read: &[u8]) -> Received {
    if read.is_empty() {
        return Received::Closed;
    }
    let line = match read.strip_suffix(b"\n") {
        Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
        None => read,
    };
    if line.len() > MAX_REQUEST_BYTES {
        Received::TooLong
    } else if line.iter().all(u8::is_ascii_whitespace) {
        Received::Blank
    } else {
        Received::Request(parse_request(line))
    }
}

/// Parses one request line (without its newline).
pub fn parse_request(line: &[u8]) -> Result<Request, RequestError> {
    if line.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLong {
            max: MAX_REQUEST_BYTES,
        });
    }
    let value: Value = serde_json::from_slice(line).map_err(|error| RequestError::Malformed {
        reason: error.to_string(),
    })?;
    let mut fields = match value {
        Value::Object(fields) => fields,
        other => {
            return Err(RequestError::NotAnObject {
                found: json_type(&other),
            })
        }
    };
    match fields.remove("version") {
        None => return Err(RequestError::MissingVersion),
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(PROTOCOL_VERSION)) => {}
        Some(other) => {
            return Err(RequestError::UnsupportedVersion {
                found: other.to_string(),
            })
        }
    }
    let command = match fields.remove("command") {
        Some(Value::String(command)) => command,
        _ => return Err(RequestError::MissingCommand),
    };
    match command.as_str() {
        "status" => no_arguments("status", fields).map(|()| Request::Status),
        "readers" => no_arguments("readers", fields).map(|()| Request::Readers),
        "metrics" => no_arguments("metrics", fields).map(|()| Request::Metrics),
        "stock" => arguments::<StockFilter>("stock", fields).map(Request::Stock),
        "epcis" => arguments::<EpcisRange>("epcis", fields).map(Request::Epcis),
        "tail" => arguments::<TailFilter>("tail", fields)
            .and_then(normalise_tail_filter)
            .map(Request::Tail),
        "count" => arguments::<CountRequest>("count", fields).map(Request::Count),
        "sale" => arguments::<SaleRequest>("sale", fields).map(Request::Sale),
        "departures" => {
            arguments::<DeparturesRequest>("departures", fields).map(Request::Departures)
        }
        "expected" => arguments::<ExpectedRequest>("expected", fields).map(Request::Expected),
        "reconcile" => arguments::<ReconcileRequest>("reconcile", fields).map(Request::Reconcile),
        "replenish" => arguments::<ReplenishRequest>("replenish", fields).map(Request::Replenish),
        _ => Err(RequestError::UnknownCommand { command }),
    }
}

/// Encodes `body` as one line (with its newline) into `out`, after what is already there.
pub fn encode_line<T: Serialize>(body: &T, out: &mut Vec<u8>) {
    let envelope = Envelope {
        version: PROTOCOL_VERSION,
        body,
    };
    // Serialising these types into memory cannot fail: every map key is a string and no
    // Serialize impl here returns an error. Should one ever fail, the peer gets an error reply
    // rather than a truncated line.
    if serde_json::to_writer(&mut *out, &envelope).is_err() {
        let reply = Envelope {
            version: PROTOCOL_VERSION,
            body: Reply::Error("internal error: reply could not be encoded".into()),
        };
        let _ = serde_json::to_writer(&mut *out, &reply);
    }
    out.push(b'\n');
}

fn no_arguments(command: &'static str, fields: Map<String, Value>) -> Result<(), RequestError> {
    match fields.keys().next() {
        None => Ok(()),
        Some(key) => Err(RequestError::BadArguments {
            command,
            reason: format!("`{command}` takes no arguments, got `{key}`"),
        }),
    }
}

fn arguments<T: serde::de::DeserializeOwned>(
    command: &'static str,
    fields: Map<String, Value>,
) -> Result<T, RequestError> {
    serde_json::from_value(Value::Object(fields)).map_err(|error| RequestError::BadArguments {
        command,
        reason: error.to_string(),
    })
}

/// EPC prefixes are compared with the lower-case hex of tail events, so they are checked and
/// lower-cased once here rather than on every event.
fn normalise_tail_filter(mut filter: TailFilter) -> Result<TailFilter, RequestError> {
    if let Some(prefix) = &mut filter.epc {
        if !prefix.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(RequestError::BadArguments {
                command: "tail",
                reason: format!("epc prefix `{prefix}` is not hex"),
            });
        }
        prefix.make_ascii_lowercase();
    }
    Ok(filter)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::model::TailKind;

    fn encode<T: Serialize>(body: &T) -> String {
        let mut out = Vec::new();
        encode_line(body, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn check(line: &str, expected: Result<Request, &str>) {
        let parsed = parse_request(line.as_bytes()).map_err(|error| error.to_string());
        assert_eq!(parsed, expected.map_err(str::to_owned), "{line}");
    }

    #[test]
    fn requests_round_trip() {
        let requests = [
            Request::Status,
            Request::Readers,
            Request::Metrics,
            Request::Stock(StockFilter::default()),
            Request::Epcis(EpcisRange {
                since: crate::control::Timestamp(
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_796_328_000_250),
                ),
                until: None,
            }),
            Request::Stock(StockFilter {
                zone: Some("floor".into()),
                sku: Some("80614141123458".into()),
            }),
            Request::Tail(TailFilter {
                kinds: vec![TailKind::Arrival, TailKind::Move],
                zone: Some("floor".into()),
                reader: None,
                sku: None,
                epc: Some("30f4".into()),
            }),
            Request::Count(CountRequest::Start {
                zone: "backroom".into(),
                reader: "sled".into(),
            }),
            Request::Count(CountRequest::Finish { zone: None }),
            Request::Count(CountRequest::Add {
                zone: "backroom".into(),
                epcs: vec!["3074".into()],
            }),
            Request::Sale(SaleRequest {
                epcs: vec!["3074257bf7194e4000001a85".into()],
            }),
            Request::Departures(DeparturesRequest { window_secs: 86400 }),
        ];
        for request in requests {
            let line = encode(&request);
            assert!(line.starts_with(r#"{"version":1,"command":"#), "{line}");
            check(line.trim_end(), Ok(request));
        }
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        check(
            "not json",
            Err("malformed request: expected ident at line 1 column 2"),
        );
        check("[1]", Err("a request is a json object, not an array"));
        check(
            r#"{"command":"status"}"#,
            Err("missing `version` (this daemon speaks version 1)"),
        );
        check(
            r#"{"version":2,"command":"status"}"#,
            Err("unsupported version 2 (this daemon speaks version 1)"),
        );
        check(
            r#"{"version":"1","command":"status"}"#,
            Err(r#"unsupported version "1" (this daemon speaks version 1)"#),
        );
        check(
            r#"{"version":1}"#,
            Err("missing `command` (one of status, readers, stock, tail, metrics, epcis, count, sale, departures, expected, reconcile, replenish)"),
        );
        check(
            r#"{"version":1,"command":"reboot"}"#,
            Err("unknown command `reboot` (one of status, readers, stock, tail, metrics, epcis, count, sale, departures, expected, reconcile, replenish)"),
        );
        check(
            r#"{"version":1,"command":"status","verbose":true}"#,
            Err("bad `status` arguments: `status` takes no arguments, got `verbose`"),
        );
        check(
            r#"{"version":1,"command":"stock","zne":"floor"}"#,
            Err("bad `stock` arguments: unknown field `zne`, expected `zone` or `sku`"),
        );
        check(
            r#"{"version":1,"command":"stock","zone":7}"#,
            Err("bad `stock` arguments: invalid type: integer `7`, expected a string"),
        );
        check(
            r#"{"version":1,"command":"tail","epc":"30zz"}"#,
            Err("bad `tail` arguments: epc prefix `30zz` is not hex"),
        );
        let long = format!(
            r#"{{"version":1,"command":"stock","zone":"{}"}}"#,
            "z".repeat(5000)
        );
        check(&long, Err("request longer than 4096 bytes"));
    }

    /// A request of exactly `len` bytes (a `stock` request padded in its zone).
    fn request_of(len: usize) -> Vec<u8> {
        let prefix = r#"{"version":1,"command":"stock","zone":""#;
        let mut line = prefix.as_bytes().to_vec();
        line.resize(len - 2, b'z');
        line.extend_from_slice(b"\"}");
        line
    }

    #[test]
    fn receive_tells_end_of_stream_blank_lines_and_requests_apart() {
        assert_eq!(receive(b""), Received::Closed);
        assert_eq!(receive(b"\n"), Received::Blank);
        assert_eq!(receive(b" \t\r\n"), Received::Blank);
        let status = Received::Request(Ok(Request::Status));
        assert_eq!(receive(b"{\"version\":1,\"command\":\"status\"}\n"), status);
        assert_eq!(
            receive(b"{\"version\":1,\"command\":\"status\"}\r\n"),
            status
        );
        // The client half-closed after a last request without a line end.
        assert_eq!(receive(b"{\"version\":1,\"command\":\"status\"}"), status);
        assert!(matches!(
            receive(b"{\"version\":1\n"),
            Received::Request(Err(RequestError::Malformed { .. }))
        ));
    }

    #[test]
    fn the_bound_does_not_count_the_line_end() {
        let exact = request_of(MAX_REQUEST_BYTES);
        for end in [&b"\n"[..], b"\r\n", b""] {
            let read = [&exact[..], end].concat();
            assert!(read.len() <= MAX_REQUEST_READ);
            assert!(
                matches!(receive(&read), Received::Request(Ok(Request::Stock(_)))),
                "{end:?}"
            );
        }
        // What a read limited to MAX_REQUEST_READ returns for a longer line, with or without
        // its end in reach.
        let over = request_of(MAX_REQUEST_BYTES + 1);
        assert_eq!(receive(&[&over[..], b"\n"].concat()), Received::TooLong);
        assert_eq!(receive(&over), Received::TooLong);
        assert_eq!(
            receive(&request_of(64 * 1024)[..MAX_REQUEST_READ]),
            Received::TooLong
        );
    }

    #[test]
    fn epc_prefix_is_lower_cased() {
        check(
            r#"{"version":1,"command":"tail","epc":"30F4"}"#,
            Ok(Request::Tail(TailFilter {
                epc: Some("30f4".into()),
                ..TailFilter::default()
            })),
        );
    }

    #[test]
    fn replies_carry_the_version_and_round_trip() {
        let line = encode(&Reply::Dropped(12));
        assert_eq!(line, "{\"version\":1,\"dropped\":12}\n");
        let back: Envelope<Reply> = serde_json::from_str(&line).unwrap();
        assert_eq!((back.version, back.body), (1, Reply::Dropped(12)));
        assert_eq!(
            encode(&Reply::Error("unknown command `x`".into())),
            "{\"version\":1,\"error\":\"unknown command `x`\"}\n"
        );
    }
}
