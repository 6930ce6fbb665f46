//! The LLRP driver against the LLRP emulator over real TCP: reads, reconnects, half-open links, refusals, rejections, corruption, shutdown, probe.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

use tagtally_core::BackoffPolicy;
use tagtally_reader_drivers::connect::TcpConnector;
use tagtally_reader_drivers::driver::ReaderDriver;
use tagtally_reader_drivers::llrp::probe::{probe, ProbeError};
use tagtally_reader_drivers::llrp::{LlrpSession, LlrpSettings, StartTrigger, OUR_ROSPEC_ID};
use tagtally_reader_drivers::{DriverCounters, DriverEvent, DriverOutput, ReaderId, TagRead};
use tagtally_sim::{Fault, LlrpSim, Scenario};

/// Upper bound on any single wait: generous for a loaded, shared machine; never slept.
const WAIT: Duration = Duration::from_secs(20);

const TWO_TAGS: &str = r#"
[inventory]
read-rate = 50.0

[[tag]]
epc = "3074257BF7194E4000001A85"
antennas = [1]
rssi = -58.25

[[tag]]
epc = "E2801160600002054CC2096F00000000"
antennas = [2]
rssi = -61.0
"#;

async fn sim(text: &str) -> LlrpSim {
    let scenario = Scenario::parse(text).expect("valid scenario");
    LlrpSim::start("127.0.0.1:0", scenario)
        .await
        .expect("emulator binds")
}

fn settings(sim: &LlrpSim) -> LlrpSettings {
    let mut s = LlrpSettings::new(ReaderId(1), sim.addr().to_string());
    s.antennas = vec![1, 2];
    s.keepalive = Duration::from_millis(500);
    s.connect_timeout = Duration::from_secs(5);
    s.response_timeout = Duration::from_secs(5);
    s.report_every_tags = 8;
    s.report_every = Duration::from_millis(100);
    s
}

/// A driver with a short backoff (tests should not wait a second per reconnect).
fn spawn(settings: LlrpSettings) -> (ReaderDriver, Outputs) {
    let (tx, rx) = mpsc::channel(1024);
    let connector = TcpConnector {
        address: settings.address.clone(),
    };
    let mut settings = settings;
    settings.reconnect = BackoffPolicy {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(400),
    };
    let session = LlrpSession::new(settings, 11, std::time::Instant::now());
    (
        ReaderDriver::spawn(session, connector, tx),
        Outputs {
            rx,
            reads: Vec::new(),
            events: Vec::new(),
            batches: 0,
        },
    )
}

/// Everything a driver sent, and a way to wait for what comes next.
struct Outputs {
    rx: mpsc::Receiver<DriverOutput>,
    reads: Vec<TagRead>,
    events: Vec<DriverEvent>,
    batches: usize,
}

impl Outputs {
    /// Waits (bounded) until an event matches; returns it.
    async fn event(&mut self, what: &str, matches: impl Fn(&DriverEvent) -> bool) -> DriverEvent {
        let deadline = Instant::now() + WAIT;
        loop {
            let output = timeout(deadline - Instant::now(), self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}; events: {:?}", self.events))
                .unwrap_or_else(|| panic!("driver ended before {what}"));
            match output {
                DriverOutput::Reads(batch) => {
                    self.batches += 1;
                    self.reads.extend(batch);
                }
                DriverOutput::Event(event) => {
                    self.events.push(event.clone());
                    if matches(&event) {
                        return event;
                    }
                }
            }
        }
    }

    async fn link_up(&mut self) {
        self.event("link up", |e| matches!(e, DriverEvent::LinkUp { .. }))
            .await;
    }

    async fn link_down(&mut self) -> String {
        match self
            .event("link down", |e| matches!(e, DriverEvent::LinkDown { .. }))
            .await
        {
            DriverEvent::LinkDown { reason, .. } => reason,
            _ => unreachable!(),
        }
    }

    /// Waits (bounded) until `count` more read batches arrived.
    async fn batches(&mut self, count: usize) {
        let target = self.batches + count;
        let deadline = Instant::now() + WAIT;
        while self.batches < target {
            let output = timeout(deadline - Instant::now(), self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("fewer than {count} batches within {WAIT:?}"))
                .expect("driver running");
            match output {
                DriverOutput::Reads(batch) => {
                    self.batches += 1;
                    self.reads.extend(batch);
                }
                DriverOutput::Event(event) => self.events.push(event),
            }
        }
    }

    /// Drains what is left after the driver finished.
    async fn rest(&mut self) {
        while let Some(output) = self.rx.recv().await {
            match output {
                DriverOutput::Reads(batch) => self.reads.extend(batch),
                DriverOutput::Event(event) => self.events.push(event),
            }
        }
    }

