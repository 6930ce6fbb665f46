//! [`Ledger`] on a PostgreSQL transaction: the apply rules' storage in production.
//!
//! Statements are prepared once per connection (deadpool's statement cache). Per applied delta
//! the common path is three round trips: lock the store row, upsert the pairs (with the
//! `hq_applied` row in the same statement), write the head back.

use crate::ledger::{Ledger, PartsState, StoreHead, MAX_PARTS_KEPT, MAX_PENDING};
use crate::message::{PairCount, SnapshotPart, StatusOrder, StoreDelta};
use deadpool_postgres::Transaction;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres::Error;

/// What this transaction knows of a store it locked.
#[derive(Debug, Clone)]
struct Locked {
    /// The head as it was in the database (to see whether the gap row needs writing).
    head: StoreHead,
    /// The epoch changes are applied in right now.
    epoch_in_use: String,
    /// Whether the store may have pending deltas or snapshot parts.
    may_have_pending: bool,
}

/// The apply rules' storage inside one transaction.
#[derive(Debug)]
pub struct PgLedger<'t, 'c> {
    transaction: &'t Transaction<'c>,
    gap_timeout: Duration,
    locked: HashMap<String, Locked>,
}

impl<'t, 'c> PgLedger<'t, 'c> {
    /// A ledger on `transaction`; a gap opened in it is first asked for after `gap_timeout`.
    pub fn new(transaction: &'t Transaction<'c>, gap_timeout: Duration) -> Self {
        PgLedger {
            transaction,
            gap_timeout,
            locked: HashMap::new(),
        }
    }

    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, Error> {
        let statement = self.transaction.prepare_cached(sql).await?;
        self.transaction.execute(&statement, params).await
    }

    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, Error> {
        let statement = self.transaction.prepare_cached(sql).await?;
        self.transaction.query(&statement, params).await
    }

    fn locked(&mut self, store: &str) -> &mut Locked {
        self.locked
            .entry(store.to_owned())
            .or_insert_with(|| Locked {
                head: StoreHead::default(),
                epoch_in_use: String::new(),
                may_have_pending: true,
            })
    }

    async fn upsert_pairs(&self, store: &str, seq: u64, pairs: &[PairCount]) -> Result<(), Error> {
        let (zones, skus, counts) = columns(pairs);
        self.execute(
            "INSERT INTO hq_stock (store, zone, sku, count, seq, updated)
             SELECT $1, zone, sku, count, $5, now()
             FROM unnest($2::text[], $3::text[], $4::bigint[]) AS pair(zone, sku, count)
             ON CONFLICT (store, zone, sku) DO UPDATE
             SET count = EXCLUDED.count, seq = EXCLUDED.seq, updated = EXCLUDED.updated",
            &[&store, &zones, &skus, &counts, &as_i64(seq)],
        )
        .await?;
        Ok(())
    }
}

/// Seqs and counts are checked to fit a `bigint` when decoded ([`crate::wire::MAX_NUMBER`]).
fn as_i64(number: u64) -> i64 {
    i64::try_from(number).unwrap_or(i64::MAX)
}

fn columns(pairs: &[PairCount]) -> (Vec<&str>, Vec<&str>, Vec<i64>) {
    let zones = pairs.iter().map(|pair| pair.zone.as_str()).collect();
    let skus = pairs.iter().map(|pair| pair.sku.as_str()).collect();
    let counts = pairs.iter().map(|pair| as_i64(pair.count)).collect();
    (zones, skus, counts)
}

fn pairs_to_json(pairs: &[PairCount]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|pair| serde_json::json!([pair.zone, pair.sku, pair.count]))
            .collect(),
    )
}

/// Reads what [`pairs_to_json`] wrote; anything else in the column is skipped (only this
/// module writes it).
fn pairs_from_json(value: &Value) -> Vec<PairCount> {
    let Some(items) = value.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let [zone, sku, count] = item.as_array()?.as_slice() else {
                return None;
            };
            Some(PairCount {
                zone: zone.as_str()?.to_owned(),
                sku: sku.as_str()?.to_owned(),
                count: count.as_u64()?,
            })
        })
        .collect()
}

