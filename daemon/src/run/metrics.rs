//! The daemon's Prometheus metrics, rendered from what the tasks already publish (health, uplink
//! status): served by the optional `metrics-listen` endpoint and by the control socket's `metrics`
//! request behind `tagtally metrics`.
//!
//! Names carry their unit (`_seconds`, `_bytes`, `_total` for counters); labels are only the
//! configured names of readers, antennas and zones, so cardinality is fixed by the config, never by
//! tags or SKUs. Rates are exported as counters (`..._reads_total`), and also as the daemon's own
//! per-second gauge for dashboards without PromQL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::build_info::BuildInfo;
use crate::control::{ClockSync, ReaderLinkState};
use crate::metrics::{Exposition, Kind};
use crate::store::EpcisOutboxStats;
use crate::uplink::{LinkState, UplinkStatus};

use super::published::Health;

/// Everything the metrics are made of, gathered at one moment.
#[derive(Debug)]
pub struct MetricsInput<'a> {
    pub health: &'a Health,
    pub uplink: &'a UplinkStatus,
    pub build: BuildInfo,
    pub clock_sync: ClockSync,
    pub started_at: SystemTime,
    pub uptime: Duration,
    /// The process's resident memory, when `/proc` could tell.
    pub resident_bytes: Option<u64>,
}

