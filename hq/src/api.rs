//! The HTTP API (JSON; loopback by default): each store's health, a store's stock, a SKU's
//! availability across stores with freshness, `/healthz` and `/metrics`. A bad request gets a
//! 4xx with `{"error": ...}`; a database failure a 503; nothing panics.

use crate::metrics::Metrics;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::Pool;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tagtally_config::is_valid_name;

/// Longest SKU, zone or filter accepted in a request.
const MAX_QUERY_TEXT: usize = 256;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The database.
    pub pool: Pool,
    /// This instance's counters.
    pub metrics: Arc<Metrics>,
    /// Zone name to role, from `[zone-roles]`.
    pub zone_roles: Arc<BTreeMap<String, String>>,
    /// A store not heard from this long is stale.
    pub stale_after: Duration,
}

/// A failed request: its status and message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(%error, "database unavailable for an api request");
    ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: format!("database unavailable: {error}"),
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(error: deadpool_postgres::PoolError) -> ApiError {
        unavailable(&error)
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(error: tokio_postgres::Error) -> ApiError {
        unavailable(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// The router of every endpoint.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/stores", get(stores))
        .route("/v1/stores/:store/stock", get(stock))
        .route("/v1/skus/:sku/availability", get(availability))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .with_state(state)
}

/// Columns every store answer carries, in SQL.
const STORE_HEALTH: &str = "s.store, s.online, s.disk_full, s.epoch, s.applied_seq, s.known_seq,
    g.from_seq, g.to_seq, to_char(g.opened AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
    to_char(s.last_heard AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
    EXTRACT(EPOCH FROM now() - s.last_heard)::float8,
    s.last_snapshot_id, s.last_snapshot_seq,
    to_char(s.last_snapshot_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
    s.stale_zones, s.replays_asked, s.snapshots_asked";

/// One store's health from a row of [`STORE_HEALTH`] (starting at column 0).
fn store_health(row: &tokio_postgres::Row, stale_after: Duration) -> Value {
    let online: bool = row.get(1);
    let applied: i64 = row.get(4);
    let known: i64 = row.get(5);
    let gap_from: Option<i64> = row.get(6);
    let freshness: f64 = row.get(10);
    let stale = !online || gap_from.is_some() || freshness > stale_after.as_secs_f64();
    json!({
        "store": row.get::<_, String>(0),
        "online": online,
        "disk_full": row.get::<_, bool>(2),
        "epoch": row.get::<_, String>(3),
        "seq": applied,
        "known_seq": known,
        "lag": (known - applied).max(0),
        "open_gap": gap_from.map(|from| json!({
            "from_seq": from,
            "to_seq": row.get::<_, Option<i64>>(7),
            "since": row.get::<_, Option<String>>(8),
        })),
        "last_heard": row.get::<_, String>(9),
        "freshness_seconds": (freshness * 10.0).round() / 10.0,
        "stale": stale,
        "last_snapshot": row.get::<_, Option<String>>(11).map(|id| json!({
            "snapshot_id": id,
            "seq": row.get::<_, Option<i64>>(12),
            "applied": row.get::<_, Option<String>>(13),
        })),
        "stale_zones": row.get::<_, Vec<String>>(14),
        "replays_asked": row.get::<_, i64>(15),
        "snapshots_asked": row.get::<_, i64>(16),
    })
}

async fn stores(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let client = state.pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {STORE_HEALTH} FROM hq_stores s LEFT JOIN hq_gaps g USING (store)
                 WHERE s.epoch <> '' ORDER BY s.store"
            ),
            &[],
        )
        .await?;
    let stores: Vec<Value> = rows
        .iter()
        .map(|row| store_health(row, state.stale_after))
        .collect();
    Ok(Json(json!({ "stores": stores })))
}

/// `?zone=&sku=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StockFilter {
    zone: Option<String>,
    sku: Option<String>,
}

fn check_text(what: &str, text: &str) -> Result<(), ApiError> {
    if text.is_empty() || text.len() > MAX_QUERY_TEXT || text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{what} must be 1 to {MAX_QUERY_TEXT} bytes without control characters"
        )));
    }
    Ok(())
}

