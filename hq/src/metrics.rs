//! The service's counters, exported as Prometheus text on `/metrics`: messages by outcome and
//! by refusal, batches, acks, gap requests, and receive → commit latency. Per instance; a
//! Prometheus server sums the instances.

use crate::apply::Outcome;
use crate::wire::Refusal;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Every counter, updated without locks.
#[derive(Debug, Default)]
pub struct Metrics {
    received: AtomicU64,
    refused: [AtomicU64; Refusal::LABELS.len()],
    outcomes: [AtomicU64; Outcome::LABELS.len()],
    db_refused: AtomicU64,
    batches: AtomicU64,
    batch_failures: AtomicU64,
    acked: AtomicU64,
    replays_asked: AtomicU64,
    snapshots_asked: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    mqtt_connected: AtomicBool,
    mqtt_connections: AtomicU64,
    mqtt_connections_lost: AtomicU64,
    reconnects_on_purpose: AtomicU64,
    left_with_broker: AtomicU64,
    handover_peak: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// A message arrived.
    pub fn received(&self) {
        bump(&self.received);
    }

    /// A message was refused before applying.
    pub fn refused(&self, refusal: &Refusal) {
        if let Some(index) = Refusal::LABELS.iter().position(|l| *l == refusal.label()) {
            bump(&self.refused[index]);
        }
    }

    /// A message was applied with `outcome`.
    pub fn outcome(&self, outcome: Outcome) {
        if let Some(index) = Outcome::LABELS.iter().position(|l| *l == outcome.label()) {
            bump(&self.outcomes[index]);
        }
    }

    /// The database refused a message on its own.
    pub fn db_refused(&self) {
        bump(&self.db_refused);
    }

    /// A batch committed (`true`) or failed and will be retried.
    pub fn batch(&self, committed: bool) {
        bump(if committed {
            &self.batches
        } else {
            &self.batch_failures
        });
    }

    /// A message was acknowledged to the broker.
    pub fn acked(&self) {
        bump(&self.acked);
    }

    /// A gap request went out.
    pub fn asked(&self, replay: bool) {
        bump(if replay {
            &self.replays_asked
        } else {
            &self.snapshots_asked
        });
    }

