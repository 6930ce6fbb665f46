//! Asking stores for what a gap lacks (SPEC §11): a gap open past `gap-timeout` gets
//! `cmd/replay`, later attempts `cmd/snapshot`, with exponential backoff. Gaps are claimed in
//! the database (the store's row `FOR UPDATE SKIP LOCKED`, then its gap row: the order every
//! apply takes them in), so of several instances exactly one asks.

use deadpool_postgres::Pool;
use std::time::Duration;
use tagtally_contract::{ReplayCommand, SnapshotCommand, Topics};

/// A replay asks for at most this many deltas; a longer gap gets a snapshot at once.
pub const MAX_REPLAY_SEQS: u64 = 10_000;
/// Gaps claimed per round.
const CLAIM_LIMIT: i64 = 200;

/// What to ask a store for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GapRequest {
    /// `cmd/replay` of these seqs.
    Replay {
        /// First missing seq.
        from: u64,
        /// Last missing seq.
        to: u64,
    },
    /// `cmd/snapshot`.
    Snapshot,
}

/// The request for the `attempt`-th ask (1-based) of gap `from..=to`: a replay first, a
/// snapshot when that did not close it (or when the gap is too long to replay).
pub fn request_for(attempt: u32, from: u64, to: u64) -> GapRequest {
    if attempt <= 1 && to.saturating_sub(from) < MAX_REPLAY_SEQS {
        GapRequest::Replay { from, to }
    } else {
        GapRequest::Snapshot
    }
}

/// The wait after the `attempt`-th ask: `gap_timeout` doubled per attempt, capped.
pub fn backoff(attempt: u32, gap_timeout: Duration, cap: Duration) -> Duration {
    gap_timeout
        .checked_mul(1u32 << attempt.min(20))
        .map_or(cap, |wait| wait.min(cap))
}

/// One ask to publish: topic and payload (QoS 1, not retained).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// The store.
    pub store: String,
    /// `{prefix}/{store}/cmd/replay` or `cmd/snapshot`.
    pub topic: String,
    /// The command's JSON.
    pub payload: Vec<u8>,
    /// A replay (else a snapshot).
    pub replay: bool,
}

/// Claims the gaps due now, records the asks (`hq_requests`, the store's counters) and moves
/// each gap's next ask by its backoff, in one transaction; returns what to publish after it.
pub async fn claim_due_gaps(
    pool: &Pool,
    prefix: &str,
    gap_timeout: Duration,
    backoff_max: Duration,
) -> Result<Vec<Ask>, crate::db::BatchError> {
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    // The store's row first, as every apply locks it before writing the store's gap row: in
    // the other order a claim and an apply deadlock. Stores an apply holds are skipped (their
    // gap may be closing); once a store is ours its gap row is free, and read afresh.
    let stores: Vec<String> = transaction
        .query(
            "SELECT store FROM hq_stores
             WHERE store IN (SELECT store FROM hq_gaps WHERE next_ask <= now()
                             ORDER BY next_ask LIMIT $1)
             ORDER BY store FOR UPDATE SKIP LOCKED",
            &[&CLAIM_LIMIT],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let due = transaction
        .query(
            "SELECT store, epoch, from_seq, to_seq, attempts FROM hq_gaps
             WHERE store = ANY($1) AND next_ask <= now() ORDER BY next_ask FOR UPDATE",
            &[&stores],
        )
        .await?;
    let mut asks = Vec::with_capacity(due.len());
    for row in due {
        let store: String = row.get(0);
        let epoch: String = row.get(1);
        let from = u64::try_from(row.get::<_, i64>(2)).unwrap_or(0);
        let to = u64::try_from(row.get::<_, i64>(3)).unwrap_or(0);
        let attempt = u32::try_from(row.get::<_, i32>(4)).unwrap_or(0) + 1;
        let Ok(topics) = Topics::new(prefix, &store) else {
            continue;
        };
        let request = request_for(attempt, from, to);
        let (kind, counter) = match request {
            GapRequest::Replay { .. } => ("replay", "replays_asked"),
            GapRequest::Snapshot => ("snapshot", "snapshots_asked"),
        };
        let id: i64 = transaction
            .query_one(
                "INSERT INTO hq_requests (store, epoch, kind, from_seq, to_seq, request_id)
                 VALUES ($1, $2, $3, $4, $5, '') RETURNING id",
                &[
                    &store,
                    &epoch,
                    &kind,
                    &row.get::<_, i64>(2),
                    &row.get::<_, i64>(3),
                ],
            )
            .await?
            .get(0);
        let request_id = format!("hq-{id}");
        transaction
            .execute(
                "UPDATE hq_requests SET request_id = $2 WHERE id = $1",
                &[&id, &request_id],
            )
            .await?;
        let wait = backoff(attempt, gap_timeout, backoff_max);
        transaction
            .execute(
                "UPDATE hq_gaps SET attempts = $2, next_ask = now() + make_interval(secs => $3)
                 WHERE store = $1",
                &[
                    &store,
                    &i32::try_from(attempt).unwrap_or(i32::MAX),
                    &wait.as_secs_f64(),
                ],
            )
            .await?;
        transaction
            .execute(
                &format!("UPDATE hq_stores SET {counter} = {counter} + 1 WHERE store = $1"),
                &[&store],
            )
            .await?;
        let request_id = std::borrow::Cow::Borrowed(request_id.as_str());
        asks.push(match request {
            GapRequest::Replay { from, to } => Ask {
                store: store.clone(),
                topic: topics.cmd_replay(),
                payload: ReplayCommand {
                    from_seq: from,
                    to_seq: to,
                    request_id: Some(request_id),
                }
                .encode(),
                replay: true,
            },
            GapRequest::Snapshot => Ask {
                store: store.clone(),
                topic: topics.cmd_snapshot(),
                payload: SnapshotCommand {
                    request_id: Some(request_id),
                }
                .encode(),
                replay: false,
            },
        });
    }
    transaction.commit().await?;
    Ok(asks)
}

/// Housekeeping: forgets `hq_applied` rows older than an hour and requests older than a week.
pub async fn prune(pool: &Pool) -> Result<(), crate::db::BatchError> {
    let client = pool.get().await?;
    client
        .batch_execute(
            "DELETE FROM hq_applied WHERE applied < now() - interval '1 hour';
             DELETE FROM hq_requests WHERE asked < now() - interval '7 days';",
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_first_then_snapshots() {
        assert_eq!(request_for(1, 5, 9), GapRequest::Replay { from: 5, to: 9 });
        assert_eq!(request_for(2, 5, 9), GapRequest::Snapshot);
        assert_eq!(request_for(1, 1, 1 + MAX_REPLAY_SEQS), GapRequest::Snapshot);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let timeout = Duration::from_secs(5);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff(1, timeout, cap), Duration::from_secs(10));
        assert_eq!(backoff(2, timeout, cap), Duration::from_secs(20));
        assert_eq!(backoff(9, timeout, cap), cap);
        assert_eq!(backoff(u32::MAX, timeout, cap), cap);
    }
}
