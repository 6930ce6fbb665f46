//! Fuzz target: arbitrary bytes as a control-socket client's stream, cut into lines the way the
//! server reads them and classified by the daemon's own `receive`; checked against an oracle that
//! cuts lines independently, with every error reply and every accepted request re-encoded.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtally::control::protocol::{
    encode_line, parse_request, receive, Envelope, Received, Reply, Request, RequestError,
    MAX_REQUEST_BYTES, MAX_REQUEST_READ, PROTOCOL_VERSION,
};

/// An error reply is one versioned JSON line that carries the error's text.
fn check_error_reply(error: &RequestError) {
    let text = error.to_string();
    assert!(!text.is_empty());
    let mut out = Vec::new();
    encode_line(&Reply::Error(text.clone()), &mut out);
    assert_eq!(out.iter().filter(|&&byte| byte == b'\n').count(), 1);
    assert_eq!(out.last(), Some(&b'\n'), "a reply ends its line");
    let back: Envelope<Reply> = serde_json::from_slice(&out).expect("an error reply is json");
    assert_eq!(back.version, PROTOCOL_VERSION);
    assert_eq!(back.body, Reply::Error(text));
}

/// An accepted request, encoded the way the CLI sends it, is one line within the bound that the
/// server reads back as the same request.
fn check_request(request: &Request) {
    let mut out = Vec::new();
    encode_line(request, &mut out);
    let line = out.strip_suffix(b"\n").expect("a request ends its line");
    assert!(!line.contains(&b'\n'), "one request, one line");
    assert!(
        line.len() <= MAX_REQUEST_BYTES,
        "re-encoded request is {} bytes",
        line.len()
    );
    assert_eq!(
        parse_request(line).as_ref(),
        Ok(request),
        "parse(encode(r)) != r"
    );
    assert_eq!(receive(&out), Received::Request(Ok(request.clone())));
    if let Request::Tail(filter) = request {
        if let Some(epc) = &filter.epc {
            assert!(epc
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        }
    }
}

/// The same request parsed on its own: a line over the bound is refused whatever it holds.
fn check_parse(line: &[u8]) {
    match parse_request(line) {
        Ok(request) => {
            assert!(line.len() <= MAX_REQUEST_BYTES);
            check_request(&request);
        }
        Err(error) => {
            if line.len() > MAX_REQUEST_BYTES {
                assert!(matches!(error, RequestError::TooLong { .. }), "{error}");
            }
            check_error_reply(&error);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The whole input as one line handed to the parser.
    check_parse(data);

    // The whole input as a connection's byte stream.
    let mut rest = data;
    loop {
        // What one `take(MAX_REQUEST_READ).read_until(b'\n')` returns, as the server reads.
        let window = &rest[..rest.len().min(MAX_REQUEST_READ)];
        let read = match window.iter().position(|&byte| byte == b'\n') {
            Some(newline) => &window[..=newline],
            None => window,
        };
        // The oracle: the client's line, whatever the read limit, without its `\n` or `\r\n`.
        let line = match rest.iter().position(|&byte| byte == b'\n') {
            Some(newline) => {
                let line = &rest[..newline];
                line.strip_suffix(b"\r").unwrap_or(line)
            }
            None => rest,
        };
        let received = receive(read);
        if rest.is_empty() {
            assert_eq!(received, Received::Closed);
            return;
        }
        if line.len() > MAX_REQUEST_BYTES {
            // Refused, and the connection closes: the rest of the stream is never read.
            assert_eq!(received, Received::TooLong, "a {}-byte line", line.len());
            return;
        }
        match received {
            Received::Blank => assert!(line.iter().all(u8::is_ascii_whitespace)),
            Received::Request(result) => {
                assert!(!line.iter().all(u8::is_ascii_whitespace));
                assert_eq!(
                    result,
                    parse_request(line),
                    "receive disagrees with the oracle"
                );
                match result {
                    Err(error) => check_error_reply(&error),
                    Ok(request) => {
                        check_request(&request);
                        // A tail request turns the connection into an event stream.
                        if matches!(request, Request::Tail(_)) {
                            return;
                        }
                    }
                }
            }
            other => panic!("{other:?} for a {}-byte line", line.len()),
        }
        rest = &rest[read.len()..];
    }
});
