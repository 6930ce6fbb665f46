//! Shared test rig for the uplink suites: embedded rumqttd broker, a TCP gate to cut and hold
//! links, an in-memory outbox, a recording subscriber, certificates, and event waits.
//!
//! Every wait here is on an event or condition with a bounded timeout; nothing sleeps in place of
//! waiting. (The subscriber's reconnect pause is a backoff, not a wait.)

#![allow(dead_code)] // each suite uses a different part of the rig

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tagtally::uplink::{DeltaSource, OutboxDelta, Protocol, UplinkEvent, UplinkSettings};
use tagtally_core::BackoffPolicy;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::timeout;

/// Bound of every wait in the suites.
pub const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Embedded broker

/// Addresses of one embedded rumqttd instance (one listener per protocol).
#[derive(Debug, Clone, Copy)]
pub struct Rumqttd {
    pub v311: SocketAddr,
    pub v5: SocketAddr,
}

impl Rumqttd {
    pub fn addr(&self, protocol: Protocol) -> SocketAddr {
        match protocol {
            Protocol::V311 => self.v311,
            Protocol::V5 => self.v5,
        }
    }
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind ephemeral port");
    l.local_addr().expect("local addr")
}

fn server(name: &str, listen: SocketAddr, auth: Option<(&str, &str)>) -> rumqttd::ServerSettings {
    rumqttd::ServerSettings {
        name: name.to_owned(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: rumqttd::ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 1024 * 1024,
            max_inflight_count: 500,
            auth: auth.map(|(u, p)| HashMap::from([(u.to_owned(), p.to_owned())])),
            external_auth: None,
            dynamic_filters: true,
        },
    }
}

/// Starts an in-process rumqttd on two ephemeral loopback ports and waits until both accept.
/// rumqttd has no shutdown: "killing" it means cutting every link through a [`Gate`] and never
/// routing to it again (a fresh instance takes over, with no memory, as after a crash).
pub async fn start_rumqttd(auth: Option<(&str, &str)>) -> Rumqttd {
    let addrs = Rumqttd {
        v311: free_port(),
        v5: free_port(),
    };
    let config = rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 1000,
            max_outgoing_packet_count: 200,
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some(HashMap::from([(
            "1".to_owned(),
            server("v4", addrs.v311, auth),
        )])),
        v5: Some(HashMap::from([(
            "1".to_owned(),
            server("v5", addrs.v5, auth),
        )])),
        ..Default::default()
    };
    std::thread::spawn(move || {
        let mut broker = rumqttd::Broker::new(config);
        if let Err(e) = broker.start() {
            eprintln!("rumqttd stopped: {e}");
        }
    });
    for addr in [addrs.v311, addrs.v5] {
        wait_until_listening(addr).await;
    }
    addrs
}

/// Waits (bounded) until a TCP listener accepts on `addr`.
pub async fn wait_until_listening(addr: SocketAddr) {
    let attempt = async {
        loop {
            if TcpStream::connect(addr).await.is_ok() {
                return;
            }
            // A refused connect returns at once; yield a little so the listener thread can run.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    timeout(WAIT, attempt)
        .await
        .unwrap_or_else(|_| panic!("nothing listens on {addr}"));
}

// ---------------------------------------------------------------------------------------------
// Gate: a TCP proxy that can refuse, cut, hold and redirect links

/// A loopback TCP proxy in front of a broker.
#[derive(Clone)]
pub struct Gate {
    pub addr: SocketAddr,
    target: Arc<Mutex<Option<SocketAddr>>>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
    hold_down: watch::Sender<bool>,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Gate {
    /// A plain TCP gate to `target`.
    pub async fn new(target: SocketAddr) -> Gate {
        Gate::start(target, None).await
    }

    /// A gate that terminates TLS with `config` and forwards plaintext to `target`.
    pub async fn tls(target: SocketAddr, config: tokio_rustls::rustls::ServerConfig) -> Gate {
        Gate::start(target, Some(Arc::new(config))).await
    }

    async fn start(
        target: SocketAddr,
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    ) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind gate");
        let (hold_down, _) = watch::channel(false);
        let gate = Gate {
            addr: listener.local_addr().expect("gate addr"),
            target: Arc::new(Mutex::new(Some(target))),
            links: Arc::new(Mutex::new(Vec::new())),
            hold_down,
            tls,
        };
        let g = gate.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let target = *g.target.lock().unwrap();
                let Some(target) = target else {
                    drop(client); // closed gate: the client sees the link close at once
                    continue;
                };
                let hold = g.hold_down.subscribe();
                let tls = g.tls.clone();
                let task = tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    match tls {
                        Some(config) => {
                            let acceptor = tokio_rustls::TlsAcceptor::from(config);
                            if let Ok(stream) = acceptor.accept(client).await {
                                splice(stream, server, hold).await;
                            }
                        }
                        None => splice(client, server, hold).await,
                    }
                });
                g.links.lock().unwrap().push(task.abort_handle());
            }
        });
        gate
    }

    /// Cuts every open link at once (both directions, no MQTT goodbye).
    pub fn sever(&self) {
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Refuses new links (they are closed right after accept) until `open`.
    pub fn close(&self) {
        *self.target.lock().unwrap() = None;
    }

    /// Routes new links to `target`.
    pub fn open(&self, target: SocketAddr) {
        *self.target.lock().unwrap() = Some(target);
    }

    /// Stops (or resumes) forwarding broker-to-client bytes: PUBACKs stay in the gate.
    pub fn hold_downstream(&self, hold: bool) {
        self.hold_down.send_replace(hold);
    }

    /// `mqtt://127.0.0.1:port` of the gate.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.addr.port())
    }
}

