//! Applying a run of messages in one transaction: several stores per commit for throughput,
//! stores locked in name order so concurrent instances never deadlock, transient conflicts
//! retried, and a message the database refuses on its own set apart instead of blocking the rest.

use crate::apply::{apply, Outcome};
use crate::db::PgLedger;
use crate::message::StoreMessage;
use deadpool_postgres::Pool;
use std::time::Duration;
use tokio_postgres::error::SqlState;

/// Retries of a batch that hit a serialization failure or a deadlock.
const CONFLICT_RETRIES: usize = 5;

/// Why a batch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No connection from the pool (database down, or pool exhausted past its timeout).
    #[error("no database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The database failed the transaction.
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
}

impl BatchError {
    /// Whether the database itself refused this data (a constraint, a bad value), as opposed to
    /// being unreachable: retrying the same message would fail again.
    pub fn is_refusal(&self) -> bool {
        match self {
            BatchError::Pool(_) => false,
            // Class 22: data exception; class 23: integrity constraint violation.
            BatchError::Database(error) => error
                .code()
                .is_some_and(|code| code.code().starts_with("22") || code.code().starts_with("23")),
        }
    }
}

fn is_transient(code: &SqlState) -> bool {
    *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
}

/// What applying a batch did to each message, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Committed with this outcome.
    Done(Outcome),
    /// The database refused this message on its own (logged); it is not retried.
    Refused,
}

/// Applies batches of messages through a pool.
#[derive(Debug, Clone)]
pub struct BatchApplier {
    pool: Pool,
    gap_timeout: Duration,
}

impl BatchApplier {
    /// An applier on `pool`; gaps are first asked for after `gap_timeout`.
    pub fn new(pool: Pool, gap_timeout: Duration) -> Self {
        BatchApplier { pool, gap_timeout }
    }

    /// The pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Applies `messages` (one store's messages in arrival order) and commits. When the database
    /// refuses the batch for its data, each message is applied alone so that only the culprit
    /// is set apart. An `Err` means nothing was committed and everything may be retried.
    pub async fn apply(&self, messages: &[StoreMessage]) -> Result<Vec<Applied>, BatchError> {
        match self.apply_together(messages).await {
            Ok(outcomes) => Ok(outcomes.into_iter().map(Applied::Done).collect()),
            Err(error) if error.is_refusal() => {
                tracing::warn!(%error, messages = messages.len(), "batch refused; applying its messages one by one");
                let mut applied = Vec::with_capacity(messages.len());
                for message in messages {
                    match self.apply_together(std::slice::from_ref(message)).await {
                        Ok(outcomes) => applied.extend(outcomes.into_iter().map(Applied::Done)),
                        Err(error) if error.is_refusal() => {
                            tracing::error!(%error, store = message.store(), "database refused a message; it is skipped");
                            applied.push(Applied::Refused);
                        }
                        Err(error) => return Err(error),
                    }
                }
                Ok(applied)
            }
            Err(error) => Err(error),
        }
    }

    async fn apply_together(&self, messages: &[StoreMessage]) -> Result<Vec<Outcome>, BatchError> {
        // Stores in name order (stable: each store's messages keep their order).
        let mut order: Vec<usize> = (0..messages.len()).collect();
        order.sort_by(|&a, &b| messages[a].store().cmp(messages[b].store()));
        let mut attempt = 0;
        loop {
            match self.try_once(messages, &order).await {
                Err(BatchError::Database(error))
                    if attempt < CONFLICT_RETRIES && error.code().is_some_and(is_transient) =>
                {
                    attempt += 1;
                    tracing::debug!(%error, attempt, "batch conflicted; retrying");
                }
                result => return result,
            }
        }
    }

    async fn try_once(
        &self,
        messages: &[StoreMessage],
        order: &[usize],
    ) -> Result<Vec<Outcome>, BatchError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        let mut outcomes = vec![Outcome::Duplicate; messages.len()];
        {
            let mut ledger = PgLedger::new(&transaction, self.gap_timeout);
            let mut stores: Vec<&str> =
                order.iter().map(|&index| messages[index].store()).collect();
            stores.dedup();
            ledger.lock_stores(&stores).await?;
            for &index in order {
                outcomes[index] = apply(&mut ledger, &messages[index]).await?;
            }
            ledger.finish().await?;
        }
        transaction.commit().await?;
        Ok(outcomes)
    }
}
