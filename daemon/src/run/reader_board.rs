//! What the daemon knows about each reader: link, counters, rates, antennas; the source of
//! `tagtally readers`, the status counts and the retained `readers/{reader}` health payloads.
//!
//! Owned by the engine task (which sees every driver output), updated from batches and events, and
//! published as plain values at each flush tick, so nobody ever asks a reader task a question.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tagtally_config::{Config, ReaderLink, ReaderRole, SerialPort};
use tagtally_reader_drivers::{DriverCounters, DriverEvent, Micros, ReaderId, TagRead};

use crate::control::{AntennaStatus, Link, ReaderLinkState, ReaderStatus, Timestamp};
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::{coarse_rate, AntennaTrustEntry};

use super::clock::DaemonClock;

/// Rates are smoothed over about this long (what "reads/s over the last few seconds" means).
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// Schema of the retained reader health payload (docs/schemas/readers.json).
pub const READER_SCHEMA: &str = "tagtally.reader/1";

/// A reader's link as the daemon tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkView {
    /// Never up since start (or since its task was restarted).
    Connecting,
    /// Session established.
    Up,
    /// Lost; the driver reconnects.
    Down,
}

/// A smoothed per-second rate of a growing counter.
#[derive(Debug, Clone, Copy, Default)]
struct Rate {
    last_count: u64,
    last_at: Option<Micros>,
    per_sec: f64,
}

impl Rate {
    fn update(&mut self, count: u64, now: Micros) {
        if let Some(at) = self.last_at {
            let dt = now.0.saturating_sub(at.0) as f64 / 1e6;
            if dt <= 0.0 {
                return;
            }
            let instant = count.saturating_sub(self.last_count) as f64 / dt;
            // Exponential smoothing with a time constant of RATE_WINDOW, correct for any tick spacing.
            let alpha = 1.0 - (-dt / RATE_WINDOW.as_secs_f64()).exp();
            self.per_sec += alpha * (instant - self.per_sec);
        }
        self.last_count = count;
        self.last_at = Some(now);
    }
}

#[derive(Debug, Clone)]
struct Antenna {
    port: u16,
    zone: Arc<str>,
    /// As last reported by the reader; `None` until it says.
    connected: Option<bool>,
    reads: u64,
    last_read: Option<Micros>,
    rate: Rate,
    /// Zone trust, from the engine at each tick.
    trust: Option<AntennaTrustEntry>,
}

#[derive(Debug, Clone)]
struct Entry {
    name: Arc<str>,
    kind: &'static str,
    /// A handheld's reads go to count sessions, never to the engine.
    role: ReaderRole,
    endpoint: String,
    link: LinkView,
    reason: Option<String>,
    since: Option<SystemTime>,
    model: Option<String>,
    firmware: Option<String>,
    /// The current driver instance's cumulative counters.
    counters: DriverCounters,
    /// Counters of earlier driver instances (a restarted task starts from zero).
    earlier: DriverCounters,
    reader_errors: u64,
    reads: u64,
    /// Reads from antenna ports the config maps to no zone.
    unmapped_reads: u64,
    /// This reader's candidates evicted at the engine's cap (the engine's count, copied at each tick).
    candidates_evicted: u64,
    last_read: Option<Micros>,
    rate: Rate,
    last_error: Option<String>,
    antennas: Vec<Antenna>,
    /// Port → index into `antennas` (`u16::MAX` = not configured).
    port_index: Vec<u16>,
    /// The health payload last handed to the uplink, without its time (to send only changes).
    health_sent: Option<String>,
}

