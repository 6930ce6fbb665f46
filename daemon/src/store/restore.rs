//! Opening the database: create it with a fresh epoch once, or load it and check every invariant before anything runs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use std::time::SystemTime;

use crate::time_ordered_id::time_ordered_id;

use super::error::{AtPath, StoreError};
use super::records::TagRecord;
use super::tables::*;
use tagtally_contract::Resync;
use tagtally_protocol::hex::Hex;

/// One present tag as kept on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTag {
    /// The EPC bytes.
    pub epc: Box<[u8]>,
    /// Zone name.
    pub zone: Arc<str>,
    /// SKU string.
    pub sku: Arc<str>,
}

/// Metadata as loaded.
#[derive(Clone, Debug)]
pub(super) struct Meta {
    pub epoch: String,
    pub next_seq: u64,
    pub outbox_bytes: u64,
    pub folded_deltas: u64,
    pub resync: Option<Resync>,
    pub history_bytes: u64,
    pub snapshot_parts: u64,
}

/// A new epoch: a UUIDv7, so epochs sort by creation time as plain strings (SPEC §6.1). Databases
/// made by layout 1 keep the 32 hex digits they were created with.
fn new_epoch(path: &Path) -> Result<String, StoreError> {
    time_ordered_id(SystemTime::now()).map_err(|e| StoreError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })
}

/// What opening did to the file before it was loaded.
#[derive(Clone, Copy, Debug)]
pub(super) struct Initialised {
    /// This open created the database (and its epoch).
    pub created: bool,
    /// The layout it upgraded the file from.
    pub upgraded_from: Option<u64>,
    /// This start's number (0 when the layout is unknown and nothing was written).
    pub boot: u64,
}

/// One transaction at every open, so a crash leaves nothing half-made: creates the tables and
/// metadata of a new database; upgrades a layout 1 database in place (the boot counter and the
/// empty history start at 0; epoch, seqs, tags and outbox are kept, so an upgraded gateway goes on
/// in the same epoch and sends its unacknowledged deltas first); and counts this start in the
/// durable boot counter, before anything is published, so two starts never share a boot number.
/// A layout it does not know is left untouched for [`load`] to refuse.
pub(super) fn initialise(
    db: &Database,
    path: &Path,
    store: &str,
) -> Result<Initialised, StoreError> {
    let txn = db.begin_write().at(path)?;
    let mut done = Initialised {
        created: false,
        upgraded_from: None,
        boot: 0,
    };
    let mut unknown = false;
    {
        let mut text = txn.open_table(META_TEXT).at(path)?;
        let mut meta = txn.open_table(META).at(path)?;
        done.created = text.get(TEXT_EPOCH).at(path)?.is_none();
        if done.created {
            let epoch = new_epoch(path)?;
            text.insert(TEXT_EPOCH, epoch.as_str()).at(path)?;
            text.insert(TEXT_STORE, store).at(path)?;
            meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION).at(path)?;
            meta.insert(META_NEXT_SEQ, 1).at(path)?;
            meta.insert(META_OUTBOX_BYTES, 0).at(path)?;
            meta.insert(META_FOLDED_DELTAS, 0).at(path)?;
            meta.insert(META_HISTORY_BYTES, 0).at(path)?;
        } else {
            let version = meta.get(META_SCHEMA_VERSION).at(path)?.map(|v| v.value());
            if version == Some(SCHEMA_VERSION_1) {
                meta.insert(META_BOOT, 0).at(path)?;
                meta.insert(META_HISTORY_BYTES, 0).at(path)?;
                meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION).at(path)?;
                done.upgraded_from = version;
            } else if version != Some(SCHEMA_VERSION) {
                unknown = true;
            }
        }
        if !unknown {
            done.boot = meta.get(META_BOOT).at(path)?.map_or(0, |v| v.value()) + 1;
            meta.insert(META_BOOT, done.boot).at(path)?;
            txn.open_table(TAGS).at(path)?;
            txn.open_table(COUNTS).at(path)?;
            txn.open_table(OUTBOX).at(path)?;
            txn.open_table(HISTORY).at(path)?;
        }
    }
    if unknown {
        txn.abort().at(path)?;
    } else {
        txn.commit().at(path)?;
    }
    Ok(done)
}

