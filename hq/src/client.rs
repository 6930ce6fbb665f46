//! The HTTP client of `tagtally hq stock|stores|availability`: one GET to the service's API.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;

/// Longest wait for the whole answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// Why the API gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens there, or the connection broke.
    #[error("cannot reach the hq api at {address}: {reason}")]
    Unreachable {
        /// The address tried.
        address: SocketAddr,
        /// Why.
        reason: String,
    },
    /// No answer within the timeout.
    #[error("the hq api at {0} did not answer within 10 s")]
    Timeout(SocketAddr),
    /// An answer larger than any real one.
    #[error("the hq api's answer is larger than 64 MiB")]
    TooLarge,
}

/// GETs `path` (already percent-encoded) and returns the status and the body.
pub async fn get(address: SocketAddr, path: &str) -> Result<(u16, Vec<u8>), ClientError> {
    tokio::time::timeout(TIMEOUT, fetch(address, path))
        .await
        .map_err(|_| ClientError::Timeout(address))?
}

async fn fetch(address: SocketAddr, path: &str) -> Result<(u16, Vec<u8>), ClientError> {
    let unreachable = |reason: &dyn std::fmt::Display| ClientError::Unreachable {
        address,
        reason: reason.to_string(),
    };
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|error| unreachable(&error))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| unreachable(&error))?;
    let driver = tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, address.to_string())
        .body(Empty::<Bytes>::new())
        .map_err(|error| unreachable(&error))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| unreachable(&error))?;
    let status = response.status().as_u16();
    let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<http_body_util::LengthLimitError>() {
                ClientError::TooLarge
            } else {
                unreachable(&error)
            }
        })?
        .to_bytes();
    driver.abort();
    Ok((status, body.to_vec()))
}
