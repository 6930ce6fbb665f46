//! Opening a serial reader's link: a local device through tokio-serial (8N1, raw, exclusive) or
//! a serial-over-TCP bridge given as `address`.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use tagtally_config::SerialPort;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_serial::SerialPortBuilderExt;

use crate::connect::Connect;

/// An open serial link of either kind.
#[derive(Debug)]
pub enum SerialTransport {
    Device(tokio_serial::SerialStream),
    Tcp(TcpStream),
}

/// Opens the configured port at `baud` for every (re)connect.
#[derive(Debug, Clone)]
pub struct SerialConnector {
    port: SerialPort,
    baud: u32,
}

impl SerialConnector {
    pub fn new(port: SerialPort, baud: u32) -> Self {
        Self { port, baud }
    }
}

/// Opens a local serial device (or pseudo-terminal) raw, 8N1, without flow control. Exclusive,
/// so a second program (or a second tagtally) cannot interleave bytes on the same line.
pub fn open_device(path: &Path, baud: u32) -> io::Result<tokio_serial::SerialStream> {
    let name = path.to_string_lossy();
    tokio_serial::new(name.as_ref(), baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()
        .map_err(io::Error::from)
}

impl Connect for SerialConnector {
    type Io = SerialTransport;

    async fn connect(&mut self) -> io::Result<SerialTransport> {
        match &self.port {
            SerialPort::Device(path) => open_device(path, self.baud).map(SerialTransport::Device),
            SerialPort::Tcp(address) => {
                let target = (address.host.as_str(), address.port);
                // The driver task bounds this by the session's connect timeout.
                let stream = TcpStream::connect(target).await?;
                // Serial frames are small and latency matters more than packet count.
                stream.set_nodelay(true)?;
                Ok(SerialTransport::Tcp(stream))
            }
        }
    }

    fn target(&self) -> String {
        match &self.port {
            SerialPort::Device(path) => path.display().to_string(),
            SerialPort::Tcp(address) => format!("{}:{}", address.host, address.port),
        }
    }
}

impl AsyncRead for SerialTransport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Device(device) => Pin::new(device).poll_read(cx, buf),
            Self::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for SerialTransport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Device(device) => Pin::new(device).poll_write(cx, buf),
            Self::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Device(device) => Pin::new(device).poll_flush(cx),
            Self::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Device(device) => Pin::new(device).poll_shutdown(cx),
            Self::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
        }
    }
}