async fn stock(
    State(state): State<ApiState>,
    Path(store): Path<String>,
    filter: Result<Query<StockFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(filter) = filter.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    if !is_valid_name(&store) {
        return Err(ApiError::bad_request(format!(
            "store {store:?} is not a valid store name ([a-z0-9_-]{{1,64}})"
        )));
    }
    for (what, text) in [("zone", &filter.zone), ("sku", &filter.sku)] {
        if let Some(text) = text {
            check_text(what, text)?;
        }
    }
    let client = state.pool.get().await?;
    let health = client
        .query_opt(
            &format!(
                "SELECT {STORE_HEALTH} FROM hq_stores s LEFT JOIN hq_gaps g USING (store)
                 WHERE s.store = $1 AND s.epoch <> ''"
            ),
            &[&store],
        )
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no store {store:?} has been heard of")))?;
    let rows = client
        .query(
            "SELECT zone, sku, count FROM hq_stock
             WHERE store = $1 AND count > 0
               AND ($2::text IS NULL OR zone = $2) AND ($3::text IS NULL OR sku = $3)
             ORDER BY zone, sku",
            &[&store, &filter.zone, &filter.sku],
        )
        .await?;
    let counts: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({"zone": row.get::<_, String>(0), "sku": row.get::<_, String>(1), "count": row.get::<_, i64>(2)})
        })
        .collect();
    let mut answer = store_health(&health, state.stale_after);
    answer["counts"] = Value::Array(counts);
    Ok(Json(answer))
}

async fn availability(
    State(state): State<ApiState>,
    Path(sku): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_text("sku", &sku)?;
    let client = state.pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {STORE_HEALTH}, st.zone, st.count
                 FROM hq_stock st JOIN hq_stores s USING (store) LEFT JOIN hq_gaps g USING (store)
                 WHERE st.sku = $1 AND st.count > 0
                 ORDER BY s.store, st.zone"
            ),
            &[&sku],
        )
        .await?;
    let mut stores: Vec<Value> = Vec::new();
    for row in &rows {
        let store: String = row.get(0);
        let zone: String = row.get(17);
        let count: i64 = row.get(18);
        let stale_zones: Vec<String> = row.get(14);
        if stores
            .last()
            .is_none_or(|last| last["store"] != store.as_str())
        {
            let health = store_health(row, state.stale_after);
            stores.push(json!({
                "store": store,
                "total": 0,
                "by_role": {},
                "zones": [],
                "freshness_seconds": health["freshness_seconds"],
                "stale": health["stale"],
                "online": health["online"],
            }));
        }
        let Some(entry) = stores.last_mut() else {
            continue;
        };
        let role = state
            .zone_roles
            .get(&zone)
            .map_or("other", String::as_str)
            .to_owned();
        entry["total"] = json!(entry["total"].as_i64().unwrap_or(0) + count);
        let by_role = &mut entry["by_role"][&role];
        *by_role = json!(by_role.as_i64().unwrap_or(0) + count);
        if let Some(zones) = entry["zones"].as_array_mut() {
            zones.push(json!({
                "zone": zone,
                "role": role,
                "count": count,
                "stale": stale_zones.contains(&zone),
            }));
        }
    }
    Ok(Json(json!({ "sku": sku, "stores": stores })))
}

async fn healthz(State(state): State<ApiState>) -> Response {
    let database = match state.pool.get().await {
        Ok(client) => client.simple_query("SELECT 1").await.is_ok(),
        Err(_) => false,
    };
    let mqtt = state.metrics.mqtt_connected();
    let status = if database && mqtt {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"status": if status == StatusCode::OK { "ok" } else { "degraded" }, "database": database, "mqtt": mqtt})),
    )
        .into_response()
}

async fn metrics(State(state): State<ApiState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