/// The exposition text.
pub fn render(m: &MetricsInput<'_>) -> String {
    let mut e = Exposition::default();
    let h = m.health;
    let features = m.build.features.join(",");
    e.family(
        "tagtally_build_info",
        Kind::Gauge,
        "The running build (value 1): version, git commit, cargo features, target.",
    );
    e.sample(
        "tagtally_build_info",
        &[
            ("version", m.build.version),
            ("commit", m.build.commit),
            ("features", &features),
            ("target", m.build.target),
        ],
        1.0,
    );
    e.single(
        "process_start_time_seconds",
        Kind::Gauge,
        "When the daemon started, in seconds since the Unix epoch.",
        m.started_at
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs() as f64),
    );
    e.single(
        "tagtally_uptime_seconds",
        Kind::Gauge,
        "Time since the daemon started (monotonic clock).",
        m.uptime.as_secs_f64(),
    );
    if let Some(rss) = m.resident_bytes {
        e.single(
            "process_resident_memory_bytes",
            Kind::Gauge,
            "Resident memory of the daemon (VmRSS).",
            rss as f64,
        );
    }

    readers(&mut e, h);

    let c = &h.engine;
    e.family(
        "tagtally_reads_dropped_total",
        Kind::Counter,
        "Reads the engine did not count, by cause: unmapped (an antenna mapped to no zone), stray (tags that never arrived: ghosts, corrupted EPCs, passers-by).",
    );
    e.sample(
        "tagtally_reads_dropped_total",
        &[("cause", "unmapped")],
        c.unmapped_reads as f64,
    );
    e.sample(
        "tagtally_reads_dropped_total",
        &[("cause", "stray")],
        c.stray_reads as f64,
    );
    e.family(
        "tagtally_tag_changes_total",
        Kind::Counter,
        "Presence changes decided by the engine: arrival, departure, move.",
    );
    for (kind, n) in [
        ("arrival", c.arrivals),
        ("departure", c.departures),
        ("move", c.moves),
    ] {
        e.sample("tagtally_tag_changes_total", &[("kind", kind)], n as f64);
    }
    e.family(
        "tagtally_departures_total",
        Kind::Counter,
        "Departures by reason: unseen (not read for depart-after: unexplained), sale, count.",
    );
    for (reason, n) in [
        (
            "unseen",
            c.departures
                .saturating_sub(c.departures_sale + c.departures_count),
        ),
        ("sale", c.departures_sale),
        ("count", c.departures_count),
    ] {
        e.sample("tagtally_departures_total", &[("reason", reason)], n as f64);
    }
    e.single(
        "tagtally_sale_epcs_not_present_total",
        Kind::Counter,
        "Sold EPCs (cmd/sale, tagtally sale) that were not in stock: sold twice, never arrived, or unknown; nothing changed.",
        c.sales_not_present as f64,
    );
    e.single(
        "tagtally_tags_present",
        Kind::Gauge,
        "Tags counted in some zone.",
        h.tags_present as f64,
    );
    e.single(
        "tagtally_tag_candidates",
        Kind::Gauge,
        "Tags seen but not (yet) counted.",
        c.candidates as f64,
    );
    e.family(
        "tagtally_zone_tags_present",
        Kind::Gauge,
        "Tags counted per zone.",
    );
    for (zone, n) in &c.present_per_zone {
        e.sample(
            "tagtally_zone_tags_present",
            &[("zone", zone)],
            f64::from(*n),
        );
    }
    e.family(
        "tagtally_zone_stale",
        Kind::Gauge,
        "1 while no healthy reader covers the zone: its counts are frozen, not drained.",
    );
    for (zone, _) in &c.present_per_zone {
        let stale = h.stale_zones.iter().any(|z| z.as_str() == &**zone);
        e.sample(
            "tagtally_zone_stale",
            &[("zone", zone)],
            f64::from(u8::from(stale)),
        );
    }

    e.single(
        "tagtally_outbox_deltas",
        Kind::Gauge,
        "Committed deltas waiting for the broker's acknowledgement.",
        h.outbox.deltas as f64,
    );
    e.single(
        "tagtally_outbox_bytes",
        Kind::Gauge,
        "Payload bytes of those deltas.",
        h.outbox.bytes as f64,
    );
    e.single(
        "tagtally_outbox_max_bytes",
        Kind::Gauge,
        "The bound on the outbox (outbox-max-bytes); beyond it the oldest deltas are folded into a resync snapshot.",
        h.outbox.max_bytes as f64,
    );
    e.single(
        "tagtally_outbox_folded_deltas_total",
        Kind::Counter,
        "Deltas folded into resync snapshots because the outbox was full, since the database was created.",
        h.outbox.folded_deltas as f64,
    );
    if let Some(epcis) = &h.epcis_outbox {
        epcis_outbox(&mut e, epcis);
    }
    e.single(
        "tagtally_committed_seq",
        Kind::Gauge,
        "The seq of the last committed delta.",
        h.last_seq as f64,
    );
    e.histogram(
        "tagtally_commit_duration_seconds",
        "Time of each state database commit (one transaction and its fsync).",
        &h.commit_latency,
    );
    e.single(
        "tagtally_state_disk_full",
        Kind::Gauge,
        "1 while the state disk refuses writes for lack of space (changes held in memory).",
        f64::from(u8::from(h.disk_full.is_some())),
    );

    mqtt(&mut e, m.uplink);

    e.single(
        "tagtally_clock_synchronized",
        Kind::Gauge,
        "1 when the system clock is known to be synchronised, 0 when known not to be, -1 when unknown.",
        match m.clock_sync {
            ClockSync::Synchronized => 1.0,
            ClockSync::Unsynchronized => 0.0,
            ClockSync::Unknown => -1.0,
        },
    );
    e.single(
        "tagtally_clock_steps_total",
        Kind::Counter,
        "Steps of the wall clock the daemon followed (published times re-anchored).",
        h.clock_steps as f64,
    );
    e.finish()
}

/// The EPCIS outbox (`[epcis] publish = true` only), named like the deltas' outbox.
fn epcis_outbox(e: &mut Exposition, epcis: &EpcisOutboxStats) {
    e.single(
        "tagtally_epcis_outbox_messages",
        Kind::Gauge,
        "Committed EPCIS messages waiting for the broker's acknowledgement.",
        epcis.messages as f64,
    );
    e.single(
        "tagtally_epcis_outbox_bytes",
        Kind::Gauge,
        "Payload bytes of those messages.",
        epcis.bytes as f64,
    );
    e.single(
        "tagtally_epcis_published_total",
        Kind::Counter,
        "EPCIS messages the broker acknowledged, since the database was created.",
        epcis.published as f64,
    );
    e.single(
        "tagtally_epcis_dropped_total",
        Kind::Counter,
        "EPCIS messages dropped unsent (the oldest when the outbox was full, or too large for the broker), since the database was created.",
        epcis.dropped as f64,
    );
}

