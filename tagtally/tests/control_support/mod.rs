//! Shared by the control tests: a fixed backend with known data behind a real socket.

#![allow(dead_code)] // each test crate uses a different part of this module

use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tagtally::control::{
    AntennaStatus, ControlBackend, ControlServer, FixedBackend, Link, Mqtt, MqttState, Outbox,
    ReaderLinkState, ReaderStatus, ServerLimits, Status, Stock, StockCount, StockSnapshot,
    TailEvent, TailHub, Timestamp,
};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// How long any single step of a test may wait before the test fails instead of hanging.
pub const STEP: Duration = Duration::from_secs(10);

/// 2025-03-01T09:30:00.250Z plus `millis`.
pub fn at(millis: u64) -> Timestamp {
    Timestamp(SystemTime::UNIX_EPOCH + Duration::from_millis(1_740_821_400_250 + millis))
}

pub fn count(zone: &str, sku: &str, count: u64) -> StockCount {
    StockCount {
        zone: zone.into(),
        sku: sku.into(),
        count,
    }
}

pub fn sample_stock() -> Stock {
    Stock {
        store: "paris-01".into(),
        epoch: "01jnc2x4".into(),
        seq: 1234,
        counts: vec![
            count("backroom", "80614141123458", 120),
            count("backroom", "urn:epc:idpat:grai:0614141.12345.*", 4),
            count("floor", "80614141123458", 7),
            count("floor", "unknown", 1),
        ],
        zones: vec![
            tagtally::control::StockZone {
                zone: "floor".into(),
                role: "sales-floor".into(),
            },
            tagtally::control::StockZone {
                zone: "backroom".into(),
                role: "stockroom".into(),
            },
        ],
    }
}

pub fn sample_status() -> Status {
    Status {
        daemon_version: "0.1.0".into(),
        store: "paris-01".into(),
        epoch: "01jnc2x4".into(),
        started_at: at(0),
        uptime_secs: 3723,
        readers_up: 1,
        readers_down: 1,
        reads_per_sec: 1187.5,
        tags_present: 132,
        outbox: Outbox {
            records: 3,
            bytes: 1536,
        },
        epcis_outbox: None,
        mqtt: Mqtt {
            state: MqttState::Connecting,
            last_error: Some("connection refused".into()),
            last_publish: Some(at(3_600_000)),
            last_acked_seq: Some(1231),
        },
        stale_zones: vec!["backroom".into()],
        zone_trust: Vec::new(),
        // As from a daemon that predates the field: the CLI must still show everything else.
        database: None,
        build: None,
        clock: None,
    }
}

pub fn sample_readers() -> Vec<ReaderStatus> {
    let up = Link {
        state: ReaderLinkState::Up,
        reason: None,
        since: Some(at(1_000)),
    };
    let down = Link {
        state: ReaderLinkState::Down,
        reason: Some("no keepalive for 30s".into()),
        since: Some(at(3_000_000)),
    };
    vec![
        ReaderStatus {
            name: "ceiling-1".into(),
            kind: "llrp".into(),
            role: "fixed".into(),
            endpoint: "10.0.0.21:5084".into(),
            link: up.clone(),
            reads_per_sec: 1187.5,
            last_read: Some(at(3_723_000)),
            errors: 2,
            reconnects: 1,
            unmapped_reads: 0,
            unknown_messages: 0,
            candidates_evicted: 0,
            failed_reconnects: 0,
            model: Some("Impinj R700".into()),
            firmware: Some("8.1.0".into()),
            antennas: vec![
                AntennaStatus {
                    antenna: 1,
                    zone: "floor".into(),
                    link: up.clone(),
                    reads_per_sec: 800.0,
                    last_read: Some(at(3_723_000)),
                    trust: None,
                },
                AntennaStatus {
                    antenna: 3,
                    zone: "floor".into(),
                    link: up,
                    reads_per_sec: 387.5,
                    last_read: Some(at(3_722_900)),
                    trust: None,
                },
            ],
        },
        ReaderStatus {
            name: "backroom-till".into(),
            kind: "thingmagic".into(),
            role: "fixed".into(),
            endpoint: "/dev/ttyUSB0".into(),
            link: down.clone(),
            reads_per_sec: 0.0,
            last_read: None,
            errors: 0,
            reconnects: 17,
            unmapped_reads: 0,
            unknown_messages: 0,
            candidates_evicted: 0,
            failed_reconnects: 0,
            model: None,
            firmware: None,
            antennas: vec![AntennaStatus {
                antenna: 1,
                zone: "backroom".into(),
                link: down,
                reads_per_sec: 0.0,
                last_read: None,
                trust: None,
            }],
        },
    ]
}