/// Whose state the database holds: refused when it is another store's; recorded (true) when the
/// database predates the record (it was created by a build that did not write one).
pub(super) fn claim(db: &Database, path: &Path, store: &str) -> Result<bool, StoreError> {
    let recorded = {
        let txn = db.begin_read().at(path)?;
        let text = txn.open_table(META_TEXT).at(path)?;
        let name = text.get(TEXT_STORE).at(path)?;
        name.map(|v| v.value().to_owned())
    };
    match recorded {
        Some(recorded) if recorded == store => Ok(false),
        Some(recorded) => Err(StoreError::OtherStore {
            path: path.to_owned(),
            recorded,
            configured: store.to_owned(),
        }),
        None => {
            let txn = db.begin_write().at(path)?;
            txn.open_table(META_TEXT)
                .at(path)?
                .insert(TEXT_STORE, store)
                .at(path)?;
            txn.commit().at(path)?;
            Ok(true)
        }
    }
}

fn corrupt(path: &Path, detail: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        detail,
    }
}

/// Loads metadata and tags and checks: schema version, counts = recount of tags, outbox bytes and seqs.
pub(super) fn load(db: &Database, path: &Path) -> Result<(Meta, Vec<StoredTag>), StoreError> {
    let txn = db.begin_read().at(path)?;
    let meta = read_meta(&txn, path)?;

    // Interning keeps one allocation per distinct zone and SKU, not per tag.
    let mut names: HashMap<String, Arc<str>> = HashMap::new();
    let mut intern = |s: &str| -> Arc<str> {
        match names.get(s) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = s.into();
                names.insert(s.to_owned(), a.clone());
                a
            }
        }
    };
    let tags_table = txn.open_table(TAGS).at(path)?;
    let mut tags = Vec::with_capacity(usize::try_from(tags_table.len().at(path)?).unwrap_or(0));
    let mut recount: HashMap<(Arc<str>, Arc<str>), u32> = HashMap::new();
    for entry in tags_table.iter().at(path)? {
        let (epc, record) = entry.at(path)?;
        let epc = epc.value();
        let record = TagRecord::decode(record.value()).map_err(|e| {
            corrupt(
                path,
                format!("tag record of {:X} does not decode: {e}", Hex(epc)),
            )
        })?;
        let tag = StoredTag {
            epc: epc.into(),
            zone: intern(record.zone),
            sku: intern(record.sku),
        };
        *recount
            .entry((tag.zone.clone(), tag.sku.clone()))
            .or_insert(0) += 1;
        tags.push(tag);
    }

    let counts_table = txn.open_table(COUNTS).at(path)?;
    let mut stored_cells = 0usize;
    for entry in counts_table.iter().at(path)? {
        let (key, count) = entry.at(path)?;
        let (zone, sku) = key.value();
        let count = count.value();
        let recounted = recount
            .get(&(Arc::from(zone), Arc::from(sku)))
            .copied()
            .unwrap_or(0);
        if count != recounted {
            return Err(corrupt(
                path,
                format!("count of {zone}/{sku} is {count} but {recounted} tags are there"),
            ));
        }
        stored_cells += 1;
    }
    if stored_cells != recount.len() {
        return Err(corrupt(
            path,
            format!(
                "{} (zone, sku) cells hold tags but {stored_cells} counts are stored",
                recount.len()
            ),
        ));
    }

    let outbox = txn.open_table(OUTBOX).at(path)?;
    let mut bytes = 0u64;
    for entry in outbox.iter().at(path)? {
        let (seq, payload) = entry.at(path)?;
        let seq = seq.value();
        if seq == 0 || seq >= meta.next_seq {
            return Err(corrupt(
                path,
                format!(
                    "outbox holds seq {seq} but the next seq is {}",
                    meta.next_seq
                ),
            ));
        }
        bytes += payload.value().len() as u64;
    }
    if bytes != meta.outbox_bytes {
        return Err(corrupt(
            path,
            format!(
                "outbox holds {bytes} bytes but {} are accounted",
                meta.outbox_bytes
            ),
        ));
    }
    let history = txn.open_table(HISTORY).at(path)?;
    let mut history_bytes = 0u64;
    for entry in history.iter().at(path)? {
        let (seq, record) = entry.at(path)?;
        if seq.value() >= meta.next_seq {
            return Err(corrupt(
                path,
                format!(
                    "history holds seq {} but the next seq is {}",
                    seq.value(),
                    meta.next_seq
                ),
            ));
        }
        history_bytes += record.value().1.len() as u64;
    }
    if history_bytes != meta.history_bytes {
        return Err(corrupt(
            path,
            format!(
                "history holds {history_bytes} bytes but {} are accounted",
                meta.history_bytes
            ),
        ));
    }
    if let Some(r) = meta.resync {
        if r.first_seq == 0 || r.first_seq > r.last_seq || r.last_seq >= meta.next_seq {
            return Err(corrupt(
                path,
                format!(
                    "resync range {}..={} does not fit next seq {}",
                    r.first_seq, r.last_seq, meta.next_seq
                ),
            ));
        }
    }
    Ok((meta, tags))
}