async fn splice<C>(client: C, server: TcpStream, hold: watch::Receiver<bool>)
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut client_rd, mut client_wr) = tokio::io::split(client);
    let (mut server_rd, mut server_wr) = server.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut client_rd, &mut server_wr).await;
    };
    let down = async move {
        let mut hold = hold;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if *hold.borrow_and_update() {
                if hold.changed().await.is_err() {
                    return;
                }
                continue;
            }
            tokio::select! {
                n = server_rd.read(&mut buf) => match n {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if client_wr.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                },
                _ = hold.changed() => {}
            }
        }
    };
    // Either direction ending ends the link, like a dying peer.
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

// ---------------------------------------------------------------------------------------------
// In-memory outbox

/// The test's outbox: committed deltas until the uplink's `Acked` removes them.
#[derive(Clone, Default)]
pub struct MemOutbox {
    records: Arc<Mutex<BTreeMap<u64, Bytes>>>,
}

impl MemOutbox {
    pub fn commit(&self, seq: u64, payload: Bytes) {
        self.records.lock().unwrap().insert(seq, payload);
    }

    pub fn ack(&self, seq: u64) {
        self.records.lock().unwrap().remove(&seq);
    }

    pub fn len(&self) -> usize {
        self.records.lock().unwrap().len()
    }

    pub fn seqs(&self) -> Vec<u64> {
        self.records.lock().unwrap().keys().copied().collect()
    }
}

impl DeltaSource for MemOutbox {
    type Error = std::convert::Infallible;

    fn read_after(
        &mut self,
        after: Option<u64>,
        max: usize,
    ) -> Result<Vec<OutboxDelta>, Self::Error> {
        let records = self.records.lock().unwrap();
        let start = after.map_or(0, |a| a.saturating_add(1));
        Ok(records
            .range(start..)
            .take(max)
            .map(|(seq, payload)| OutboxDelta {
                seq: *seq,
                payload: payload.clone(),
            })
            .collect())
    }
}

/// The state a `status` payload announces (the payload validated against its schema).
pub fn status_state(payload: &[u8]) -> tagtally_contract::StoreState {
    tagtally_tests::schemas::assert_payload_valid("p/s/status", payload);
    tagtally_contract::StatusMessage::parse(payload)
        .expect("status/2")
        .state
}

/// A delta payload as the engine would commit it (SPEC §6 shape).
pub fn delta_json(store: &str, epoch: &str, seq: u64) -> Bytes {
    Bytes::from(format!(
        r#"{{"schema":"tagtally.delta/1","store":"{store}","epoch":"{epoch}","seq":{seq},"time":"2025-01-01T00:00:00Z","changes":[{{"zone":"floor","sku":"0061414112345{}","delta":1,"count":{seq}}}]}}"#,
        seq % 10
    ))
}

