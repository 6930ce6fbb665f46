//! `tagtally hq` end to end on real parts: PostgreSQL and mosquitto started by the test, two
//! service instances on one round-robin shared subscription, 20 emulated stores publishing
//! real payloads with churn, lost deltas, a restart with a late stale `offline`, a wiped store
//! (new epoch), a broker restart, one instance killed mid-batch and started again, and malformed
//! input. In the end the database must equal every store's truth.
//!
//! Skips with a notice when PostgreSQL or mosquitto is missing; `.ci/run` sets
//! `TAGTALLY_REQUIRE_POSTGRES` and `TAGTALLY_REQUIRE_MOSQUITTO` so that it fails there instead.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tagtally_config::HqConfig;
use tagtally_contract::SnapshotReason;
use tagtally_hq::fleet::{
    database_view, fleet_truth, Fleet, TempMosquitto, TempPostgres, TlsListener,
};
use tagtally_hq::metrics::Metrics;
use tagtally_hq::service::{start, RunningService};

macro_rules! require {
    ($installed:expr, $variable:literal, $what:literal) => {
        if !$installed {
            if std::env::var_os($variable).is_some() {
                panic!(concat!(
                    $variable,
                    " is set but ",
                    $what,
                    " is not installed"
                ));
            }
            eprintln!(concat!("skipping: ", $what, " is not installed"));
            return;
        }
    };
}

const PREFIX: &str = "tagtally/v1";

fn config(database: &str, broker: SocketAddr, client_id: &str) -> HqConfig {
    let text = format!(
        r#"
[database]
url = "{database}"
pool-size = 4

[mqtt]
url = "mqtt://{broker}"
client-id = "{client_id}"
group = "hq"
keep-alive = "5s"

[http]
listen = "127.0.0.1:0"

[apply]
gap-timeout = "300ms"
request-backoff-max = "2s"
batch-max = 64
batch-linger = "10ms"
"#
    );
    HqConfig::from_str(&text, "hq.toml").expect("test config is valid")
}

async fn until(what: &str, limit: Duration, done: impl AsyncFnMut() -> bool) {
    until_every(what, limit, Duration::from_millis(100), done).await;
}

/// [`until`], asking every `every`.
async fn until_every(
    what: &str,
    limit: Duration,
    every: Duration,
    mut done: impl AsyncFnMut() -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(every).await;
    }
}

async fn connected(service: &RunningService) {
    let metrics = Arc::clone(&service.metrics);
    until(
        "the instance to connect",
        Duration::from_secs(20),
        async || metrics.mqtt_connected(),
    )
    .await;
}

