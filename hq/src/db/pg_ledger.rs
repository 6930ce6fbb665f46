//! [`Ledger`] on a PostgreSQL transaction: the apply rules' storage in production.
//!
//! Statements are prepared once per connection (deadpool's statement cache). Round trips are
//! what a batch costs, so they are per batch, not per message: every store of the batch is
//! locked by one statement ([`PgLedger::lock_stores`]) and its head kept here; the writes of the
//! common path (the `hq_applied` rows, the stock upserts, the heads) are collected and written
//! by [`PgLedger::finish`] in three pipelined statements before the commit. A snapshot or a new
//! epoch writes at once (rare), after dropping what it supersedes from the collected writes.

use crate::ledger::{Ledger, PartsState, StoreHead, MAX_PARTS_KEPT, MAX_PENDING};
use crate::message::{PairCount, SnapshotPart, StatusOrder, StoreDelta};
use deadpool_postgres::Transaction;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio_postgres::Error;

/// What this transaction knows of a store it locked.
#[derive(Debug, Clone, Default)]
struct Locked {
    /// Whether the row was read (and locked) in this transaction.
    loaded: bool,
    /// The head as it is in the database (to see whether the gap row needs writing).
    stored: StoreHead,
    /// The head as the rules left it.
    head: StoreHead,
    /// `head` differs from `stored` and is written by [`PgLedger::finish`].
    dirty: bool,
    /// The gap closed at some point of this transaction: a gap open at its end is a new one.
    gap_closed: bool,
    /// The epoch changes are applied in right now.
    epoch_in_use: String,
    /// Whether the store may have pending deltas or snapshot parts.
    may_have_pending: bool,
}

/// A stock row to upsert: (store, zone, sku) -> (count, seq).
type StockWrites = BTreeMap<(String, String, String), (i64, i64)>;

/// The apply rules' storage inside one transaction.
#[derive(Debug)]
pub struct PgLedger<'t, 'c> {
    transaction: &'t Transaction<'c>,
    gap_timeout: Duration,
    locked: HashMap<String, Locked>,
    /// `hq_applied` rows to insert: (store, epoch, seq).
    applied: Vec<(String, String, i64)>,
    /// Stock upserts, the last write of a pair winning (one statement cannot upsert a row twice).
    stock: StockWrites,
}

/// Locks stores (in name order: several instances never deadlock) and reads their heads.
const LOCK_STORES: &str = "SELECT store, epoch, applied_seq, known_seq, status_epoch, status_boot,
            status_connection, status_time, online, disk_full,
            EXISTS (SELECT 1 FROM hq_pending WHERE hq_pending.store = hq_stores.store)
            OR EXISTS (SELECT 1 FROM hq_snapshot_parts p WHERE p.store = hq_stores.store)
     FROM hq_stores WHERE store = ANY($1) ORDER BY store FOR UPDATE";

impl<'t, 'c> PgLedger<'t, 'c> {
    /// A ledger on `transaction`; a gap opened in it is first asked for after `gap_timeout`.
    pub fn new(transaction: &'t Transaction<'c>, gap_timeout: Duration) -> Self {
        PgLedger {
            transaction,
            gap_timeout,
            locked: HashMap::new(),
            applied: Vec::new(),
            stock: BTreeMap::new(),
        }
    }

    /// Locks every store in `stores` (sorted, without repeats) with one statement, creating
    /// the rows of stores never seen, and keeps their heads for [`Ledger::lock_store`].
    pub async fn lock_stores(&mut self, stores: &[&str]) -> Result<(), Error> {
        let wanted: Vec<&str> = stores
            .iter()
            .copied()
            .filter(|store| !self.locked.get(*store).is_some_and(|locked| locked.loaded))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let rows = self.query(LOCK_STORES, &[&wanted]).await?;
        self.keep_heads(&rows);
        let missing: Vec<&str> = wanted
            .into_iter()
            .filter(|store| !self.locked.get(*store).is_some_and(|locked| locked.loaded))
            .collect();
        if !missing.is_empty() {
            self.execute(
                "INSERT INTO hq_stores (store) SELECT unnest($1::text[]) ON CONFLICT (store) DO NOTHING",
                &[&missing],
            )
            .await?;
            let rows = self.query(LOCK_STORES, &[&missing]).await?;
            self.keep_heads(&rows);
        }
        Ok(())
    }