/// Settings for tests: fast backoff, short keep-alive.
pub fn test_settings(store: &str, url: &str, protocol: Protocol) -> UplinkSettings {
    let broker = tagtally_config::BrokerUrl::parse(url).expect("broker url");
    let mut s = UplinkSettings::new(store, broker, "tagtally/v1");
    s.protocol = protocol;
    s.client_id = format!("tagtally-{store}-{}", std::process::id());
    s.backoff = BackoffPolicy {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(400),
    };
    s.keep_alive = Duration::from_secs(5);
    s.connect_timeout = Duration::from_secs(5);
    s.reader_min_interval = Duration::from_millis(300);
    s
}

// ---------------------------------------------------------------------------------------------
// Events

/// Receives uplink events and keeps the outbox in step (deletes acked records), like the daemon.
pub struct EventLog {
    rx: mpsc::Receiver<UplinkEvent>,
    outbox: MemOutbox,
    pub acked: Vec<u64>,
    pub seen: Vec<UplinkEvent>,
}

impl EventLog {
    pub fn new(rx: mpsc::Receiver<UplinkEvent>, outbox: MemOutbox) -> EventLog {
        EventLog {
            rx,
            outbox,
            acked: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Next event (bounded wait); acks are applied to the outbox.
    pub async fn next(&mut self) -> UplinkEvent {
        let event = timeout(WAIT, self.rx.recv())
            .await
            .expect("timed out waiting for an uplink event")
            .expect("uplink event channel closed");
        if let UplinkEvent::Acked(seq) = event {
            if let Some(last) = self.acked.last() {
                assert!(seq > *last, "ack {seq} after {last}: not ascending");
            }
            self.acked.push(seq);
            self.outbox.ack(seq);
        }
        self.seen.push(event.clone());
        event
    }

    /// Consumes events until `pred` matches one; returns it.
    pub async fn until(&mut self, mut pred: impl FnMut(&UplinkEvent) -> bool) -> UplinkEvent {
        loop {
            let e = self.next().await;
            if pred(&e) {
                return e;
            }
        }
    }

    /// Consumes events until every seq up to `seq` is acked.
    pub async fn acked_through(&mut self, seq: u64) {
        while self.acked.last().is_none_or(|l| *l < seq) {
            self.next().await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Subscriber

/// One message a subscriber received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub topic: String,
    pub payload: Bytes,
    pub retain: bool,
}

/// A recording MQTT 3.1.1 subscriber that reconnects and resubscribes by itself.
pub struct Subscriber {
    pub rx: mpsc::UnboundedReceiver<Received>,
    /// Count of SUBACKs so far (grows after each resubscribe).
    pub subacks: watch::Receiver<u64>,
    /// Messages skipped by `next_on`, kept for later calls.
    pending: std::collections::VecDeque<Received>,
    client: rumqttc::AsyncClient,
    task: AbortHandle,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Subscriber {
    /// Connects to `addr` and subscribes to `filters` at QoS 1; waits for the first SUBACK.
    pub async fn connect(addr: SocketAddr, id: &str, filters: &[&str]) -> Subscriber {
        Subscriber::connect_with(addr, id, filters, None, true).await
    }

    /// Like `connect`, with credentials and the clean-session flag (false: a persistent
    /// session the broker keeps, with queued QoS 1 messages, while we are away).
    pub async fn connect_with(
        addr: SocketAddr,
        id: &str,
        filters: &[&str],
        credentials: Option<(&str, &str)>,
        clean: bool,
    ) -> Subscriber {
        let mut o = rumqttc::MqttOptions::new(id, addr.ip().to_string(), addr.port());
        o.set_keep_alive(Duration::from_secs(5));
        o.set_clean_session(clean);
        o.set_max_packet_size(1024 * 1024, 1024 * 1024);
        if let Some((u, p)) = credentials {
            o.set_credentials(u, p);
        }
        let (client, mut eventloop) = rumqttc::AsyncClient::new(o, 64);
        let (tx, rx) = mpsc::unbounded_channel();
        let (suback_tx, subacks) = watch::channel(0u64);
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        let c = client.clone();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                        for f in &filters {
                            let _ = c.try_subscribe(f.clone(), rumqttc::QoS::AtLeastOnce);
                        }
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                        suback_tx.send_modify(|n| *n += 1);
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let _ = tx.send(Received {
                            topic: p.topic.clone(),
                            payload: p.payload.clone(),
                            retain: p.retain,
                        });
                    }
                    Ok(_) => {}
                    // Reconnect backoff of the test subscriber itself.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        let mut s = Subscriber {
            rx,
            subacks,
            pending: Default::default(),
            client,
            task: task.abort_handle(),
        };
        s.wait_subscribed(1).await;
        s
    }

    /// Waits until at least `n` SUBACKs arrived in total.
    pub async fn wait_subscribed(&mut self, n: u64) {
        let subacks = &mut self.subacks;
        timeout(WAIT, subacks.wait_for(|count| *count >= n))
            .await
            .expect("timed out waiting for suback")
            .expect("subscriber gone");
    }

    /// Next message (bounded wait).
    pub async fn next(&mut self) -> Received {
        if let Some(m) = self.pending.pop_front() {
            return m;
        }
        self.receive().await
    }

    async fn receive(&mut self) -> Received {
        let m = timeout(WAIT, self.rx.recv())
            .await
            .expect("timed out waiting for a message")
            .expect("subscriber gone");
        // What the uplink builds itself (status, snapshots) must match the published schemas;
        // reader health and commands in these suites are made up by the tests.
        if !m.topic.contains("/readers/") && !m.topic.contains("/cmd/") {
            tagtally_tests::schemas::assert_payload_valid(&m.topic, &m.payload);
        }
        m
    }

    /// Next message on `topic`; messages on other topics are kept for later.
    pub async fn next_on(&mut self, topic: &str) -> Received {
        if let Some(i) = self.pending.iter().position(|m| m.topic == topic) {
            if let Some(m) = self.pending.remove(i) {
                return m;
            }
        }
        loop {
            let m = self.receive().await;
            if m.topic == topic {
                return m;
            }
            self.pending.push_back(m);
        }
    }

    /// Publishes (QoS 1) as this client.
    pub async fn publish(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(topic, rumqttc::QoS::AtLeastOnce, false, payload.to_vec())
            .await
            .expect("publish");
    }

    /// Publishes (QoS 1) a retained message as this client.
    pub async fn publish_retained(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(topic, rumqttc::QoS::AtLeastOnce, true, payload.to_vec())
            .await
            .expect("publish");
    }
}

/// Collects delta messages by seq until every seq in `1..=last` is present; checks that each
/// copy of a seq is byte-identical to what was committed. Returns how many duplicates came.
pub async fn collect_deltas(
    sub: &mut Subscriber,
    topic: &str,
    committed: &BTreeMap<u64, Bytes>,
    seen: &mut BTreeMap<u64, usize>,
    last: u64,
) -> usize {
    let mut duplicates = 0;
    while (1..=last).any(|s| !seen.contains_key(&s)) {
        let m = sub.next_on(topic).await;
        let seq = seq_of(&m.payload);
        assert_eq!(
            Some(&m.payload),
            committed.get(&seq),
            "payload of seq {seq} differs from the committed bytes"
        );
        let n = seen.entry(seq).or_insert(0);
        *n += 1;
        if *n > 1 {
            duplicates += 1;
        }
    }
    duplicates
}

/// The `seq` field of a delta payload.
pub fn seq_of(payload: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(payload).expect("delta json");
    v["seq"].as_u64().expect("seq field")
}

// ---------------------------------------------------------------------------------------------
// Certificates

// Each suite that includes this module uses some of these, none all.
#[allow(unused_imports)]
pub use tagtally_tls::test_pki::{tagtally_random, Pki};

/// rustls server configs for the TLS gates, from the test PKI.
pub trait ServerConfigs {
    /// rustls server config for a TLS gate; with `require_client` it demands a client
    /// certificate signed by the CA.
    fn server_config(&self, require_client: bool) -> tokio_rustls::rustls::ServerConfig;
}

impl ServerConfigs for Pki {
    fn server_config(&self, require_client: bool) -> tokio_rustls::rustls::ServerConfig {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use tokio_rustls::rustls;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.server_cert)
            .expect("server pem")
            .map(|c| c.expect("server cert"))
            .collect();
        let key = PrivateKeyDer::from_pem_file(&self.server_key).expect("server key");
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if require_client {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(&self.ca).expect("ca pem") {
                roots.add(c.expect("ca cert")).expect("add ca");
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        builder.with_single_cert(certs, key).expect("server config")
    }
}

/// Writes `text` to a file in `dir` and returns its path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p
}