/// A reader's counters since the daemon started (across driver restarts), in config order; the
/// figures `tagtally metrics` exports as Prometheus counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderTotals {
    /// Tag reads taken by the engine.
    pub reads: u64,
    /// Frames dropped as corrupt (bad CRC, malformed parameters).
    pub frames_dropped: u64,
    /// Junk bytes discarded while resynchronising a serial stream.
    pub bytes_discarded: u64,
    /// Errors the reader itself reported.
    pub reader_errors: u64,
    /// Connections after the first.
    pub reconnects: u64,
    /// Attempts to reach the reader that failed.
    pub failed_connects: u64,
    /// Messages of a type the driver does not know, ignored.
    pub unknown_messages: u64,
    /// Reads per configured antenna, in the order of [`ReaderStatus::antennas`].
    pub antenna_reads: Vec<u64>,
}

/// Every configured reader, in config order (index = `ReaderId`).
#[derive(Debug, Clone)]
pub struct ReaderBoard {
    store: String,
    readers: Vec<Entry>,
}

#[derive(Serialize)]
struct HealthPayload<'a> {
    schema: &'static str,
    store: &'a str,
    reader: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    link: &'static str,
    reads_per_sec: f64,
    antennas: Vec<HealthAntenna<'a>>,
    last_error: Option<&'a str>,
}

#[derive(Serialize)]
struct HealthAntenna<'a> {
    antenna: u16,
    zone: &'a str,
    state: &'static str,
    reads_per_sec: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    trust: Option<AntennaTrustEntry>,
}

fn add(a: DriverCounters, b: DriverCounters) -> DriverCounters {
    DriverCounters {
        reads: a.reads + b.reads,
        frames_dropped: a.frames_dropped + b.frames_dropped,
        bytes_discarded: a.bytes_discarded + b.bytes_discarded,
        connects: a.connects + b.connects,
        disconnects: a.disconnects + b.disconnects,
        failed_connects: a.failed_connects + b.failed_connects,
        unknown_messages: a.unknown_messages + b.unknown_messages,
    }
}

impl ReaderBoard {
    /// Every reader of `config`, connecting, nothing read.
    pub fn new(config: &Config) -> Self {
        let readers = config
            .readers
            .iter()
            .map(|r| {
                let endpoint = match &r.link {
                    ReaderLink::Llrp(l) => l.address.to_string(),
                    ReaderLink::Serial(s) => match &s.port {
                        SerialPort::Device(path) => path.display().to_string(),
                        SerialPort::Tcp(address) => address.to_string(),
                    },
                };
                let antennas: Vec<Antenna> = r
                    .antennas
                    .iter()
                    .map(|(&port, zone)| Antenna {
                        port,
                        zone: zone.as_str().into(),
                        connected: None,
                        reads: 0,
                        last_read: None,
                        rate: Rate::default(),
                        trust: None,
                    })
                    .collect();
                let top = antennas.iter().map(|a| usize::from(a.port)).max();
                let mut port_index = vec![u16::MAX; top.map_or(0, |t| t + 1)];
                for (i, a) in antennas.iter().enumerate() {
                    // At most 65535 antennas per reader (ports are u16), so `i` fits.
                    port_index[usize::from(a.port)] = i as u16;
                }
                Entry {
                    name: r.name.as_str().into(),
                    kind: r.kind().as_str(),
                    role: r.role,
                    endpoint,
                    link: LinkView::Connecting,
                    reason: None,
                    since: None,
                    model: None,
                    firmware: None,
                    counters: DriverCounters::default(),
                    earlier: DriverCounters::default(),
                    reader_errors: 0,
                    reads: 0,
                    unmapped_reads: 0,
                    candidates_evicted: 0,
                    last_read: None,
                    rate: Rate::default(),
                    last_error: None,
                    antennas,
                    port_index,
                    health_sent: None,
                }
            })
            .collect();
        ReaderBoard {
            store: config.store.clone(),
            readers,
        }
    }

    /// The reader's name, if it is configured.
    pub fn name(&self, reader: ReaderId) -> Option<&Arc<str>> {
        self.readers.get(usize::from(reader.0)).map(|e| &e.name)
    }

