//! How a driver task gets a transport: anything `AsyncRead + AsyncWrite` (serial device, TCP
//! bridge, LLRP over TCP, or an in-memory duplex in tests), opened again after every loss.

use std::future::Future;
use std::io;

use tokio::io::{AsyncRead, AsyncWrite};

/// Opens a reader's transport; called again for every reconnect.
pub trait Connect: Send {
    /// The byte stream to the reader.
    type Io: AsyncRead + AsyncWrite + Unpin + Send;
    /// Opens the transport; the error's text becomes the `LinkDown` reason.
    fn connect(&mut self) -> impl Future<Output = io::Result<Self::Io>> + Send;
    /// Where the transport goes, for messages ("/dev/ttyUSB0", "10.0.0.5:4001").
    fn target(&self) -> String;
}

/// TCP to `host:port` (an LLRP reader), with `TCP_NODELAY`: keepalive acks and requests are tiny.
#[derive(Debug, Clone)]
pub struct TcpConnector {
    pub address: String,
}

impl Connect for TcpConnector {
    type Io = tokio::net::TcpStream;

    async fn connect(&mut self) -> io::Result<tokio::net::TcpStream> {
        let stream = tokio::net::TcpStream::connect(self.address.as_str()).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    fn target(&self) -> String {
        self.address.clone()
    }
}