    fn last_counters(&self) -> DriverCounters {
        self.events
            .iter()
            .rev()
            .find_map(|e| match e {
                DriverEvent::Counters { counters, .. } => Some(*counters),
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// Probes once the emulator has noticed the previous client left (its socket closing races
/// with our connect), retrying refusals within the bounded wait.
async fn probe_when_free(sim: &LlrpSim) -> tagtally_reader_drivers::llrp::probe::ProbeReport {
    let deadline = Instant::now() + WAIT;
    loop {
        match probe(&sim.addr().to_string(), Duration::from_secs(5)).await {
            Ok(report) => return report,
            Err(ProbeError::Refused(_)) if Instant::now() < deadline => {
                tokio::task::yield_now().await
            }
            Err(e) => panic!("probe failed: {e}"),
        }
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[tokio::test]
async fn reads_arrive_with_the_right_epc_antenna_and_rssi() {
    let sim = sim(TWO_TAGS).await;
    let (driver, mut out) = spawn(settings(&sim));
    let up = out
        .event("link up", |e| matches!(e, DriverEvent::LinkUp { .. }))
        .await;
    let DriverEvent::LinkUp { reader, info } = up else {
        unreachable!()
    };
    assert_eq!(reader, ReaderId(1));
    assert_eq!(info.model, "Impinj R700");
    assert_eq!(info.antenna_count, 4);
    out.batches(4).await;
    let before = now_us();
    let a = out
        .reads
        .iter()
        .find(|r| r.epc.to_string() == "3074257BF7194E4000001A85")
        .expect("tag a read");
    // Impinj readers give centi-dBm: the exact scenario RSSI comes through.
    assert_eq!((a.antenna, a.rssi_cdbm), (1, Some(-5825)));
    assert!(
        a.time.0 <= before && before - a.time.0 < 10_000_000,
        "{a:?}"
    );
    let b = out
        .reads
        .iter()
        .find(|r| r.epc.bits() == 128)
        .expect("128-bit tag read");
    assert_eq!(b.epc.to_string(), "E2801160600002054CC2096F00000000");
    assert_eq!((b.antenna, b.rssi_cdbm), (2, Some(-6100)));
    assert!(out.reads.iter().all(|r| r.reader == ReaderId(1)));
    driver.shutdown().await;
}

#[tokio::test]
async fn a_zebra_reports_whole_dbm_and_null_start_trigger_works() {
    let text = format!("[llrp]\nvendor = 161\n{TWO_TAGS}");
    let sim = sim(&text).await;
    let mut s = settings(&sim);
    s.start_trigger = StartTrigger::OnStartCommand;
    let (driver, mut out) = spawn(s);
    out.link_up().await;
    out.batches(2).await;
    let a = out
        .reads
        .iter()
        .find(|r| r.antenna == 1)
        .expect("antenna 1 read");
    assert_eq!(a.rssi_cdbm, Some(-5800));
    driver.shutdown().await;
}

#[tokio::test]
async fn a_dropped_link_is_reported_and_re_established() {
    let sim = sim(TWO_TAGS).await;
    let (driver, mut out) = spawn(settings(&sim));
    out.link_up().await;
    assert!(sim.inject(Fault::DropConnection));
    let reason = out.link_down().await;
    assert!(reason.contains("closed"), "{reason}");
    out.link_up().await;
    let seen = out.reads.len();
    out.batches(2).await;
    assert!(out.reads.len() > seen);
    assert_eq!(sim.stats().connections_accepted, 2);
    driver.shutdown().await;
    out.rest().await;
    let counters = out.last_counters();
    assert_eq!((counters.connects, counters.disconnects), (2, 2));
}

#[tokio::test]
async fn a_half_open_link_is_declared_dead_within_three_keepalive_periods() {
    let sim = sim(TWO_TAGS).await;
    let mut s = settings(&sim);
    s.keepalive = Duration::from_millis(300);
    let (driver, mut out) = spawn(s);
    out.link_up().await;
    out.batches(2).await;
    let silenced = Instant::now();
    assert!(sim.inject(Fault::GoSilent {
        duration: Duration::from_secs(30)
    }));
    let reason = out.link_down().await;
    let took = silenced.elapsed();
    assert!(reason.starts_with("no keepalive or data for"), "{reason}");
    // 3 periods (900 ms) from the last byte, which came at most a moment before the silence;
    // the slack is for a loaded machine (llrp_task.rs checks the exact time in virtual time).
    assert!(
        took <= Duration::from_millis(900) + Duration::from_millis(1500),
        "took {took:?}"
    );
    driver.abort();
}

#[tokio::test]
async fn keepalives_keep_an_idle_link_up_and_are_acked() {
    // No tags: only keepalives cross the link.
    let sim = sim("").await;
    let mut s = settings(&sim);
    s.keepalive = Duration::from_millis(100);
    let (driver, mut out) = spawn(s);
    out.link_up().await;
    // Ten keepalive periods without a link-down: the emulator honours the period, the driver acks.
    let stayed_up = timeout(Duration::from_secs(1), out.link_down()).await;
    assert!(stayed_up.is_err(), "link went down: {stayed_up:?}");
    let stats = sim.stats();
    assert!(stats.keepalives_sent >= 5, "{stats:?}");
    assert!(
        stats.keepalive_acks + 1 >= stats.keepalives_sent,
        "{stats:?}"
    );
    driver.shutdown().await;
}

#[tokio::test]
async fn another_client_holding_the_reader_is_refused_and_said() {
    let sim = sim(TWO_TAGS).await;
    let (first, mut first_out) = spawn(settings(&sim));
    first_out.link_up().await;

    let refused = probe(&sim.addr().to_string(), Duration::from_secs(5))
        .await
        .expect_err("reader is taken");
    assert!(matches!(refused, ProbeError::Refused(_)));
    assert!(
        refused
            .to_string()
            .contains("another client holds the reader"),
        "{refused}"
    );

    let (second, mut second_out) = spawn(settings(&sim));
    let reason = second_out.link_down().await;
    assert_eq!(
        reason,
        "reader refused the connection: another client holds the reader \
         (client-initiated connection already exists)"
    );
    first_out
        .event("another-client warning", |e| {
            matches!(e, DriverEvent::ReaderError { message, .. } if message.contains("another client"))
        })
        .await;
    assert!(sim.stats().connections_refused >= 2);
    second.abort();
    first.shutdown().await;
}

#[tokio::test]
async fn a_rejected_add_rospec_is_a_clear_error_then_backed_off() {
    let sim = sim(TWO_TAGS).await;
    sim.inject(Fault::RejectAddRospec {
        status: 100,
        description: "antenna 9 does not exist".into(),
        times: 1,
    });
    let (driver, mut out) = spawn(settings(&sim));
    let error = out
        .event("reader error", |e| {
            matches!(e, DriverEvent::ReaderError { .. })
        })
        .await;
    let expected = "ADD_ROSPEC rejected: M_ParameterError: antenna 9 does not exist";
    assert!(
        matches!(&error, DriverEvent::ReaderError { message, .. } if message == expected),
        "{error:?}"
    );
    assert_eq!(out.link_down().await, expected);
    // Once the reader accepts again, the retry after the backoff succeeds.
    out.link_up().await;
    driver.shutdown().await;
}

#[tokio::test]
async fn corrupt_reports_lose_only_the_damaged_read_and_are_counted() {
    let sim = sim(TWO_TAGS).await;
    let (driver, mut out) = spawn(settings(&sim));
    out.link_up().await;
    out.batches(1).await;
    assert!(sim.inject(Fault::CorruptFrame { count: 3 }));
    out.batches(6).await;
    assert_eq!(sim.stats().reads_corrupted, 3);
    driver.shutdown().await;
    out.rest().await;
    let stats = sim.stats();
    // Every read the emulator sent arrived, except the three it damaged.
    assert_eq!(
        out.reads.len() as u64,
        stats.reads_sent - stats.reads_corrupted
    );
    assert_eq!(out.last_counters().frames_dropped, 3);
    assert_eq!(out.last_counters().reads, out.reads.len() as u64);
}

#[tokio::test]
async fn junk_bytes_drop_the_link_which_comes_back() {
    let sim = sim(TWO_TAGS).await;
    let (driver, mut out) = spawn(settings(&sim));
    out.link_up().await;
    out.batches(1).await;
    assert!(sim.inject(Fault::JunkBytes { bytes: 32 }));
    let reason = out.link_down().await;
    // LLRP over TCP has no marker to resynchronise on: the link is dropped and re-established.
    assert!(reason.starts_with("unreadable byte stream"), "{reason}");
    out.link_up().await;
    out.batches(2).await;
    driver.shutdown().await;
    out.rest().await;
    assert_eq!(out.last_counters().frames_dropped, 1);
    assert_eq!(out.last_counters().connects, 2);
}

#[tokio::test]
async fn graceful_shutdown_leaves_no_rospec_behind() {
    let sim = sim(TWO_TAGS).await;
    let (driver, mut out) = spawn(settings(&sim));
    out.link_up().await;
    let held: Vec<u32> = sim.rospecs().iter().map(|r| r.id).collect();
    assert_eq!(held, vec![OUR_ROSPEC_ID]);
    driver.shutdown().await;
    assert!(sim.rospecs().is_empty());
    out.rest().await;
    assert!(out.events.iter().any(
        |e| matches!(e, DriverEvent::LinkDown { reason, .. } if reason == "driver shut down")
    ));
}

#[tokio::test]
async fn a_crashed_drivers_rospec_is_replaced_and_probe_changes_nothing() {
    let sim = sim(TWO_TAGS).await;
    let (crashed, mut out) = spawn(settings(&sim));
    out.link_up().await;
    crashed.abort();

    let (driver, mut out) = spawn(settings(&sim));
    out.link_up().await;
    assert_eq!(sim.rospecs().len(), 1, "the stale rospec was deleted first");
    driver.abort();

    let report = probe_when_free(&sim).await;
    assert_eq!(report.model, "Impinj R700");
    assert_eq!(report.firmware, "1.0.0");
    assert_eq!(report.antennas, 4);
    assert_eq!(report.power_table.first(), Some(&(1, 1000)));
    assert_eq!(report.power_table.last(), Some(&(91, 3250)));
    assert_eq!(report.rospecs.len(), 1);
    assert_eq!(report.rospecs[0].id, OUR_ROSPEC_ID);
    assert_eq!(
        sim.rospecs(),
        report.rospecs,
        "probe left the reader as it was"
    );
}

#[tokio::test]
async fn antenna_events_and_clock_skew_are_reported() {
    let text = format!("[llrp]\nclock-offset-ms = 5000\n{TWO_TAGS}");
    let sim = sim(&text).await;
    let (driver, mut out) = spawn(settings(&sim));
    let skew = out
        .event("clock skew", |e| matches!(e, DriverEvent::ClockSkew { .. }))
        .await;
    assert!(
        matches!(skew, DriverEvent::ClockSkew { skew_ms, .. } if (4000..6000).contains(&skew_ms)),
        "{skew:?}"
    );
    out.link_up().await;
    assert!(sim.inject(Fault::AntennaEvent {
        antenna: 2,
        connected: false
    }));
    out.event("antenna event", |e| {
        matches!(
            e,
            DriverEvent::Antenna {
                antenna: 2,
                connected: false,
                ..
            }
        )
    })
    .await;
    out.batches(3).await;
    // Reads use receive time, not the reader's clock five seconds ahead.
    let now = now_us();
    assert!(out.reads.iter().all(|r| r.time.0 <= now));
    driver.shutdown().await;
}

#[tokio::test]
async fn probe_of_nothing_listening_fails_clearly() {
    // A port that was free a moment ago and has nobody listening now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let err = probe(&addr.to_string(), Duration::from_secs(2))
        .await
        .expect_err("nothing listens");
    assert!(err.to_string().starts_with("cannot connect to"), "{err}");
}

#[tokio::test]
async fn an_llrp_1_1_reader_with_only_an_uptime_clock_works() {
    let text = format!("[llrp]\nversion = \"1.1\"\nclock = \"uptime\"\n{TWO_TAGS}");
    let sim = sim(&text).await;
    let (driver, mut out) = spawn(settings(&sim));
    out.link_up().await;
    out.batches(3).await;
    // Uptime stamps, anchored to our clock at connect: recent UTC times, not seconds since boot.
    let now = now_us();
    assert!(
        out.reads
            .iter()
            .all(|r| r.time.0 <= now + 1_000_000 && now - r.time.0 < 10_000_000),
        "{:?}",
        out.reads.first()
    );
    driver.shutdown().await;
    let report = probe_when_free(&sim).await;
    assert_eq!(
        report.version,
        tagtally_protocol::llrp::ProtocolVersion::V1_1
    );
    assert!(!report.has_utc_clock);
    assert!(report.rospecs.is_empty());
}

#[tokio::test]
async fn a_probe_tap_stamps_every_read_of_its_tags_before_the_driver_sees_it() {
    use tagtally_sim::llrp::ProbeTap;
    let sim = sim(TWO_TAGS).await;
    let watched = tagtally_reader_drivers::Epc::from_slice(&[
        0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
    ])
    .unwrap();
    let (tx, mut probes) = mpsc::unbounded_channel();
    sim.tap_probes(ProbeTap::new([watched], tx));
    let (driver, mut out) = spawn(settings(&sim));
    out.link_up().await;
    out.batches(4).await;
    let received = std::time::Instant::now();
    let watched_reads = out.reads.iter().filter(|r| r.epc == watched).count();
    let mut stamped = Vec::new();
    while let Ok(read) = probes.try_recv() {
        stamped.push(read);
    }
    // Every read the driver has was stamped first; the tap may be ahead by reads still in flight.
    assert!(watched_reads > 0);
    assert!(
        stamped.len() >= watched_reads,
        "{} < {watched_reads}",
        stamped.len()
    );
    assert!(stamped
        .iter()
        .all(|p| p.epc == watched && p.antenna == 1 && p.written <= received));
    driver.shutdown().await;
}