    /// Is the reader a handheld (its reads count only in count sessions)?
    pub fn is_handheld(&self, reader: ReaderId) -> bool {
        self.readers
            .get(usize::from(reader.0))
            .is_some_and(|e| e.role == ReaderRole::Handheld)
    }

    /// The reader with this name, if configured, and whether it is a handheld.
    pub fn find(&self, name: &str) -> Option<(ReaderId, bool)> {
        let i = self.readers.iter().position(|e| *e.name == *name)?;
        // At most `MAX_READERS` (u16) readers are configured.
        let id = ReaderId(i as u16);
        Some((id, self.is_handheld(id)))
    }

    /// The zone an antenna covers, if configured.
    pub fn zone(&self, reader: ReaderId, antenna: u16) -> Option<&Arc<str>> {
        let e = self.readers.get(usize::from(reader.0))?;
        let i = *e.port_index.get(usize::from(antenna))?;
        e.antennas.get(usize::from(i)).map(|a| &a.zone)
    }

    /// Counts a batch of reads (all from one reader), seen at `now`.
    pub fn reads(&mut self, batch: &[TagRead], now: Micros) {
        let Some(first) = batch.first() else {
            return;
        };
        let Some(e) = self.readers.get_mut(usize::from(first.reader.0)) else {
            return;
        };
        e.reads += batch.len() as u64;
        e.last_read = Some(now);
        for read in batch {
            let slot = e.port_index.get(usize::from(read.antenna)).copied();
            match slot.and_then(|i| e.antennas.get_mut(usize::from(i))) {
                Some(a) => {
                    a.reads += 1;
                    a.last_read = Some(now);
                }
                None => e.unmapped_reads += 1,
            }
        }
    }

    /// Takes the engine's count of each reader's candidates evicted at its cap.
    pub fn take_candidates_evicted(&mut self, evicted: impl Fn(ReaderId) -> u64) {
        for (i, e) in self.readers.iter_mut().enumerate() {
            // At most u16::MAX readers are configured (checked when the engine is set up).
            e.candidates_evicted = evicted(ReaderId(i as u16));
        }
    }

    /// Applies a driver event; returns true when the link or antennas changed (worth publishing at once).
    pub fn event(&mut self, event: &DriverEvent, now: Micros) -> bool {
        let reader = match event {
            DriverEvent::LinkUp { reader, .. }
            | DriverEvent::LinkDown { reader, .. }
            | DriverEvent::Antenna { reader, .. }
            | DriverEvent::ReaderError { reader, .. }
            | DriverEvent::ClockSkew { reader, .. }
            | DriverEvent::Counters { reader, .. }
            | DriverEvent::Heard { reader } => *reader,
        };
        let Some(e) = self.readers.get_mut(usize::from(reader.0)) else {
            return false;
        };
        let at = DaemonClock::system_time(now);
        match event {
            DriverEvent::LinkUp { info, .. } => {
                e.link = LinkView::Up;
                e.reason = None;
                e.since = Some(at);
                e.model = Some(info.model.clone()).filter(|m| !m.is_empty());
                e.firmware = Some(info.firmware.clone()).filter(|f| !f.is_empty());
                true
            }
            DriverEvent::LinkDown { reason, .. } => {
                e.link = LinkView::Down;
                e.reason = Some(reason.clone());
                e.since = Some(at);
                e.last_error = Some(reason.clone());
                true
            }
            DriverEvent::Antenna {
                antenna, connected, ..
            } => {
                let slot = e.port_index.get(usize::from(*antenna)).copied();
                if let Some(a) = slot.and_then(|i| e.antennas.get_mut(usize::from(i))) {
                    a.connected = Some(*connected);
                }
                true
            }
            DriverEvent::ReaderError { message, .. } => {
                e.reader_errors += 1;
                e.last_error = Some(message.clone());
                true
            }
            DriverEvent::ClockSkew { skew_ms, .. } => {
                e.last_error = Some(format!(
                    "reader clock off by {skew_ms} ms; reads stamped on arrival"
                ));
                false
            }
            DriverEvent::Counters { counters, .. } => {
                // A driver instance counts from zero: a drop means the task was restarted.
                if counters.connects < e.counters.connects || counters.reads < e.counters.reads {
                    e.earlier = add(e.earlier, e.counters);
                }
                e.counters = *counters;
                false
            }
            // Evidence for the engine; the board shows reads and link state.
            DriverEvent::Heard { .. } => false,
        }
    }

