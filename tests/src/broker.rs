//! The broker of a scenario: an in-process rumqttd (so `cargo test` needs nothing installed), and in
//! front of it, for the daemon only, a gate that can take "the broker" down and bring it back. The
//! recorder talks to rumqttd directly and never loses its link: what it records is what HQ saw.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::wait;

/// One embedded MQTT 3.1.1 broker on a loopback port.
#[derive(Debug, Clone, Copy)]
pub struct Broker {
    pub addr: SocketAddr,
}

impl Broker {
    /// Starts rumqttd on a free loopback port and waits until it accepts connections.
    pub async fn start() -> Broker {
        let addr = crate::free_addr();
        let server = rumqttd::ServerSettings {
            name: "scenario".to_owned(),
            listen: addr,
            tls: None,
            next_connection_delay_ms: 1,
            connections: rumqttd::ConnectionSettings {
                connection_timeout_ms: 60_000,
                max_payload_size: 4 * 1024 * 1024,
                max_inflight_count: 1000,
                auth: None,
                external_auth: None,
                dynamic_filters: true,
            },
        };
        let config = rumqttd::Config {
            id: 0,
            router: rumqttd::RouterConfig {
                max_connections: 100,
                max_outgoing_packet_count: 1000,
                max_segment_size: 100 * 1024 * 1024,
                max_segment_count: 10,
                ..Default::default()
            },
            v4: Some(HashMap::from([("1".to_owned(), server)])),
            ..Default::default()
        };
        // rumqttd runs its own runtime on a thread and has no shutdown: it lives as long as the test.
        std::thread::spawn(move || {
            if let Err(e) = rumqttd::Broker::new(config).start() {
                eprintln!("rumqttd stopped: {e}");
            }
        });
        wait::until("the broker to listen", Duration::from_secs(20), || async {
            TcpStream::connect(addr)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await;
        Broker { addr }
    }
}

/// A TCP proxy in front of the broker: `down` cuts every link and refuses new ones (to the daemon
/// the broker is gone, as when the store's internet line fails), `up` lets them through again, and
/// `fail_over` moves the daemon to another broker the way a load balancer in front of a cluster
/// does when a path dies: the daemon's side of each link closes, the old broker's side stays open
/// and silent (a half-open connection whose last will fires only when its keep-alive runs out).
#[derive(Debug, Clone)]
pub struct Gate {
    pub addr: SocketAddr,
    open: Arc<Mutex<bool>>,
    target: Arc<Mutex<SocketAddr>>,
    links: Arc<Mutex<Vec<Link>>>,
    /// Broker-side halves of links cut by `fail_over`, kept open until the gate is dropped.
    half_open: Arc<Mutex<Vec<TcpStream>>>,
}

#[derive(Debug)]
struct Link {
    task: AbortHandle,
    /// Cuts the client side only; the task hands the broker side to `half_open`.
    cut: Option<oneshot::Sender<()>>,
}

impl Gate {
    pub async fn start(broker: Broker) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind gate");
        let gate = Gate {
            addr: listener.local_addr().expect("gate addr"),
            open: Arc::new(Mutex::new(true)),
            target: Arc::new(Mutex::new(broker.addr)),
            links: Arc::default(),
            half_open: Arc::default(),
        };
        let g = gate.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*g.open.lock().unwrap() {
                    continue; // dropped: the connection closes at once
                }
                let target = *g.target.lock().unwrap();
                let (cut, mut cut_rx) = oneshot::channel::<()>();
                let half_open = Arc::clone(&g.half_open);
                let task = tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let cut = tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => false,
                        signal = &mut cut_rx => signal.is_ok(),
                    };
                    if cut {
                        drop(client);
                        half_open.lock().unwrap().push(server);
                    }
                });
                g.links.lock().unwrap().push(Link {
                    task: task.abort_handle(),
                    cut: Some(cut),
                });
            }
        });
        gate
    }

    /// The broker is unreachable from now on: open links are cut without an MQTT goodbye.
    pub fn down(&self) {
        *self.open.lock().unwrap() = false;
        for link in self.links.lock().unwrap().drain(..) {
            link.task.abort();
        }
    }

    /// The broker is reachable again.
    pub fn up(&self) {
        *self.open.lock().unwrap() = true;
    }

    /// New links go to `broker`; every open link loses its client side at once while its broker
    /// side stays open and silent, so the old broker notices nothing until the keep-alive expires.
    pub fn fail_over(&self, broker: Broker) {
        *self.target.lock().unwrap() = broker.addr;
        for mut link in self.links.lock().unwrap().drain(..) {
            if let Some(cut) = link.cut.take() {
                let _ = cut.send(());
            }
        }
    }

    /// The url the daemon is configured with.
    pub fn url(&self) -> String {
        format!("mqtt://{}", self.addr)
    }
}