/// What the store's accounting should be for the file as it is: next seq, outbox deltas, outbox
/// bytes and resync range (compared after a reopen; see the module doc's Failure section).
pub(super) fn accounting(
    db: &Database,
    path: &Path,
) -> Result<(u64, u64, u64, Option<Resync>), StoreError> {
    let txn = db.begin_read().at(path)?;
    let meta = read_meta(&txn, path)?;
    let deltas = txn.open_table(OUTBOX).at(path)?.len().at(path)?;
    Ok((meta.next_seq, deltas, meta.outbox_bytes, meta.resync))
}

/// The metadata tables, checked for presence and version.
fn read_meta(txn: &ReadTransaction, path: &Path) -> Result<Meta, StoreError> {
    let meta_table = txn.open_table(META).at(path)?;
    let number = |key: &str| -> Result<Option<u64>, StoreError> {
        Ok(meta_table.get(key).at(path)?.map(|v| v.value()))
    };
    let required = |key: &str| -> Result<u64, StoreError> {
        number(key)?.ok_or_else(|| corrupt(path, format!("metadata {key} is missing")))
    };
    let version = required(META_SCHEMA_VERSION)?;
    if version != SCHEMA_VERSION {
        return Err(StoreError::UnsupportedSchema {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let epoch = txn
        .open_table(META_TEXT)
        .at(path)?
        .get(TEXT_EPOCH)
        .at(path)?
        .map(|v| v.value().to_owned())
        .ok_or_else(|| corrupt(path, "metadata epoch is missing".into()))?;
    let resync = match (number(META_RESYNC_FIRST)?, number(META_RESYNC_LAST)?) {
        (Some(first_seq), Some(last_seq)) => Some(Resync {
            first_seq,
            last_seq,
        }),
        (None, None) => None,
        _ => return Err(corrupt(path, "resync range is half written".into())),
    };
    // Layout 2 counts boots; `count_boot` reads and grows it.
    required(META_BOOT)?;
    let meta = Meta {
        epoch,
        next_seq: required(META_NEXT_SEQ)?,
        outbox_bytes: required(META_OUTBOX_BYTES)?,
        folded_deltas: required(META_FOLDED_DELTAS)?,
        resync,
        history_bytes: required(META_HISTORY_BYTES)?,
        snapshot_parts: number(META_SNAPSHOT_PARTS)?.unwrap_or(0),
    };
    if meta.next_seq == 0 {
        return Err(corrupt(path, "next seq is 0, seqs start at 1".into()));
    }
    Ok(meta)
}