/// Picks one counter out of a reader's totals.
type TotalOf = fn(&super::ReaderTotals) -> u64;

fn readers(e: &mut Exposition, h: &Health) {
    e.family(
        "tagtally_reader_up",
        Kind::Gauge,
        "1 while the reader's link is up.",
    );
    for r in &h.readers {
        let up = r.link.state == ReaderLinkState::Up;
        e.sample(
            "tagtally_reader_up",
            &[("reader", &r.name)],
            f64::from(u8::from(up)),
        );
    }
    let counters: [(&str, &str, TotalOf); 7] = [
        (
            "tagtally_reader_reads_total",
            "Tag reads taken from the reader.",
            |t| t.reads,
        ),
        (
            "tagtally_reader_frames_dropped_total",
            "Frames from the reader dropped as corrupt (bad CRC, malformed parameters).",
            |t| t.frames_dropped,
        ),
        (
            "tagtally_reader_discarded_bytes_total",
            "Junk bytes discarded while resynchronising a serial stream.",
            |t| t.bytes_discarded,
        ),
        (
            "tagtally_reader_errors_total",
            "Errors the reader itself reported.",
            |t| t.reader_errors,
        ),
        (
            "tagtally_reader_reconnects_total",
            "Connections to the reader after the first.",
            |t| t.reconnects,
        ),
        (
            "tagtally_reader_failed_connects_total",
            "Attempts to reach the reader that failed (refused, unreachable, setup rejected).",
            |t| t.failed_connects,
        ),
        (
            "tagtally_reader_unknown_messages_total",
            "Messages from the reader of a type the driver does not know, ignored.",
            |t| t.unknown_messages,
        ),
    ];
    for (name, help, value) in counters {
        e.family(name, Kind::Counter, help);
        for (r, t) in h.readers.iter().zip(&h.reader_totals) {
            e.sample(name, &[("reader", &r.name)], value(t) as f64);
        }
    }
    e.family(
        "tagtally_reader_reads_per_second",
        Kind::Gauge,
        "Tag reads per second over the last few seconds, as the daemon computes it.",
    );
    for r in &h.readers {
        e.sample(
            "tagtally_reader_reads_per_second",
            &[("reader", &r.name)],
            r.reads_per_sec,
        );
    }
    e.family(
        "tagtally_antenna_reads_total",
        Kind::Counter,
        "Tag reads per antenna.",
    );
    for (r, t) in h.readers.iter().zip(&h.reader_totals) {
        for (a, reads) in r.antennas.iter().zip(&t.antenna_reads) {
            let port = a.antenna.to_string();
            e.sample(
                "tagtally_antenna_reads_total",
                &[("reader", &r.name), ("antenna", &port), ("zone", &a.zone)],
                *reads as f64,
            );
        }
    }
    e.family(
        "tagtally_antenna_reads_per_second",
        Kind::Gauge,
        "Tag reads per second per antenna over the last few seconds.",
    );
    for r in &h.readers {
        for a in &r.antennas {
            let port = a.antenna.to_string();
            e.sample(
                "tagtally_antenna_reads_per_second",
                &[("reader", &r.name), ("antenna", &port), ("zone", &a.zone)],
                a.reads_per_sec,
            );
        }
    }
    e.family(
        "tagtally_antenna_up",
        Kind::Gauge,
        "1 while the antenna can read (its reader up, the antenna not reported disconnected).",
    );
    for r in &h.readers {
        for a in &r.antennas {
            let port = a.antenna.to_string();
            e.sample(
                "tagtally_antenna_up",
                &[("reader", &r.name), ("antenna", &port), ("zone", &a.zone)],
                f64::from(u8::from(a.link.state == ReaderLinkState::Up)),
            );
        }
    }
}

