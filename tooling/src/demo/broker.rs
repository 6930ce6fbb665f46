//! The demo's embedded MQTT broker (rumqttd) on a free loopback port: the demo needs nothing installed.
//!
//! Only in builds with the `demo-broker` feature (the default); the gateway build leaves it out.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How long the broker may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the broker did not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// No free loopback port could be found.
    #[error("no free loopback port for the embedded broker: {0}")]
    Port(std::io::Error),
    /// It did not accept connections in time.
    #[error("the embedded broker did not accept connections on {addr} within {timeout:?}")]
    NotListening { addr: SocketAddr, timeout: Duration },
}

/// Starts rumqttd (MQTT 3.1.1) on a free loopback port, on its own thread, and waits until it accepts.
/// It runs until the process exits (rumqttd has no stop).
pub fn start() -> Result<SocketAddr, BrokerError> {
    // Bind-and-release finds a free port; rumqttd then binds it itself.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(BrokerError::Port)?;
    let server = rumqttd::ServerSettings {
        name: "demo".to_owned(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections: rumqttd::ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 4 * 1024 * 1024,
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 64,
            max_outgoing_packet_count: 200,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        ..Default::default()
    };
    std::thread::Builder::new()
        .name("demo-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded broker stopped");
            }
        })
        .map_err(BrokerError::Port)?;
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if Instant::now() >= deadline {
            return Err(BrokerError::NotListening {
                addr,
                timeout: START_TIMEOUT,
            });
        }
        // The broker thread is binding; a refused connect returns at once, so pace the retries.
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(addr)
}
