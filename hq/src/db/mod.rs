//! PostgreSQL: the pool, the schema migrations, the apply rules' storage, and the batch
//! transaction that applies a run of messages at once.

mod batch;
mod migrate;
mod pg_ledger;
mod pool;

pub use batch::{Applied, BatchApplier, BatchError};
pub use migrate::{migrate, MIGRATIONS};
pub use pg_ledger::PgLedger;
pub use pool::{connect, ConnectError};