/// The sample data, with a tail ring of `tail_capacity` events.
pub fn sample_backend(tail_capacity: usize) -> FixedBackend {
    FixedBackend {
        status: sample_status(),
        readers: sample_readers(),
        stock: StockSnapshot::new(sample_stock()),
        tail: TailHub::new(tail_capacity),
        metrics: "tagtally_tags_present 3\n".to_owned(),
    }
}

/// Event number `n` (its EPC encodes `n`, so tests can check order).
pub fn numbered_event(n: u64) -> TailEvent {
    TailEvent::Read {
        time: at(n),
        reader: "ceiling-1".into(),
        antenna: 1,
        zone: "floor".into(),
        epc: format!("30740000{n:016x}"),
        sku: Some("80614141123458".into()),
        rssi: Some(-51.5),
    }
}

/// The number inside an EPC made by [`numbered_event`].
pub fn event_number(event: &TailEvent) -> u64 {
    u64::from_str_radix(&event.epc()[8..], 16).expect("numbered epc")
}

/// A control server on its own runtime, serving a [`FixedBackend`] on a socket in a fresh
/// temporary directory; stopped (and checked to stop) on drop.
pub struct TestDaemon {
    pub path: PathBuf,
    pub tail: TailHub,
    dir: Option<tempfile::TempDir>,
    runtime: Runtime,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestDaemon {
    pub fn start(backend: FixedBackend) -> TestDaemon {
        TestDaemon::start_with(backend, ServerLimits::default())
    }

    pub fn start_with(backend: FixedBackend, limits: ServerLimits) -> TestDaemon {
        let tail = backend.tail.clone();
        TestDaemon::start_backend(backend, tail, limits)
    }

    /// Serves any backend; `tail` is the hub its `tail` subscribes to.
    pub fn start_backend<B: ControlBackend>(
        backend: B,
        tail: TailHub,
        limits: ServerLimits,
    ) -> TestDaemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("control.sock");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = ControlServer::bind(&path, limits).expect("bind");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = runtime.spawn(server.serve(Arc::new(backend), async {
            let _ = stopped.await;
        }));
        TestDaemon {
            path,
            tail,
            dir: Some(dir),
            runtime,
            stop: Some(stop),
            served: Some(served),
        }
    }

    /// Runs `future` on the server's runtime (bounded by [`STEP`]).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime
            .block_on(async { tokio::time::timeout(STEP, future).await })
            .expect("step finished in time")
    }

    /// Stops the server and waits until it has finished (sessions closed, file removed).
    pub fn stop(&mut self) {
        if let (Some(stop), Some(served)) = (self.stop.take(), self.served.take()) {
            let _ = stop.send(());
            self.block_on(served)
                .expect("server task")
                .expect("serve result");
        }
    }

    /// The temporary directory holding the socket.
    pub fn dir(&self) -> PathBuf {
        self.dir.as_ref().expect("dir").path().to_path_buf()
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.stop();
        }
    }
}

/// A raw connection for speaking the wire protocol by hand, with bounded waits.
pub struct Raw {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Raw {
    pub fn connect(daemon: &TestDaemon) -> Raw {
        let stream = UnixStream::connect(&daemon.path).expect("connect");
        stream.set_read_timeout(Some(STEP)).unwrap();
        stream.set_write_timeout(Some(STEP)).unwrap();
        Raw {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// The next line as JSON; `None` at end of stream.
    pub fn line(&mut self) -> Option<serde_json::Value> {
        let mut line = String::new();
        let read = self
            .reader
            .read_line(&mut line)
            .expect("read a line in time");
        (read > 0).then(|| serde_json::from_str(&line).expect("a json line"))
    }

    /// Whether the server has closed the connection: end of stream, or a reset when it
    /// closed with our unread bytes still queued (Linux reports that as ECONNRESET).
    pub fn closed(&mut self) -> bool {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => true,
            Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        }
    }

    /// Sends `request` and returns the reply, or `None` when the server refused the connection
    /// before or while we spoke (broken pipe, reset, or end of stream): for retry loops.
    pub fn try_ask(&mut self, request: &str) -> Option<serde_json::Value> {
        self.send(format!("{request}\n").as_bytes()).ok()?;
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(read) if read > 0 => serde_json::from_str(&line).ok(),
            _ => None,
        }
    }

    /// Sends `request` (a line is added) and returns the reply.
    pub fn ask(&mut self, request: &str) -> serde_json::Value {
        self.send(format!("{request}\n").as_bytes()).expect("send");
        self.line().expect("a reply")
    }
}