    /// One message's time from arrival to commit.
    pub fn committed_after(&self, latency: Duration) {
        let seconds = latency.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                bump(bucket);
            }
        }
        bump(&self.latency_count);
        self.latency_sum_micros.fetch_add(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The MQTT connection came up or went down.
    pub fn set_mqtt_connected(&self, connected: bool) {
        if connected {
            bump(&self.mqtt_connections);
        }
        self.mqtt_connected.store(connected, Ordering::Relaxed);
    }

    /// An established broker connection was lost (the broker, the network, a missed ping).
    pub fn connection_lost(&self) {
        bump(&self.mqtt_connections_lost);
    }

    /// The connection was closed on purpose, to be sent what was left with the broker.
    pub fn reconnected_on_purpose(&self) {
        bump(&self.reconnects_on_purpose);
    }

    /// A message read beyond the read-ahead bound was left with the broker.
    pub fn left_with_broker(&self) {
        bump(&self.left_with_broker);
    }

    /// `waiting` messages wait for the applier right now (read, not yet handed over).
    pub fn handover(&self, waiting: usize) {
        self.handover_peak.fetch_max(
            u64::try_from(waiting).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Whether the MQTT connection is up.
    pub fn mqtt_connected(&self) -> bool {
        self.mqtt_connected.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut text = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                text,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            "tagtally_hq_messages_received_total",
            "Messages received from the broker.",
            get(&self.received),
        );
        counter(
            "tagtally_hq_batches_committed_total",
            "Transactions committed.",
            get(&self.batches),
        );
        counter(
            "tagtally_hq_batch_failures_total",
            "Transactions failed (retried).",
            get(&self.batch_failures),
        );
        counter(
            "tagtally_hq_messages_acked_total",
            "Messages acknowledged to the broker after commit.",
            get(&self.acked),
        );
        counter(
            "tagtally_hq_database_refusals_total",
            "Messages the database refused on their own.",
            get(&self.db_refused),
        );
        counter(
            "tagtally_hq_mqtt_connections_total",
            "Broker connections established.",
            get(&self.mqtt_connections),
        );
        counter(
            "tagtally_hq_mqtt_connections_lost_total",
            "Established broker connections lost (broker, network, missed keep-alive).",
            get(&self.mqtt_connections_lost),
        );
        counter(
            "tagtally_hq_mqtt_reconnects_on_purpose_total",
            "Connections closed on purpose once the read-ahead was applied, to be sent what was left.",
            get(&self.reconnects_on_purpose),
        );
        counter(
            "tagtally_hq_messages_left_with_broker_total",
            "Messages read beyond read-ahead-bytes, left unacknowledged for the broker to send again.",
            get(&self.left_with_broker),
        );
        counter(
            "tagtally_hq_replays_asked_total",
            "cmd/replay requests sent.",
            get(&self.replays_asked),
        );
        counter(
            "tagtally_hq_snapshots_asked_total",
            "cmd/snapshot requests sent.",
            get(&self.snapshots_asked),
        );
        let _ = writeln!(
            text,
            "# HELP tagtally_hq_messages_refused_total Messages refused before applying, by reason.\n# TYPE tagtally_hq_messages_refused_total counter"
        );
        for (label, value) in Refusal::LABELS.iter().zip(&self.refused) {
            let _ = writeln!(
                text,
                "tagtally_hq_messages_refused_total{{reason=\"{label}\"}} {}",
                get(value)
            );
        }
        let _ = writeln!(
            text,
            "# HELP tagtally_hq_messages_applied_total Messages applied, by outcome.\n# TYPE tagtally_hq_messages_applied_total counter"
        );
        for (label, value) in Outcome::LABELS.iter().zip(&self.outcomes) {
            let _ = writeln!(
                text,
                "tagtally_hq_messages_applied_total{{outcome=\"{label}\"}} {}",
                get(value)
            );
        }
        let _ = writeln!(
            text,
            "# HELP tagtally_hq_commit_latency_seconds Time from a message's arrival to its commit.\n# TYPE tagtally_hq_commit_latency_seconds histogram"
        );
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                text,
                "tagtally_hq_commit_latency_seconds_bucket{{le=\"{bound}\"}} {}",
                get(bucket)
            );
        }
        let count = get(&self.latency_count);
        let _ = writeln!(
            text,
            "tagtally_hq_commit_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            text,
            "tagtally_hq_commit_latency_seconds_sum {}",
            get(&self.latency_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(text, "tagtally_hq_commit_latency_seconds_count {count}");
        let _ = writeln!(
            text,
            "# HELP tagtally_hq_handover_peak_messages Most messages read from the broker that waited for the applier at once.\n# TYPE tagtally_hq_handover_peak_messages gauge\ntagtally_hq_handover_peak_messages {}",
            get(&self.handover_peak)
        );
        let _ = writeln!(
            text,
            "# HELP tagtally_hq_mqtt_connected Whether the broker connection is up.\n# TYPE tagtally_hq_mqtt_connected gauge\ntagtally_hq_mqtt_connected {}",
            u8::from(self.mqtt_connected())
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_is_exported_and_counted() {
        let metrics = Metrics::default();
        metrics.refused(&Refusal::BadStoreName { store: "X".into() });
        metrics.outcome(Outcome::Applied { drained: 3 });
        metrics.committed_after(Duration::from_millis(30));
        let text = metrics.render();
        assert!(
            text.contains("tagtally_hq_messages_refused_total{reason=\"bad_store_name\"} 1"),
            "{text}"
        );
        assert!(text.contains("tagtally_hq_messages_applied_total{outcome=\"applied\"} 1"));
        assert!(text.contains("tagtally_hq_commit_latency_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains("tagtally_hq_commit_latency_seconds_bucket{le=\"0.05\"} 1"));
        for label in Outcome::LABELS {
            assert!(text.contains(&format!("outcome=\"{label}\"")), "{label}");
        }
    }
}