    fn keep_heads(&mut self, rows: &[tokio_postgres::Row]) {
        for row in rows {
            let store: String = row.get(0);
            let head = head_from_row(row);
            // The transaction sees its own earlier writes, so this is exact.
            let may_have_pending: bool = row.get(10);
            let locked = self.locked(&store);
            locked.loaded = true;
            locked.stored = head.clone();
            locked.epoch_in_use = head.epoch.clone();
            locked.head = head;
            locked.may_have_pending = may_have_pending;
        }
    }

    /// Writes what the batch collected: the `hq_applied` rows, the stock, the heads (and the
    /// gap rows whose gap changed). Called once, before the commit.
    pub async fn finish(&mut self) -> Result<(), Error> {
        let applied = std::mem::take(&mut self.applied);
        let stock = std::mem::take(&mut self.stock);
        let mut dirty: Vec<(String, Locked)> = self
            .locked
            .iter_mut()
            .filter(|(_, locked)| locked.dirty)
            .map(|(store, locked)| {
                locked.dirty = false;
                (store.clone(), locked.clone())
            })
            .collect();
        dirty.sort_by(|a, b| a.0.cmp(&b.0));
        // Pipelined: tokio-postgres sends all three before reading an answer.
        tokio::try_join!(
            self.insert_applied(&applied),
            self.upsert_stock(&stock),
            self.update_heads(&dirty),
        )?;
        for (store, locked) in &dirty {
            self.write_gap(store, locked).await?;
            if let Some(kept) = self.locked.get_mut(store) {
                kept.stored = locked.head.clone();
                kept.gap_closed = false;
            }
        }
        Ok(())
    }

    async fn insert_applied(&self, applied: &[(String, String, i64)]) -> Result<(), Error> {
        if applied.is_empty() {
            return Ok(());
        }
        let stores: Vec<&str> = applied.iter().map(|row| row.0.as_str()).collect();
        let epochs: Vec<&str> = applied.iter().map(|row| row.1.as_str()).collect();
        let seqs: Vec<i64> = applied.iter().map(|row| row.2).collect();
        // The primary key fails the transaction if one of these seqs was applied before.
        self.execute(
            "INSERT INTO hq_applied (store, epoch, seq)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])",
            &[&stores, &epochs, &seqs],
        )
        .await?;
        Ok(())
    }

    async fn upsert_stock(&self, stock: &StockWrites) -> Result<(), Error> {
        if stock.is_empty() {
            return Ok(());
        }
        let mut stores = Vec::with_capacity(stock.len());
        let mut zones = Vec::with_capacity(stock.len());
        let mut skus = Vec::with_capacity(stock.len());
        let mut counts = Vec::with_capacity(stock.len());
        let mut seqs = Vec::with_capacity(stock.len());
        for ((store, zone, sku), (count, seq)) in stock {
            stores.push(store.as_str());
            zones.push(zone.as_str());
            skus.push(sku.as_str());
            counts.push(*count);
            seqs.push(*seq);
        }
        self.execute(
            "INSERT INTO hq_stock (store, zone, sku, count, seq, updated)
             SELECT store, zone, sku, count, seq, now()
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
                  AS pair(store, zone, sku, count, seq)
             ON CONFLICT (store, zone, sku) DO UPDATE
             SET count = EXCLUDED.count, seq = EXCLUDED.seq, updated = EXCLUDED.updated",
            &[&stores, &zones, &skus, &counts, &seqs],
        )
        .await?;
        Ok(())
    }