fn mqtt(e: &mut Exposition, u: &UplinkStatus) {
    e.family(
        "tagtally_mqtt_state",
        Kind::Gauge,
        "The MQTT uplink's state: 1 for the current one of connecting, online, down, stopped.",
    );
    let current = match u.state {
        LinkState::Connecting => "connecting",
        LinkState::Online => "online",
        LinkState::Down { .. } => "down",
        LinkState::Stopped => "stopped",
    };
    for state in ["connecting", "online", "down", "stopped"] {
        e.sample(
            "tagtally_mqtt_state",
            &[("state", state)],
            f64::from(u8::from(state == current)),
        );
    }
    e.single(
        "tagtally_mqtt_connections_total",
        Kind::Counter,
        "Successful connections to the broker.",
        u.connections as f64,
    );
    e.single(
        "tagtally_mqtt_in_flight_messages",
        Kind::Gauge,
        "Messages published and not yet acknowledged.",
        u.in_flight as f64,
    );
    e.single(
        "tagtally_mqtt_acked_seq",
        Kind::Gauge,
        "The highest delta seq the broker acknowledged (all below it too); 0 before the first.",
        u.acked_through.unwrap_or(0) as f64,
    );
    if let Some(at) = u.last_ack {
        e.single(
            "tagtally_mqtt_last_ack_timestamp_seconds",
            Kind::Gauge,
            "When the broker last acknowledged anything, in seconds since the Unix epoch.",
            at.duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        );
    }
}