impl Ledger for PgLedger<'_, '_> {
    type Error = Error;

    async fn lock_store(&mut self, store: &str) -> Result<StoreHead, Error> {
        const LOCK: &str = "SELECT epoch, applied_seq, known_seq, status_epoch, status_boot,
                    status_connection, status_time, online, disk_full,
                    EXISTS (SELECT 1 FROM hq_pending WHERE hq_pending.store = hq_stores.store)
                    OR EXISTS (SELECT 1 FROM hq_snapshot_parts p WHERE p.store = hq_stores.store)
             FROM hq_stores WHERE store = $1 FOR UPDATE";
        let mut rows = self.query(LOCK, &[&store]).await?;
        if rows.is_empty() {
            self.execute(
                "INSERT INTO hq_stores (store) VALUES ($1) ON CONFLICT (store) DO NOTHING",
                &[&store],
            )
            .await?;
            rows = self.query(LOCK, &[&store]).await?;
        }
        let Some(row) = rows.first() else {
            // Inserted just above and locked in this transaction: always there.
            return Ok(StoreHead::default());
        };
        let status_epoch: Option<String> = row.get(3);
        let status_boot: Option<i64> = row.get(4);
        let status_connection: Option<i64> = row.get(5);
        let status_time: Option<String> = row.get(6);
        let online: bool = row.get(7);
        let status = match (status_epoch, status_boot, status_connection, status_time) {
            (Some(epoch), Some(boot), Some(connection), Some(time)) => Some(StatusOrder {
                epoch,
                boot: u64::try_from(boot).unwrap_or(0),
                connection: u64::try_from(connection).unwrap_or(0),
                offline: !online,
                time,
            }),
            _ => None,
        };
        let head = StoreHead {
            epoch: row.get(0),
            applied: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
            known: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
            status,
            online,
            disk_full: row.get(8),
        };
        // The transaction sees its own earlier writes, so this is exact.
        let may_have_pending: bool = row.get(9);
        let locked = self.locked(store);
        locked.head = head.clone();
        locked.epoch_in_use = head.epoch.clone();
        locked.may_have_pending = may_have_pending;
        Ok(head)
    }

    async fn save_head(&mut self, store: &str, head: &StoreHead) -> Result<(), Error> {
        let status = head.status.as_ref();
        let status_boot = status.map(|status| as_i64(status.boot));
        let status_connection = status.map(|status| as_i64(status.connection));
        self.execute(
            "UPDATE hq_stores SET epoch = $2, applied_seq = $3, known_seq = $4, status_epoch = $5,
                 status_boot = $6, status_connection = $7, status_time = $8, online = $9,
                 disk_full = $10, last_heard = now()
             WHERE store = $1",
            &[
                &store,
                &head.epoch,
                &as_i64(head.applied),
                &as_i64(head.known),
                &status.map(|status| status.epoch.as_str()),
                &status_boot,
                &status_connection,
                &status.map(|status| status.time.as_str()),
                &head.online,
                &head.disk_full,
            ],
        )
        .await?;
        let before = self.locked(store).head.gap();
        let now = head.gap();
        match now {
            Some((from, to)) => {
                // A new epoch's gap is a new gap: attempts and opening time start again.
                self.execute(
                    "INSERT INTO hq_gaps (store, epoch, from_seq, to_seq, opened, attempts, next_ask)
                     VALUES ($1, $2, $3, $4, now(), 0, now() + make_interval(secs => $5))
                     ON CONFLICT (store) DO UPDATE SET
                         from_seq = EXCLUDED.from_seq, to_seq = EXCLUDED.to_seq,
                         epoch = EXCLUDED.epoch,
                         opened = CASE WHEN hq_gaps.epoch = EXCLUDED.epoch
                                  THEN hq_gaps.opened ELSE EXCLUDED.opened END,
                         attempts = CASE WHEN hq_gaps.epoch = EXCLUDED.epoch
                                    THEN hq_gaps.attempts ELSE 0 END,
                         next_ask = CASE WHEN hq_gaps.epoch = EXCLUDED.epoch
                                    THEN hq_gaps.next_ask ELSE EXCLUDED.next_ask END",
                    &[
                        &store,
                        &head.epoch,
                        &as_i64(from),
                        &as_i64(to),
                        &self.gap_timeout.as_secs_f64(),
                    ],
                )
                .await?;
            }
            None if before.is_some() => {
                self.execute("DELETE FROM hq_gaps WHERE store = $1", &[&store])
                    .await?;
            }
            None => {}
        }
        self.locked(store).head = head.clone();
        Ok(())
    }