    async fn update_heads(&self, dirty: &[(String, Locked)]) -> Result<(), Error> {
        if dirty.is_empty() {
            return Ok(());
        }
        let heads = dirty.iter().map(|(_, locked)| &locked.head);
        let stores: Vec<&str> = dirty.iter().map(|(store, _)| store.as_str()).collect();
        let epochs: Vec<&str> = heads.clone().map(|head| head.epoch.as_str()).collect();
        let applied: Vec<i64> = heads.clone().map(|head| as_i64(head.applied)).collect();
        let known: Vec<i64> = heads.clone().map(|head| as_i64(head.known)).collect();
        let status = |head: &StoreHead| head.status.clone();
        let status_epochs: Vec<Option<String>> = heads
            .clone()
            .map(|head| status(head).map(|status| status.epoch))
            .collect();
        let boots: Vec<Option<i64>> = heads
            .clone()
            .map(|head| status(head).map(|status| as_i64(status.boot)))
            .collect();
        let connections: Vec<Option<i64>> = heads
            .clone()
            .map(|head| status(head).map(|status| as_i64(status.connection)))
            .collect();
        let times: Vec<Option<String>> = heads
            .clone()
            .map(|head| status(head).map(|status| status.time))
            .collect();
        let online: Vec<bool> = heads.clone().map(|head| head.online).collect();
        let disk_full: Vec<bool> = heads.map(|head| head.disk_full).collect();
        self.execute(
            "UPDATE hq_stores SET epoch = h.epoch, applied_seq = h.applied, known_seq = h.known,
                 status_epoch = h.status_epoch, status_boot = h.boot,
                 status_connection = h.connection, status_time = h.time, online = h.online,
                 disk_full = h.disk_full, last_heard = now()
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[],
                         $6::bigint[], $7::bigint[], $8::text[], $9::bool[], $10::bool[])
                  AS h(store, epoch, applied, known, status_epoch, boot, connection, time,
                       online, disk_full)
             WHERE hq_stores.store = h.store",
            &[
                &stores,
                &epochs,
                &applied,
                &known,
                &status_epochs,
                &boots,
                &connections,
                &times,
                &online,
                &disk_full,
            ],
        )
        .await?;
        Ok(())
    }

    /// Brings the store's `hq_gaps` row in line with its head: a gap that closed during the
    /// transaction is deleted, an open one (re)written.
    async fn write_gap(&self, store: &str, locked: &Locked) -> Result<(), Error> {
        let before = locked.stored.gap();
        let now = locked.head.gap();
        if before.is_some() && (now.is_none() || locked.gap_closed) {
            self.execute("DELETE FROM hq_gaps WHERE store = $1", &[&store])
                .await?;
        }
        if let Some((from, to)) = now {
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
                    &locked.head.epoch,
                    &as_i64(from),
                    &as_i64(to),
                    &self.gap_timeout.as_secs_f64(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// Collects the stock writes of `pairs` at `seq`.
    fn collect_pairs(&mut self, store: &str, seq: u64, pairs: &[PairCount]) {
        for pair in pairs {
            self.stock.insert(
                (store.to_owned(), pair.zone.clone(), pair.sku.clone()),
                (as_i64(pair.count), as_i64(seq)),
            );
        }
    }

    /// Drops the collected stock writes of `store` (superseded by a snapshot or a new epoch).
    fn drop_collected_stock(&mut self, store: &str) {
        self.stock.retain(|(owner, _, _), _| owner != store);
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
                may_have_pending: true,
                ..Locked::default()
            })
    }
}

fn head_from_row(row: &tokio_postgres::Row) -> StoreHead {
    let status_epoch: Option<String> = row.get(4);
    let status_boot: Option<i64> = row.get(5);
    let status_connection: Option<i64> = row.get(6);
    let status_time: Option<String> = row.get(7);
    let online: bool = row.get(8);
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
    StoreHead {
        epoch: row.get(1),
        applied: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
        known: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
        status,
        online,
        disk_full: row.get(9),
    }
}

/// Seqs and counts are checked to fit a `bigint` when decoded ([`crate::wire::MAX_NUMBER`]).
fn as_i64(number: u64) -> i64 {
    i64::try_from(number).unwrap_or(i64::MAX)
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
        // Batches lock all their stores up front; this locks one the batch did not name.
        self.lock_stores(&[store]).await?;
        Ok(self.locked(store).head.clone())
    }

    async fn save_head(&mut self, store: &str, head: &StoreHead) -> Result<(), Error> {
        let locked = self.locked(store);
        if locked.head.gap().is_some() && head.gap().is_none() {
            locked.gap_closed = true;
        }
        locked.head = head.clone();
        locked.dirty = true;
        Ok(())
    }

    async fn forget_epoch(&mut self, store: &str, new_epoch: &str) -> Result<(), Error> {
        self.drop_collected_stock(store);
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
        self.applied.push((store.to_owned(), epoch, as_i64(seq)));
        self.collect_pairs(store, seq, pairs);
        Ok(())
    }

    async fn replace_stock(
        &mut self,
        store: &str,
        seq: u64,
        pairs: &[PairCount],
    ) -> Result<(), Error> {
        // Everything this batch collected for the store is older than the snapshot.
        self.drop_collected_stock(store);
        self.execute(
            "UPDATE hq_stock SET count = 0, seq = $2, updated = now()
             WHERE store = $1 AND count <> 0",
            &[&store, &as_i64(seq)],
        )
        .await?;
        self.collect_pairs(store, seq, pairs);
        Ok(())
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
