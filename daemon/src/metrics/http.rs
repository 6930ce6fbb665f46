//! The `metrics-listen` endpoint: a small HTTP/1.0 responder for Prometheus scrapes, on loopback.
//!
//! One request per connection (`GET /metrics`), answered and closed: that is all a scraper needs, and
//! it keeps the daemon free of an HTTP stack. Bounded like the control socket: at most
//! [`MAX_CONNECTIONS`] at once (more are closed at once), a request head of at most
//! [`MAX_REQUEST_HEAD`] bytes read within [`READ_TIMEOUT`], the answer written within the same time.
//! Anything else gets a short error status; nothing a client sends can stop the listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, warn};

use super::exposition::CONTENT_TYPE;

/// Most connections served at once; a scraper uses one.
pub const MAX_CONNECTIONS: usize = 4;
/// Longest request head read (request line and headers).
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// Longest wait for a request head, and for the answer to be taken.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the exposition text comes from (the daemon's published state).
pub trait MetricsSource: Send + Sync + 'static {
    /// The current exposition.
    fn metrics_text(&self) -> String;
}

/// Serves `listener` until `stop` completes.
pub async fn serve<S: MetricsSource>(
    listener: TcpListener,
    source: Arc<S>,
    stop: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE and the like: wait a little rather than spin.
                    warn!(%error, "metrics endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            debug!(%peer, "metrics endpoint: too many connections; closed");
            continue;
        };
        let source = Arc::clone(&source);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(error) = answer(stream, &*source).await {
                debug!(%peer, %error, "metrics endpoint: connection ended early");
            }
        });
    }
}

async fn answer<S: MetricsSource>(mut stream: TcpStream, source: &S) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let read = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream, &mut head)).await;
    let reply = match read {
        Ok(Ok(true)) => respond(&head, || source.metrics_text()),
        Ok(Ok(false)) => status_only(431, "Request Header Fields Too Large"),
        Ok(Err(e)) => return Err(e),
        Err(_) => status_only(408, "Request Timeout"),
    };
    tokio::time::timeout(READ_TIMEOUT, async {
        stream.write_all(&reply).await?;
        stream.shutdown().await
    })
    .await
    .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// Reads until the blank line that ends a request head; false when it does not fit the bound.
async fn read_head(stream: &mut TcpStream, head: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 1024];
    loop {
        if head_complete(head) {
            return Ok(true);
        }
        if head.len() >= MAX_REQUEST_HEAD {
            return Ok(false);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            // The client stopped sending: answer what arrived (a bare request line is enough).
            return Ok(true);
        }
        let room = MAX_REQUEST_HEAD - head.len();
        head.extend_from_slice(&chunk[..n.min(room)]);
    }
}

fn head_complete(head: &[u8]) -> bool {
    head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n")
}

/// The whole answer to a request head: the metrics for `GET /metrics`, an error status otherwise.
pub(crate) fn respond(head: &[u8], metrics: impl FnOnce() -> String) -> Vec<u8> {
    let line = head
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default()
        .strip_suffix(b"\r")
        .unwrap_or_else(|| head.split(|&b| b == b'\n').next().unwrap_or_default());
    let Ok(line) = std::str::from_utf8(line) else {
        return status_only(400, "Bad Request");
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return status_only(400, "Bad Request");
    };
    if !version.starts_with("HTTP/1.") {
        return status_only(400, "Bad Request");
    }
    // A scraper may add a query (`?name[]=...`); the whole exposition is small, so it is ignored.
    let path = target.split('?').next().unwrap_or_default();
    if path != "/metrics" {
        return status_only(404, "Not Found");
    }
    match method {
        "GET" => with_body(200, "OK", CONTENT_TYPE, metrics().as_bytes()),
        "HEAD" => {
            let mut reply = with_body(200, "OK", CONTENT_TYPE, metrics().as_bytes());
            let end = reply
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(reply.len(), |i| i + 4);
            reply.truncate(end);
            reply
        }
        _ => status_only(405, "Method Not Allowed"),
    }
}

fn status_only(code: u16, reason: &str) -> Vec<u8> {
    with_body(
        code,
        reason,
        "text/plain; charset=utf-8",
        format!("{code} {reason}\n").as_bytes(),
    )
}

fn with_body(code: u16, reason: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut reply = format!(
        "HTTP/1.0 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(head: &str) -> String {
        String::from_utf8(respond(head.as_bytes(), || "tagtally_up 1\n".to_owned())).unwrap()
    }

    #[test]
    fn get_metrics_is_the_exposition() {
        let r = reply("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nAccept: */*\r\n\r\n");
        assert_eq!(
            r,
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
             Content-Length: 14\r\nConnection: close\r\n\r\ntagtally_up 1\n"
        );
        assert!(reply("GET /metrics?x=1 HTTP/1.0\n\n").starts_with("HTTP/1.0 200 OK"));
        let head = reply("HEAD /metrics HTTP/1.1\r\n\r\n");
        assert!(head.starts_with("HTTP/1.0 200 OK") && head.ends_with("\r\n\r\n"));
    }

    #[test]
    fn anything_else_is_an_error_status() {
        assert!(reply("GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.0 404 "));
        assert!(reply("POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.0 405 "));
        assert!(reply("GET /metrics\r\n\r\n").starts_with("HTTP/1.0 400 "));
        assert!(reply("GET /metrics SPDY/3\r\n\r\n").starts_with("HTTP/1.0 400 "));
        assert!(reply("\u{0}\u{1}garbage").starts_with("HTTP/1.0 400 "));
        assert!(reply("").starts_with("HTTP/1.0 400 "));
        let bad_utf8 = respond(b"GET /\xff HTTP/1.1\r\n\r\n", String::new);
        assert!(bad_utf8.starts_with(b"HTTP/1.0 400 "));
    }

    struct Fixed;
    impl MetricsSource for Fixed {
        fn metrics_text(&self) -> String {
            "tagtally_up 1\n".to_owned()
        }
    }

    async fn get(addr: std::net::SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn serves_scrapes_over_tcp_and_refuses_oversized_heads() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, Arc::new(Fixed), async {
            let _ = stop_rx.await;
        }));
        let ok = get(addr, b"GET /metrics HTTP/1.1\r\n\r\n").await;
        assert!(ok.ends_with("\r\n\r\ntagtally_up 1\n"), "{ok}");
        let mut huge = b"GET /metrics HTTP/1.1\r\n".to_vec();
        huge.resize(MAX_REQUEST_HEAD, b'x');
        let refused = get(addr, &huge).await;
        assert!(refused.starts_with("HTTP/1.0 431 "), "{refused}");
        // Still serving after that.
        let again = get(addr, b"GET /metrics HTTP/1.0\r\n\r\n").await;
        assert!(again.starts_with("HTTP/1.0 200 OK"));
        stop_tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server stops when asked")
            .unwrap();
    }
}