    async fn forget_epoch(&mut self, store: &str, new_epoch: &str) -> Result<(), Error> {
        self.execute("DELETE FROM hq_stock WHERE store = $1", &[&store])
            .await?;
        self.execute(
            "DELETE FROM hq_pending WHERE store = $1 AND epoch < $2",
            &[&store, &new_epoch],
        )
        .await?;
        self.execute(
            "DELETE FROM hq_snapshot_parts WHERE store = $1 AND epoch < $2",
            &[&store, &new_epoch],
        )
        .await?;
        self.execute(
            "UPDATE hq_stores SET stale_zones = '{}', last_snapshot_id = NULL,
                 last_snapshot_seq = NULL, last_snapshot_at = NULL
             WHERE store = $1",
            &[&store],
        )
        .await?;
        self.locked(store).epoch_in_use = new_epoch.to_owned();
        Ok(())
    }

    async fn set_pairs(&mut self, store: &str, seq: u64, pairs: &[PairCount]) -> Result<(), Error> {
        let epoch = self.locked(store).epoch_in_use.clone();
        // The primary key of hq_applied fails the transaction if this seq was applied before.
        self.execute(
            "INSERT INTO hq_applied (store, epoch, seq) VALUES ($1, $2, $3)",
            &[&store, &epoch, &as_i64(seq)],
        )
        .await?;
        self.upsert_pairs(store, seq, pairs).await
    }

