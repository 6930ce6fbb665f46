//! The connection pool (deadpool): built from the config's URL and password file, checked by
//! one connection and migrated before anything else runs.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::str::FromStr;
use tagtally_config::Secret;
use tokio_postgres::NoTls;

/// Why the database could not be reached or prepared.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL does not parse as a PostgreSQL connection string.
    #[error("invalid database url: {0}")]
    Url(tokio_postgres::Error),
    /// The pool could not be built.
    #[error("cannot build the connection pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
    /// No connection could be made.
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] deadpool_postgres::PoolError),
    /// The migrations failed.
    #[error("cannot migrate the database schema: {0}")]
    Migrate(tokio_postgres::Error),
}

/// Connects a pool of at most `size` connections to `url` (with `password` when given),
/// checks one connection and applies the migrations the database lacks.
pub async fn connect(
    url: &str,
    password: Option<&Secret>,
    size: usize,
) -> Result<Pool, ConnectError> {
    let mut config = tokio_postgres::Config::from_str(url).map_err(ConnectError::Url)?;
    if let Some(password) = password {
        config.password(password.expose());
    }
    if config.get_application_name().is_none() {
        config.application_name("tagtally-hq");
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager).max_size(size.max(1)).build()?;
    let mut client = pool.get().await?;
    let applied = crate::db::migrate(&mut client)
        .await
        .map_err(ConnectError::Migrate)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "database schema migrated");
    }
    Ok(pool)
}