fn refused(metrics: &[Arc<Metrics>], reason: &str) -> u64 {
    let needle = format!("tagtally_hq_messages_refused_total{{reason=\"{reason}\"}} ");
    metrics
        .iter()
        .map(|metrics| {
            metrics
                .render()
                .lines()
                .find_map(|line| line.strip_prefix(needle.as_str()).map(str::to_owned))
                .and_then(|value| value.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

async fn http_get(address: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = tagtally_hq::client::get(address, path)
        .await
        .expect("api answers");
    (
        status,
        serde_json::from_slice(&body).expect("api answers json"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_keep_every_store_true_through_faults() {
    require!(
        TempPostgres::installed(),
        "TAGTALLY_REQUIRE_POSTGRES",
        "PostgreSQL"
    );
    require!(
        TempMosquitto::installed(),
        "TAGTALLY_REQUIRE_MOSQUITTO",
        "mosquitto"
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let postgres = TempPostgres::start(false).await.expect("postgres starts");
    let database = postgres.create_database("hq").await.unwrap();
    let mut broker = TempMosquitto::start().await.expect("mosquitto starts");

    let mut first = start(&config(&database, broker.address(), "hq-1"))
        .await
        .expect("hq-1 starts");
    let second = start(&config(&database, broker.address(), "hq-2"))
        .await
        .expect("hq-2 starts");
    connected(&first).await;
    connected(&second).await;
    let mut all_metrics = vec![Arc::clone(&first.metrics), Arc::clone(&second.metrics)];

    // Small parts, so snapshots of a few dozen pairs come in several parts.
    let fleet = Fleet::connect(broker.address(), PREFIX, "fleet", 1200);
    let names: Vec<String> = (0..20).map(|index| format!("store-{index:02}")).collect();
    for name in &names {
        fleet.add_store(name);
        fleet
            .act(name, |store, max| {
                let mut out = vec![store.status(true)];
                out.extend(store.snapshot(max, SnapshotReason::Startup));
                out
            })
            .await;
    }

    let mut rng = fastrand::Rng::with_seed(42);
    let mut pace = tokio::time::interval(Duration::from_millis(60));
    for round in 0..40 {
        pace.tick().await;
        for (index, name) in names.iter().enumerate() {
            let mut store_rng = fastrand::Rng::with_seed(rng.u64(..));
            // Every 7th round one store's delta is lost on the way (a broker that dropped it).
            let lost = round % 7 == 3 && index % 5 == 1;
            fleet
                .act(name, |store, _| {
                    let delta = store.churn(&mut store_rng, 3, 12, 3);
                    if lost {
                        Vec::new()
                    } else {
                        vec![delta]
                    }
                })
                .await;
        }
        match round {
            2 => {
                let delta = format!("{PREFIX}/store-00/delta");
                fleet.publish_raw(&delta, b"not json");
                fleet.publish_raw(
                    &delta,
                    br#"{"schema":"tagtally.delta/9","store":"store-00"}"#,
                );
                fleet.publish_raw(
                    &format!("{PREFIX}/Store 00!/delta"),
                    br#"{"schema":"tagtally.delta/1","store":"Store 00!","epoch":"e","seq":1,"time":"t","changes":[]}"#,
                );
            }
            5 => {
                // A restart whose old connection's last will arrives after the new `online`.
                fleet
                    .act("store-03", |store, max| {
                        let late_offline = store.status(false);
                        store.restart();
                        let mut out = vec![store.status(true)];
                        out.extend(store.snapshot(max, SnapshotReason::Startup));
                        out.push(late_offline);
                        out
                    })
                    .await;
            }
            8 => {
                fleet
                    .act("store-07", |store, max| {
                        let mut out = vec![store.status(false)];
                        store.wipe();
                        out.push(store.status(true));
                        out.extend(store.snapshot(max, SnapshotReason::Startup));
                        out
                    })
                    .await;
            }
            12 => {
                broker.stop().await;
                broker.run().await.expect("mosquitto starts again");
            }
            18 => {
                // Killed mid-work: tasks dropped wherever they are, nothing acknowledged after;
                // its session stays on the broker, holding what was not acknowledged.
                drop(first);
                tokio::time::sleep(Duration::from_millis(300)).await;
                first = start(&config(&database, broker.address(), "hq-1"))
                    .await
                    .expect("hq-1 starts again");
                all_metrics.push(Arc::clone(&first.metrics));
            }
            _ => {}
        }
    }
    // The heartbeat carries each store's last seq: a gap at the very end shows too.
    for name in &names {
        fleet.act(name, |store, _| vec![store.status(true)]).await;
    }

    let (client, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let expected = fleet_truth(&fleet);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut heartbeat = tokio::time::interval(Duration::from_secs(1));
    let last_view = loop {
        // The stores' status heartbeat (status-interval), carrying each one's last seq.
        heartbeat.tick().await;
        for name in &names {
            fleet.act(name, |store, _| vec![store.status(true)]).await;
        }
        let view = database_view(&client).await.unwrap();
        if view == expected {
            break view;
        }
        if Instant::now() > deadline {
            let mut report = String::new();
            for (store, truth) in &expected {
                let held = view.get(store);
                if held != Some(truth) {
                    report += &format!(
                        "{store}: database {:?} truth ({}, {}) stock equal: {}\n",
                        held.map(|(epoch, seq, _)| (epoch, seq)),
                        truth.0,
                        truth.1,
                        held.is_some_and(|held| held.2 == truth.2)
                    );
                }
            }
            for row in client
                .query("SELECT store, from_seq, to_seq, attempts FROM hq_gaps", &[])
                .await
                .unwrap()
            {
                report += &format!(
                    "gap {} {}..={} attempts {}\n",
                    row.get::<_, String>(0),
                    row.get::<_, i64>(1),
                    row.get::<_, i64>(2),
                    row.get::<_, i32>(3)
                );
            }
            for row in client
                .query("SELECT store, known_seq, status_time, to_char(last_heard, 'HH24:MI:SS.MS') FROM hq_stores WHERE store = 'store-00'", &[])
                .await
                .unwrap()
            {
                report += &format!(
                    "row {} known {} status {:?} heard {:?}\n",
                    row.get::<_, String>(0),
                    row.get::<_, i64>(1),
                    row.get::<_, Option<String>>(2),
                    row.get::<_, Option<String>>(3)
                );
            }
            for row in client
                .query("SELECT pid, state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), left(query, 120), application_name FROM pg_stat_activity WHERE datname = current_database()", &[])
                .await
                .unwrap()
            {
                report += &format!(
                    "pg {} {:?} {} {} {:?} {:?}\n",
                    row.get::<_, i32>(0),
                    row.get::<_, Option<String>>(1),
                    row.get::<_, String>(2),
                    row.get::<_, String>(3),
                    row.get::<_, Option<String>>(4),
                    row.get::<_, Option<String>>(5)
                );
            }
            for metrics in &all_metrics {
                report += &metrics
                    .render()
                    .lines()
                    .filter(|line| {
                        line.starts_with("tagtally_hq_messages_received_total")
                            || line.starts_with("tagtally_hq_messages_acked_total")
                            || line.starts_with("tagtally_hq_batch")
                            || line.starts_with("tagtally_hq_mqtt")
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                report += "\n";
            }
            panic!(
                "the database never equalled the stores' truth:\n{report}answered {:?}",
                fleet.commands_answered()
            );
        }
    };
    assert_eq!(
        last_view.len(),
        20,
        "the odd store name never became a store"
    );

    let online: Vec<String> = client
        .query("SELECT store FROM hq_stores WHERE NOT online", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        online.is_empty(),
        "a stale offline hid a live store: {online:?}"
    );
    let (replays, _) = fleet.commands_answered();
    assert!(replays > 0, "lost deltas were asked for with cmd/replay");

    let (status, body) = http_get(second.http, "/v1/stores/store-07/stock").await;
    assert_eq!(status, 200);
    assert_eq!(body["epoch"], expected["store-07"].0.as_str());
    let counted: u64 = body["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|count| count["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, expected["store-07"].2.values().sum::<u64>());
    let (status, body) = http_get(second.http, "/v1/stores").await;
    assert_eq!(status, 200);
    assert_eq!(body["stores"].as_array().unwrap().len(), 20);
    let (status, body) = http_get(second.http, "/v1/stores/Store%2000!/stock").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].is_string());

    assert!(refused(&all_metrics, "not_json") >= 1);
    assert!(refused(&all_metrics, "unknown_schema") >= 1);
    assert!(refused(&all_metrics, "bad_store_name") >= 1);
}

/// MQTT 3.1.1 over mutual TLS (a test CA, mosquitto demanding a client certificate): two
/// instances without a group (3.1.1 has no shared subscription), so each gets every message;
/// the per-store row lock keeps every delta applied once, and the database equals the truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_mqtt_3_1_1_over_mutual_tls_apply_each_delta_once() {
    require!(
        TempPostgres::installed(),
        "TAGTALLY_REQUIRE_POSTGRES",
        "PostgreSQL"
    );
    require!(
        TempMosquitto::installed(),
        "TAGTALLY_REQUIRE_MOSQUITTO",
        "mosquitto"
    );
    let pki = tagtally_tls::test_pki::Pki::generate("hq-tls");
    let postgres = TempPostgres::start(false).await.expect("postgres starts");
    let database = postgres.create_database("hq").await.unwrap();
    let broker = TempMosquitto::start_with_tls(&TlsListener {
        ca_file: pki.ca.clone(),
        cert_file: pki.server_cert.clone(),
        key_file: pki.server_key.clone(),
    })
    .await
    .expect("mosquitto starts");
    let tls_port = broker.tls_address().expect("a tls listener").port();
    let instance = |client_id: &str| {
        let text = format!(
            r#"
[database]
url = "{database}"
pool-size = 2

[mqtt]
url = "mqtts://localhost:{tls_port}"
client-id = "{client_id}"
protocol = "3.1.1"
ca-file = "{ca}"
client-cert = "{cert}"
client-key = "{key}"
keep-alive = "5s"

[http]
listen = "127.0.0.1:0"
"#,
            ca = pki.ca.display(),
            cert = pki.client_cert.display(),
            key = pki.client_key.display(),
        );
        HqConfig::from_str(&text, "hq.toml").expect("test config is valid")
    };
    let first = start(&instance("hq-tls-1")).await.expect("hq-tls-1 starts");
    let second = start(&instance("hq-tls-2")).await.expect("hq-tls-2 starts");
    connected(&first).await;
    connected(&second).await;

    let fleet = Fleet::connect(broker.address(), PREFIX, "fleet-tls", 4096);
    let names: Vec<String> = (0..3).map(|index| format!("tls-{index}")).collect();
    let mut published = 0;
    for name in &names {
        fleet.add_store(name);
        fleet
            .act(name, |store, max| {
                let mut out = vec![store.status(true)];
                out.extend(store.snapshot(max, SnapshotReason::Startup));
                out
            })
            .await;
    }
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..30 {
        for name in &names {
            let mut store_rng = fastrand::Rng::with_seed(rng.u64(..));
            fleet
                .act(name, |store, _| vec![store.churn(&mut store_rng, 3, 12, 3)])
                .await;
            published += 1;
        }
    }
    let (client, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let expected = fleet_truth(&fleet);
    until(
        "the database to equal the stores' truth",
        Duration::from_secs(30),
        async || database_view(&client).await.unwrap() == expected,
    )
    .await;
    // Every instance sees every message (no shared subscription on 3.1.1)...
    for service in [&first, &second] {
        let metrics = Arc::clone(&service.metrics);
        until(
            "each instance to receive every delta",
            Duration::from_secs(30),
            async || counter(&metrics, "tagtally_hq_messages_received_total") >= published,
        )
        .await;
    }
    // ... and the row lock let exactly one apply each delta: the other finds it a duplicate.
    let both = [Arc::clone(&first.metrics), Arc::clone(&second.metrics)];
    let seen = |outcome: &str| both.iter().map(|m| outcomes(m, outcome)).sum::<u64>();
    until(
        "each instance to apply or find applied every delta",
        Duration::from_secs(30),
        async || seen("applied") + seen("duplicate") >= 2 * published,
    )
    .await;
    assert_eq!(seen("applied"), published, "every delta applied once");
    assert_eq!(
        seen("duplicate"),
        published,
        "and found applied by the other"
    );
    let deltas: i64 = client
        .query_one("SELECT count(*) FROM hq_applied", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(deltas, published as i64, "one hq_applied row a delta");
}

fn counter(metrics: &Metrics, name: &str) -> u64 {
    metrics
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0)
}

fn outcomes(metrics: &Metrics, outcome: &str) -> u64 {
    let needle = format!("tagtally_hq_messages_applied_total{{outcome=\"{outcome}\"}} ");
    metrics
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(needle.as_str())?.parse().ok())
        .unwrap_or(0)
}

/// A backlog of 20 000 deltas queued in an instance's session while it was down, taken with a
/// 5 s keep-alive (MQTT 5's least) and small batches: reading from the broker goes on while the
/// applier works through it, so the PINGRESP behind the backlog is read in time and the
/// connection is never dropped (with reads held back instead, this test does not finish in
/// 120 s: the connection drops again and again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_backlog_is_caught_up_on_one_connection() {
    require!(
        TempPostgres::installed(),
        "TAGTALLY_REQUIRE_POSTGRES",
        "PostgreSQL"
    );
    require!(
        TempMosquitto::installed(),
        "TAGTALLY_REQUIRE_MOSQUITTO",
        "mosquitto"
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    const STORES: usize = 40;
    const DELTAS: usize = 500;
    let postgres = TempPostgres::start(false).await.expect("postgres starts");
    let database = postgres.create_database("hq").await.unwrap();
    let broker = TempMosquitto::start().await.expect("mosquitto starts");
    let config = {
        let mut config = config(&database, broker.address(), "hq-backlog");
        config.mqtt.keep_alive = Duration::from_secs(5);
        config.mqtt.group = None;
        // One message a transaction: an applier much slower than the broker (as a loaded
        // database is), so the backlog takes several keep-alive periods to work off.
        config.apply.batch_max = 4;
        config
    };
    // The session is created, then the instance goes away (its session stays on the broker).
    let first = start(&config).await.expect("hq starts");
    connected(&first).await;
    drop(first);

    let fleet = Fleet::connect(broker.address(), PREFIX, "fleet-backlog", 4096);
    let names: Vec<String> = (0..STORES).map(|index| format!("b-{index:02}")).collect();
    let mut rng = fastrand::Rng::with_seed(11);
    for name in &names {
        fleet.add_store(name);
        fleet
            .act(name, |store, max| {
                let mut out = vec![store.status(true)];
                out.extend(store.snapshot(max, SnapshotReason::Startup));
                out
            })
            .await;
    }
    for _ in 0..DELTAS {
        for name in &names {
            let mut store_rng = fastrand::Rng::with_seed(rng.u64(..));
            fleet
                .act(name, |store, _| vec![store.churn(&mut store_rng, 3, 12, 3)])
                .await;
        }
    }
    // Most of it is queued in the session by now; whatever is still on its way joins the backlog.
    let second = start(&config).await.expect("hq starts again");
    let (client, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let expected = fleet_truth(&fleet);
    let clock = Instant::now();
    while database_view(&client).await.unwrap() != expected {
        assert!(
            clock.elapsed() < Duration::from_secs(120),
            "the backlog was not applied:\n{}",
            second.metrics.render()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connections = counter(&second.metrics, "tagtally_hq_mqtt_connections_total");
    eprintln!(
        "backlog of {} deltas applied in {:.1} s on {connections} connection(s), handover peak {}",
        STORES * DELTAS,
        clock.elapsed().as_secs_f64(),
        counter(&second.metrics, "tagtally_hq_handover_peak_messages")
    );
    assert_eq!(
        connections, 1,
        "the connection was dropped while the backlog was applied"
    );
}

/// Publishes `deltas` rounds of one delta per store (after a start-up snapshot the first time).
async fn publish_backlog(fleet: &Fleet, names: &[String], deltas: usize, rng: &mut fastrand::Rng) {
    for _ in 0..deltas {
        for name in names {
            let mut store_rng = fastrand::Rng::with_seed(rng.u64(..));
            fleet
                .act(name, |store, _| vec![store.churn(&mut store_rng, 3, 12, 3)])
                .await;
        }
    }
}

/// A backlog about twenty times `read-ahead-bytes` (64 KiB), queued in the session while the
/// instance was down. mosquitto sends a resumed session's whole backlog at once; what does not
/// fit is left with the broker unacknowledged, reading (and so the keep-alive) goes on, and once
/// the kept part is applied the instance reconnects on purpose to be sent the rest. The
/// connection is never lost, every delta is applied exactly once, in order (no gap is ever
/// opened). Then a second backlog with the broker restarted in the middle of the catch-up: what
/// was applied but not yet acknowledged comes again and is found a duplicate, never applied twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_beyond_the_read_ahead_bound_is_fetched_again_and_applied_once() {
    require!(
        TempPostgres::installed(),
        "TAGTALLY_REQUIRE_POSTGRES",
        "PostgreSQL"
    );
    require!(
        TempMosquitto::installed(),
        "TAGTALLY_REQUIRE_MOSQUITTO",
        "mosquitto"
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    const STORES: usize = 20;
    const DELTAS: usize = 100;
    const READ_AHEAD: usize = 64 * 1024;
    let postgres = TempPostgres::start(false).await.expect("postgres starts");
    let database = postgres.create_database("hq").await.unwrap();
    let mut broker = TempMosquitto::start().await.expect("mosquitto starts");
    let config = {
        let mut config = config(&database, broker.address(), "hq-read-ahead");
        config.mqtt.keep_alive = Duration::from_secs(5);
        config.mqtt.group = None;
        config.apply.batch_max = 16;
        config.apply.read_ahead_bytes = READ_AHEAD;
        config
    };
    // The session is created, then the instance goes away (its session stays on the broker).
    let first = start(&config).await.expect("hq starts");
    connected(&first).await;
    drop(first);

    let fleet = Fleet::connect(broker.address(), PREFIX, "fleet-read-ahead", 4096);
    let names: Vec<String> = (0..STORES).map(|index| format!("r-{index:02}")).collect();
    let mut rng = fastrand::Rng::with_seed(23);
    for name in &names {
        fleet.add_store(name);
        fleet
            .act(name, |store, max| {
                let mut out = vec![store.status(true)];
                out.extend(store.snapshot(max, SnapshotReason::Startup));
                out
            })
            .await;
    }
    publish_backlog(&fleet, &names, DELTAS, &mut rng).await;

    let (client, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let applied_rows = async || -> i64 {
        client
            .query_one("SELECT count(*) FROM hq_applied", &[])
            .await
            .unwrap()
            .get(0)
    };

    let second = start(&config).await.expect("hq starts again");
    let expected = fleet_truth(&fleet);
    let clock = Instant::now();
    let metrics = Arc::clone(&second.metrics);
    until(
        "the backlog to be applied",
        Duration::from_secs(120),
        async || database_view(&client).await.unwrap() == expected,
    )
    .await;
    let published = (STORES * DELTAS) as u64;
    eprintln!(
        "backlog of {published} deltas applied in {:.1} s: {} reconnects on purpose, {} messages left with the broker, handover peak {}",
        clock.elapsed().as_secs_f64(),
        counter(&metrics, "tagtally_hq_mqtt_reconnects_on_purpose_total"),
        counter(&metrics, "tagtally_hq_messages_left_with_broker_total"),
        counter(&metrics, "tagtally_hq_handover_peak_messages"),
    );
    assert!(
        counter(&metrics, "tagtally_hq_messages_left_with_broker_total") > 0,
        "the backlog never went past the bound:\n{}",
        metrics.render()
    );
    assert!(counter(&metrics, "tagtally_hq_mqtt_reconnects_on_purpose_total") >= 1);
    assert_eq!(
        counter(&metrics, "tagtally_hq_mqtt_connections_lost_total"),
        0,
        "the connection was lost (a missed keep-alive) during the catch-up"
    );
    assert!(
        counter(&metrics, "tagtally_hq_handover_peak_messages") <= (READ_AHEAD / 256) as u64,
        "the read-ahead held more than its bound"
    );
    assert_eq!(
        outcomes(&metrics, "applied"),
        published,
        "each delta applied once"
    );
    assert_eq!(
        outcomes(&metrics, "duplicate"),
        0,
        "what was left was never applied before it came again"
    );
    assert_eq!(
        outcomes(&metrics, "parked"),
        0,
        "what was left was a suffix: no delta ever waited for a predecessor"
    );
    assert_eq!(applied_rows().await, published as i64);
    // Each store's status came twice: queued in the session, and retained at the first
    // subscription. A reconnect on purpose resumes the session without subscribing again, so
    // the fleet's retained messages are not sent once more per reconnect.
    let statuses = outcomes(&metrics, "status_applied") + outcomes(&metrics, "status_older");
    assert!(
        statuses <= 2 * STORES as u64,
        "{statuses} statuses taken for {STORES} stores: retained ones re-sent on reconnects"
    );

    // Second backlog; the broker restarts while it is being applied.
    drop(second);
    publish_backlog(&fleet, &names, DELTAS, &mut rng).await;
    let third = start(&config).await.expect("hq starts a third time");
    let metrics = Arc::clone(&third.metrics);
    // The broker goes away while a connection is up: between two connections (a reconnect on
    // purpose) its going would not be a lost connection, and nothing would be left unacknowledged.
    // Polled closely: the whole catch-up takes about a second.
    until_every(
        "the catch-up to be under way on a live connection",
        Duration::from_secs(60),
        Duration::from_millis(2),
        async || outcomes(&metrics, "applied") >= 200 && metrics.mqtt_connected(),
    )
    .await;
    broker.stop().await;
    broker.run().await.expect("mosquitto starts again");
    let expected = fleet_truth(&fleet);
    until(
        "the second backlog to be applied",
        Duration::from_secs(120),
        async || database_view(&client).await.unwrap() == expected,
    )
    .await;
    eprintln!(
        "second backlog: {} applied, {} duplicates, {} connections lost",
        outcomes(&metrics, "applied"),
        outcomes(&metrics, "duplicate"),
        counter(&metrics, "tagtally_hq_mqtt_connections_lost_total"),
    );
    assert!(counter(&metrics, "tagtally_hq_mqtt_connections_lost_total") >= 1);
    assert!(
        outcomes(&metrics, "duplicate") > 0,
        "what was applied but not acknowledged when the broker went away came again"
    );
    assert_eq!(
        outcomes(&metrics, "applied"),
        published,
        "and was not applied again"
    );
    assert_eq!(applied_rows().await, 2 * published as i64);
}