    async fn replace_stock(
        &mut self,
        store: &str,
        seq: u64,
        pairs: &[PairCount],
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE hq_stock SET count = 0, seq = $2, updated = now()
             WHERE store = $1 AND count <> 0",
            &[&store, &as_i64(seq)],
        )
        .await?;
        self.upsert_pairs(store, seq, pairs).await
    }

    async fn park(&mut self, delta: &StoreDelta) -> Result<bool, Error> {
        let held: i64 = self
            .query(
                "SELECT count(*) FROM hq_pending WHERE store = $1",
                &[&delta.store],
            )
            .await?
            .first()
            .map_or(0, |row| row.get(0));
        let seq = as_i64(delta.seq);
        if usize::try_from(held).unwrap_or(usize::MAX) >= MAX_PENDING {
            let already = self
                .query(
                    "SELECT 1 FROM hq_pending WHERE store = $1 AND epoch = $2 AND seq = $3",
                    &[&delta.store, &delta.epoch, &seq],
                )
                .await?;
            return Ok(!already.is_empty());
        }
        self.execute(
            "INSERT INTO hq_pending (store, epoch, seq, changes) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[
                &delta.store,
                &delta.epoch,
                &seq,
                &pairs_to_json(&delta.changes),
            ],
        )
        .await?;
        self.locked(&delta.store).may_have_pending = true;
        Ok(true)
    }

    async fn pending_after(
        &mut self,
        store: &str,
        epoch: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoreDelta>, Error> {
        if !self.locked(store).may_have_pending {
            return Ok(Vec::new());
        }
        let rows = self
            .query(
                "SELECT seq, changes FROM hq_pending
                 WHERE store = $1 AND epoch = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                &[
                    &store,
                    &epoch,
                    &as_i64(after),
                    &i64::try_from(limit).unwrap_or(i64::MAX),
                ],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| StoreDelta {
                store: store.to_owned(),
                epoch: epoch.to_owned(),
                seq: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
                changes: pairs_from_json(&row.get::<_, Value>(1)),
            })
            .collect())
    }

    async fn drop_pending_through(
        &mut self,
        store: &str,
        epoch: &str,
        seq: u64,
    ) -> Result<(), Error> {
        if !self.locked(store).may_have_pending {
            return Ok(());
        }
        self.execute(
            "DELETE FROM hq_pending
             WHERE store = $1 AND (epoch < $2 OR (epoch = $2 AND seq <= $3))",
            &[&store, &epoch, &as_i64(seq)],
        )
        .await?;
        Ok(())
    }

    async fn add_part(&mut self, part: &SnapshotPart) -> Result<PartsState, Error> {
        let siblings = self
            .query(
                "SELECT part, parts, epoch, seq FROM hq_snapshot_parts
                 WHERE store = $1 AND snapshot_id = $2",
                &[&part.store, &part.snapshot_id],
            )
            .await?;
        let parts = i32::try_from(part.parts).unwrap_or(i32::MAX);
        let number = i32::try_from(part.part).unwrap_or(i32::MAX);
        let seq = as_i64(part.seq);
        let agrees = siblings.iter().all(|row| {
            row.get::<_, i32>(1) == parts
                && row.get::<_, String>(2) == part.epoch
                && row.get::<_, i64>(3) == seq
        });
        if !agrees {
            return Ok(PartsState::Refused);
        }
        if part.parts == 1 && siblings.is_empty() {
            // The usual snapshot: nothing to wait for, nothing to keep.
            return Ok(PartsState::Complete(part.counts.clone()));
        }
        let mut have = siblings.len();
        if !siblings.iter().any(|row| row.get::<_, i32>(0) == number) {
            let held: i64 = self
                .query(
                    "SELECT count(*) FROM hq_snapshot_parts WHERE store = $1",
                    &[&part.store],
                )
                .await?
                .first()
                .map_or(0, |row| row.get(0));
            if usize::try_from(held).unwrap_or(usize::MAX) >= MAX_PARTS_KEPT {
                return Ok(PartsState::Refused);
            }
            self.execute(
                "INSERT INTO hq_snapshot_parts (store, snapshot_id, part, parts, epoch, seq, counts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &part.store,
                    &part.snapshot_id,
                    &number,
                    &parts,
                    &part.epoch,
                    &seq,
                    &pairs_to_json(&part.counts),
                ],
            )
            .await?;
            self.locked(&part.store).may_have_pending = true;
            have += 1;
        }
        if have < part.parts as usize {
            return Ok(PartsState::Incomplete);
        }
        let rows = self
            .query(
                "SELECT counts FROM hq_snapshot_parts
                 WHERE store = $1 AND snapshot_id = $2 ORDER BY part",
                &[&part.store, &part.snapshot_id],
            )
            .await?;
        Ok(PartsState::Complete(
            rows.iter()
                .flat_map(|row| pairs_from_json(&row.get::<_, Value>(0)))
                .collect(),
        ))
    }

    async fn drop_parts_through(
        &mut self,
        store: &str,
        epoch: &str,
        seq: u64,
    ) -> Result<(), Error> {
        self.execute(
            "DELETE FROM hq_snapshot_parts
             WHERE store = $1 AND (epoch < $2 OR (epoch = $2 AND seq <= $3))",
            &[&store, &epoch, &as_i64(seq)],
        )
        .await?;
        Ok(())
    }

    async fn note_snapshot(
        &mut self,
        store: &str,
        snapshot_id: &str,
        seq: u64,
        stale_zones: &[String],
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE hq_stores SET last_snapshot_id = $2, last_snapshot_seq = $3,
                 last_snapshot_at = now(), stale_zones = $4
             WHERE store = $1",
            &[&store, &snapshot_id, &as_i64(seq), &stale_zones],
        )
        .await?;
        Ok(())
    }

    async fn set_reader(
        &mut self,
        store: &str,
        reader: &str,
        payload: &Value,
    ) -> Result<(), Error> {
        self.execute(
            "INSERT INTO hq_readers (store, reader, payload, updated) VALUES ($1, $2, $3, now())
             ON CONFLICT (store, reader) DO UPDATE
             SET payload = EXCLUDED.payload, updated = EXCLUDED.updated",
            &[&store, &reader, payload],
        )
        .await?;
        Ok(())
    }
}