    /// Updates the rates (call once per tick).
    pub fn tick(&mut self, now: Micros) {
        for e in &mut self.readers {
            e.rate.update(e.reads, now);
            for a in &mut e.antennas {
                a.rate.update(a.reads, now);
            }
        }
    }

    /// Whether every reader has connected or failed its first attempt since start.
    pub fn all_tried(&self) -> bool {
        self.readers.iter().all(|e| e.link != LinkView::Connecting)
    }

    /// The readers whose link is up.
    pub fn up_readers(&self) -> Vec<ReaderId> {
        (0..=u16::MAX)
            .map(ReaderId)
            .zip(&self.readers)
            .filter(|(_, e)| e.link == LinkView::Up)
            .map(|(id, _)| id)
            .collect()
    }

    /// Readers up and not up.
    pub fn up_down(&self) -> (u32, u32) {
        let up = self
            .readers
            .iter()
            .filter(|e| e.link == LinkView::Up)
            .count() as u32;
        (up, self.readers.len() as u32 - up)
    }

    /// The engine's zone trust per antenna, shown in `readers` and the health payloads.
    pub fn set_trust(&mut self, trust: Vec<(ReaderId, u16, AntennaTrustEntry)>) {
        for (reader, port, entry) in trust {
            let Some(e) = self.readers.get_mut(usize::from(reader.0)) else {
                continue;
            };
            let slot = e.port_index.get(usize::from(port)).copied();
            if let Some(a) = slot.and_then(|i| e.antennas.get_mut(usize::from(i))) {
                a.trust = Some(entry);
            }
        }
    }

    /// All readers' read rate.
    pub fn reads_per_sec(&self) -> f64 {
        self.readers.iter().map(|e| e.rate.per_sec).sum()
    }

    /// The `readers` answer of the control socket.
    pub fn statuses(&self) -> Vec<ReaderStatus> {
        self.readers.iter().map(status).collect()
    }

    /// Every reader's cumulative counters, for the metrics.
    pub fn totals(&self) -> Vec<ReaderTotals> {
        self.readers
            .iter()
            .map(|e| {
                let total = add(e.earlier, e.counters);
                ReaderTotals {
                    reads: e.reads,
                    frames_dropped: total.frames_dropped,
                    bytes_discarded: total.bytes_discarded,
                    reader_errors: e.reader_errors,
                    reconnects: total.connects.saturating_sub(1),
                    failed_connects: total.failed_connects,
                    unknown_messages: total.unknown_messages,
                    antenna_reads: e.antennas.iter().map(|a| a.reads).collect(),
                }
            })
            .collect()
    }

    /// Health payloads that changed since last handed out, as (reader, payload) with `now` as their
    /// time (a published time: the wall clock's).
    pub fn changed_health(&mut self, now: Micros) -> Vec<(Arc<str>, Vec<u8>)> {
        let mut out = Vec::new();
        for e in &mut self.readers {
            let mut payload = health(&self.store, e, None);
            let key = serde_json::to_string(&payload).unwrap_or_default();
            if e.health_sent.as_deref() == Some(key.as_str()) {
                continue;
            }
            payload.time = Some(rfc3339_from_micros(now.0));
            let bytes = serde_json::to_vec(&payload).unwrap_or_default();
            e.health_sent = Some(key);
            out.push((e.name.clone(), bytes));
        }
        out
    }
}

