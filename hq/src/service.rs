//! `tagtally hq run`: the database, the broker connection, the apply loop, the gap requests,
//! housekeeping and the HTTP API, started together and stopped together.

use crate::api::{router, ApiState};
use crate::broker::BrokerOptions;
use crate::db::{connect, BatchApplier, ConnectError};
use crate::ingest;
use crate::metrics::Metrics;
use crate::outbound::{Outbound, Outgoing};
use crate::requests::{claim_due_gaps, prune};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tagtally_config::HqConfig;
use tokio::task::JoinSet;

/// How often due gaps are looked for.
const GAP_POLL: Duration = Duration::from_millis(500);
/// How often old bookkeeping rows are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The database is unreachable or could not be migrated.
    #[error("{0}")]
    Database(#[from] ConnectError),
    /// A TLS file of `[mqtt]` is unusable.
    #[error("mqtt tls: {0}")]
    Tls(#[from] tagtally_tls::TlsError),
    /// The HTTP listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A started service: its HTTP address, counters and tasks (aborted on drop, like a crash).
#[derive(Debug)]
pub struct RunningService {
    /// Where the HTTP API listens (the bound port when the config said port 0).
    pub http: SocketAddr,
    /// Its counters.
    pub metrics: Arc<Metrics>,
    tasks: JoinSet<()>,
}

impl RunningService {
    /// Waits until a task ends (none does unless something is wrong) and returns.
    pub async fn wait(&mut self) {
        let _ = self.tasks.join_next().await;
    }
}

/// Connects and migrates the database, binds the HTTP API, connects to the broker and starts
/// every task. Returns once the service runs.
pub async fn start(config: &HqConfig) -> Result<RunningService, ServiceError> {
    // Before anything connects: a bad certificate is a start-up error naming its file.
    let tls = if config.mqtt.broker.tls {
        Some(tagtally_tls::client_config(&tagtally_tls::TlsFiles {
            ca_file: config.mqtt.ca_file.clone(),
            client_cert: config
                .mqtt
                .client_cert
                .as_ref()
                .map(|pair| pair.cert_file.clone()),
            client_key: config
                .mqtt
                .client_cert
                .as_ref()
                .map(|pair| pair.key_file.clone()),
        })?)
    } else {
        None
    };
    let broker = BrokerOptions::from_config(&config.mqtt, tls);
    let pool = connect(
        &config.database.url,
        config.database.password.as_ref(),
        config.database.pool_size,
    )
    .await?;
    let metrics = Arc::new(Metrics::default());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServiceError::Listen {
            address: config.listen,
            source,
        })?;
    let http = listener
        .local_addr()
        .map_err(|source| ServiceError::Listen {
            address: config.listen,
            source,
        })?;
    let batch_max = config.apply.batch_max;
    // Room for several batches in flight, so acknowledging one never waits for the next.
    let in_flight = u16::try_from(batch_max * 4).unwrap_or(u16::MAX);
    let (link, link_watch) = tokio::sync::watch::channel(None);
    let (finished, finished_watch) = tokio::sync::watch::channel(0);
    let (to_applier, from_broker) = tokio::sync::mpsc::channel(usize::from(in_flight) * 2);
    let mut tasks = JoinSet::new();

    tasks.spawn(ingest::poll_connection(
        ingest::ConnectionSettings {
            broker: broker.clone(),
            mqtt: config.mqtt.clone(),
            in_flight,
            read_ahead_bytes: config.apply.read_ahead_bytes,
        },
        to_applier,
        finished_watch,
        link,
        Arc::clone(&metrics),
    ));
    tasks.spawn(ingest::apply_loop(
        from_broker,
        link_watch,
        finished,
        BatchApplier::new(pool.clone(), config.apply.gap_timeout),
        config.mqtt.topic_prefix.clone(),
        config.mqtt.max_message_bytes,
        batch_max,
        config.apply.batch_linger,
        Arc::clone(&metrics),
    ));
    {
        let pool = pool.clone();
        let prefix = config.mqtt.topic_prefix.clone();
        let apply = config.apply;
        let metrics = Arc::clone(&metrics);
        let (outbound, sender) =
            Outbound::start(broker, format!("{}-commands", config.mqtt.client_id));
        tasks.spawn(async move {
            let _ = sender.await;
        });
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(GAP_POLL);
            loop {
                tick.tick().await;
                if !metrics.mqtt_connected() {
                    continue;
                }
                match claim_due_gaps(&pool, &prefix, apply.gap_timeout, apply.request_backoff_max)
                    .await
                {
                    Ok(asks) => {
                        for ask in asks {
                            tracing::info!(
                                store = ask.store,
                                topic = ask.topic,
                                "asking for a gap"
                            );
                            metrics.asked(ask.replay);
                            outbound.send(Outgoing {
                                topic: ask.topic,
                                payload: ask.payload,
                                retain: false,
                            });
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot look for gaps"),
                }
            }
        });
    }
    {
        let pool = pool.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(PRUNE_EVERY);
            loop {
                tick.tick().await;
                if let Err(error) = prune(&pool).await {
                    tracing::warn!(%error, "cannot prune bookkeeping rows");
                }
            }
        });
    }
    let state = ApiState {
        pool,
        metrics: Arc::clone(&metrics),
        zone_roles: Arc::new(config.zone_roles.clone()),
        stale_after: config.apply.stale_after,
    };
    tasks.spawn(async move {
        if let Err(error) = axum::serve(listener, router(state)).await {
            tracing::error!(%error, "http server stopped");
        }
    });
    tracing::info!(%http, "tagtally hq running");
    Ok(RunningService {
        http,
        metrics,
        tasks,
    })
}