/// The process's resident memory from `/proc/self/statm` (pages × page size).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * rustix::param::page_size() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{AntennaStatus, Link, ReaderStatus};
    use crate::metrics::LatencyHistogram;
    use crate::run::ReaderTotals;
    use std::sync::Arc;

    fn link(state: ReaderLinkState) -> Link {
        Link {
            state,
            reason: None,
            since: None,
        }
    }

    fn health() -> Health {
        let mut commit_latency = LatencyHistogram::default();
        commit_latency.observe(Duration::from_millis(4));
        let mut h = Health {
            readers: vec![ReaderStatus {
                name: "ceiling-1".into(),
                kind: "llrp".into(),
                role: "fixed".into(),
                endpoint: "10.0.0.21:5084".into(),
                link: link(ReaderLinkState::Up),
                reads_per_sec: 1200.5,
                last_read: None,
                errors: 3,
                reconnects: 1,
                failed_reconnects: 0,
                candidates_evicted: 0,
                unmapped_reads: 0,
                unknown_messages: 4,
                model: None,
                firmware: None,
                antennas: vec![
                    AntennaStatus {
                        antenna: 1,
                        zone: "floor".into(),
                        link: link(ReaderLinkState::Up),
                        reads_per_sec: 1000.0,
                        last_read: None,
                        trust: None,
                    },
                    AntennaStatus {
                        antenna: 3,
                        zone: "backroom".into(),
                        link: link(ReaderLinkState::Down),
                        reads_per_sec: 200.5,
                        last_read: None,
                        trust: None,
                    },
                ],
            }],
            readers_up: 1,
            tags_present: 2412,
            stale_zones: vec!["backroom".into()],
            last_seq: 99,
            reader_totals: vec![ReaderTotals {
                reads: 50_000,
                frames_dropped: 2,
                bytes_discarded: 0,
                reader_errors: 1,
                reconnects: 1,
                failed_connects: 5,
                unknown_messages: 4,
                antenna_reads: vec![40_000, 10_000],
            }],
            commit_latency,
            clock_steps: 1,
            ..Health::default()
        };
        h.engine.stray_reads = 17;
        h.engine.arrivals = 2500;
        h.engine.present_per_zone = vec![(Arc::from("floor"), 2000), (Arc::from("backroom"), 412)];
        h.outbox.deltas = 3;
        h.epcis_outbox = Some(EpcisOutboxStats {
            next_seq: 43,
            messages: 2,
            bytes: 3_000,
            dropped: 5,
            published: 35,
        });
        h
    }

    fn text() -> String {
        text_of(&health())
    }

    fn text_of(h: &Health) -> String {
        let u = UplinkStatus {
            state: LinkState::Online,
            connections: 2,
            acked_through: Some(96),
            ..UplinkStatus::default()
        };
        render(&MetricsInput {
            health: h,
            uplink: &u,
            build: crate::build_info::build_info(),
            clock_sync: ClockSync::Synchronized,
            started_at: UNIX_EPOCH + Duration::from_secs(1_796_000_000),
            uptime: Duration::from_secs(60),
            resident_bytes: Some(40_000_000),
        })
    }

    #[test]
    fn the_figures_an_operator_needs_are_there_with_units_and_config_labels() {
        let t = text();
        for line in [
            "tagtally_antenna_reads_total{reader=\"ceiling-1\",antenna=\"1\",zone=\"floor\"} 40000",
            "tagtally_antenna_reads_total{reader=\"ceiling-1\",antenna=\"3\",zone=\"backroom\"} 10000",
            "tagtally_antenna_reads_per_second{reader=\"ceiling-1\",antenna=\"3\",zone=\"backroom\"} 200.5",
            "tagtally_antenna_up{reader=\"ceiling-1\",antenna=\"3\",zone=\"backroom\"} 0",
            "tagtally_reader_reads_per_second{reader=\"ceiling-1\"} 1200.5",
            "tagtally_reader_frames_dropped_total{reader=\"ceiling-1\"} 2",
            "tagtally_reader_failed_connects_total{reader=\"ceiling-1\"} 5",
            "tagtally_reader_unknown_messages_total{reader=\"ceiling-1\"} 4",
            "tagtally_reads_dropped_total{cause=\"stray\"} 17",
            "tagtally_tag_changes_total{kind=\"arrival\"} 2500",
            "tagtally_tags_present 2412",
            "tagtally_zone_tags_present{zone=\"backroom\"} 412",
            "tagtally_zone_stale{zone=\"backroom\"} 1",
            "tagtally_zone_stale{zone=\"floor\"} 0",
            "tagtally_outbox_deltas 3",
            "tagtally_epcis_outbox_messages 2",
            "tagtally_epcis_outbox_bytes 3000",
            "tagtally_epcis_published_total 35",
            "tagtally_epcis_dropped_total 5",
            "tagtally_commit_duration_seconds_bucket{le=\"0.005\"} 1",
            "tagtally_commit_duration_seconds_count 1",
            "tagtally_mqtt_state{state=\"online\"} 1",
            "tagtally_mqtt_state{state=\"down\"} 0",
            "tagtally_mqtt_acked_seq 96",
            "tagtally_committed_seq 99",
            "tagtally_clock_synchronized 1",
            "tagtally_clock_steps_total 1",
            "process_resident_memory_bytes 40000000",
            "process_start_time_seconds 1796000000",
        ] {
            assert!(t.lines().any(|l| l == line), "missing `{line}` in\n{t}");
        }
    }

    #[test]
    fn the_epcis_outbox_is_exported_only_when_events_are_published() {
        let mut h = health();
        h.epcis_outbox = None;
        let t = text_of(&h);
        assert!(!t.contains("tagtally_epcis_"), "{t}");
        assert!(t.contains("tagtally_outbox_deltas 3"));
    }

    /// Every sample belongs to a family declared just before with HELP and TYPE, names are valid,
    /// counters end in `_total`, and no family is declared twice.
    #[test]
    fn the_exposition_is_well_formed() {
        let t = text();
        let mut declared: Vec<(String, String)> = Vec::new();
        for line in t.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(
                    !declared.iter().any(|(n, _)| n == name),
                    "{name} declared twice"
                );
                if kind == "counter" {
                    assert!(name.ends_with("_total"), "{name}");
                }
                declared.push((name.to_owned(), kind.to_owned()));
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "{line}"
            );
            let (family, kind) = declared.last().expect("a sample before any TYPE");
            let base = if kind == "histogram" {
                name.trim_end_matches("_bucket")
                    .trim_end_matches("_sum")
                    .trim_end_matches("_count")
            } else {
                name
            };
            assert_eq!(base, family, "{line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(
                value.parse::<f64>().is_ok() || ["NaN", "+Inf", "-Inf"].contains(&value),
                "{line}"
            );
        }
        assert!(declared.len() > 25);
    }
}