fn link_name(view: LinkView) -> &'static str {
    match view {
        LinkView::Connecting => "connecting",
        LinkView::Up => "up",
        LinkView::Down => "down",
    }
}

fn health<'a>(store: &'a str, e: &'a Entry, time: Option<String>) -> HealthPayload<'a> {
    HealthPayload {
        schema: READER_SCHEMA,
        store,
        reader: &e.name,
        time,
        link: link_name(e.link),
        reads_per_sec: coarse_rate(e.rate.per_sec),
        antennas: e
            .antennas
            .iter()
            .map(|a| HealthAntenna {
                antenna: a.port,
                zone: &a.zone,
                state: match (e.link, a.connected) {
                    (LinkView::Up, Some(false)) => "disconnected",
                    (LinkView::Up, _) => "ok",
                    _ => "unknown",
                },
                reads_per_sec: coarse_rate(a.rate.per_sec),
                // Without the sentinel read time, which moves at every read: the retained payload
                // changes when the trust does (`readers` shows the time).
                trust: a.trust.clone().map(|t| AntennaTrustEntry {
                    last_sentinel_read: None,
                    ..t
                }),
            })
            .collect(),
        last_error: e.last_error.as_deref(),
    }
}

fn status(e: &Entry) -> ReaderStatus {
    let total = add(e.earlier, e.counters);
    let reader_link = match e.link {
        LinkView::Up => Link {
            state: ReaderLinkState::Up,
            reason: None,
            since: e.since.map(Timestamp),
        },
        LinkView::Down => Link {
            state: ReaderLinkState::Down,
            reason: e.reason.clone(),
            since: e.since.map(Timestamp),
        },
        LinkView::Connecting => Link {
            state: ReaderLinkState::Down,
            reason: Some("connecting".into()),
            since: None,
        },
    };
    let antennas = e
        .antennas
        .iter()
        .map(|a| {
            let link = match (e.link, a.connected) {
                (LinkView::Up, Some(false)) => Link {
                    state: ReaderLinkState::Down,
                    reason: Some("antenna disconnected".into()),
                    since: None,
                },
                (LinkView::Up, _) => Link {
                    state: ReaderLinkState::Up,
                    reason: None,
                    since: None,
                },
                _ => Link {
                    state: ReaderLinkState::Down,
                    reason: Some("reader down".into()),
                    since: None,
                },
            };
            AntennaStatus {
                antenna: a.port,
                zone: a.zone.to_string(),
                link,
                reads_per_sec: a.rate.per_sec,
                last_read: a.last_read.map(|t| Timestamp(DaemonClock::system_time(t))),
                trust: a.trust.clone(),
            }
        })
        .collect();
    ReaderStatus {
        name: e.name.to_string(),
        kind: e.kind.to_owned(),
        role: e.role.as_str().to_owned(),
        endpoint: e.endpoint.clone(),
        link: reader_link,
        reads_per_sec: e.rate.per_sec,
        last_read: e.last_read.map(|t| Timestamp(DaemonClock::system_time(t))),
        errors: total.frames_dropped + e.reader_errors,
        reconnects: total.connects.saturating_sub(1),
        failed_reconnects: total.failed_connects,
        unmapped_reads: e.unmapped_reads,
        unknown_messages: total.unknown_messages,
        candidates_evicted: e.candidates_evicted,
        model: e.model.clone(),
        firmware: e.firmware.clone(),
        antennas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagtally_reader_drivers::{Epc, ReaderInfo};

    fn board() -> ReaderBoard {
        let text = r#"
store = "s1"
[[zone]]
name = "floor"
[[zone]]
name = "backroom"
[[reader]]
name = "r1"
kind = "llrp"
address = "10.0.0.21"
antennas = { 1 = "floor", 3 = "backroom" }
[mqtt]
url = "mqtt://127.0.0.1"
"#;
        ReaderBoard::new(&Config::from_str(text, "t.toml").expect("valid"))
    }

    fn read(antenna: u16) -> TagRead {
        TagRead {
            reader: ReaderId(0),
            antenna,
            epc: Epc::from_slice(&[0x30, 1, 2]).unwrap(),
            rssi_cdbm: None,
            time: Micros(0),
        }
    }

    #[test]
    fn rates_links_and_health_changes() {
        let mut b = board();
        assert_eq!(b.up_down(), (0, 1));
        assert_eq!(b.zone(ReaderId(0), 3).map(|z| &**z), Some("backroom"));
        assert_eq!(b.zone(ReaderId(0), 2), None);
        let t0 = Micros(1_000_000_000);
        b.tick(t0);
        let first = b.changed_health(t0);
        assert_eq!(first.len(), 1);
        let text = String::from_utf8(first[0].1.clone()).unwrap();
        assert!(text.contains(r#""link":"connecting""#), "{text}");
        assert!(
            b.changed_health(t0).is_empty(),
            "unchanged: nothing to send"
        );
        b.event(
            &DriverEvent::LinkUp {
                reader: ReaderId(0),
                info: ReaderInfo::default(),
            },
            t0,
        );
        for s in 1..=10u64 {
            b.reads(&vec![read(1); 100], Micros(t0.0 + s * 1_000_000));
            b.tick(Micros(t0.0 + s * 1_000_000));
        }
        let rate = b.reads_per_sec();
        assert!((80.0..=100.0).contains(&rate), "rate {rate}");
        let st = b.statuses();
        assert_eq!(st[0].link.state, ReaderLinkState::Up);
        assert_eq!(st[0].antennas[0].zone, "floor");
        assert!(st[0].antennas[1].reads_per_sec < 1.0);
        let h = b.changed_health(Micros(t0.0 + 10_000_000));
        let text = String::from_utf8(h[0].1.clone()).unwrap();
        assert!(text.contains(r#""link":"up""#), "{text}");
        assert!(text.contains(r#""time":"#), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], "tagtally.reader/1");
        assert_eq!(v["antennas"][1]["state"], "ok");
    }

    #[test]
    fn counters_survive_a_task_restart() {
        let mut b = board();
        let c = |reads, connects| DriverEvent::Counters {
            reader: ReaderId(0),
            counters: DriverCounters {
                reads,
                connects,
                unknown_messages: connects,
                ..DriverCounters::default()
            },
        };
        b.event(&c(100, 3), Micros(1));
        b.event(
            &DriverEvent::LinkDown {
                reader: ReaderId(0),
                reason: "reader task ended".into(),
            },
            Micros(2),
        );
        b.event(&c(5, 1), Micros(3));
        assert_eq!(b.statuses()[0].reconnects, 3);
        assert_eq!(
            b.statuses()[0].unknown_messages,
            4,
            "both instances' counts"
        );
        assert_eq!(b.totals()[0].unknown_messages, 4);
        assert_eq!(
            b.statuses()[0].link.reason.as_deref(),
            Some("reader task ended")
        );
    }

    #[test]
    fn reads_on_unmapped_antennas_and_evictions_show_per_reader() {
        let mut b = board();
        b.reads(&[read(1), read(2), read(2), read(9)], Micros(1));
        b.take_candidates_evicted(|reader| u64::from(reader.0) + 41);
        let st = &b.statuses()[0];
        assert_eq!(st.unmapped_reads, 3, "ports 2 and 9 map to no zone");
        assert_eq!(st.candidates_evicted, 41);
        assert!(st.antennas[0].last_read.is_some());
    }

    #[test]
    fn coarse_keeps_two_digits() {
        assert_eq!(coarse_rate(0.0), 0.0);
        assert_eq!(coarse_rate(1184.5), 1200.0);
        assert_eq!(coarse_rate(9.87), 9.9);
    }
}
