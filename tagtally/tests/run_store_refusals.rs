//! The state database `tagtally run` refuses (issue 12): an empty file, a truncated one, another store's;
//! each exits 65 with the way out and leaves the file as it was. A database of the layout before store
//! names were recorded is adopted, once, with a log line.

mod run_support;
mod uplink_support;

use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, TableDefinition};
use run_support::config_text::{run_to_exit as run, unreachable_config};
use tagtally::store::{Store, StoreError, StoreOptions, DATABASE_FILE};

/// The store's metadata strings (`store/tables.rs`), as an older build or another tool sees them.
const META_TEXT: TableDefinition<&str, &str> = TableDefinition::new("meta_text");

fn options(store: &str) -> StoreOptions {
    StoreOptions::new(store, 1 << 20)
}

/// A directory with a config for store `s1` and its (not yet created) database path.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let config = dir.path().join("tagtally.toml");
    std::fs::write(&config, unreachable_config(dir.path(), &state, "")).unwrap();
    let db = state.join(DATABASE_FILE);
    (dir, config, db)
}

fn assert_refused(config: &Path, way_out: &str) -> String {
    let out = run(config);
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(65), "{text}");
    assert!(text.contains(way_out), "{text}\nlacks {way_out:?}");
    text
}

/// [`assert_refused`] for a file redb cannot open: not a byte of it changes.
fn assert_refused_untouched(config: &Path, db: &Path, way_out: &str) -> String {
    let before = std::fs::read(db).unwrap();
    let text = assert_refused(config, way_out);
    assert!(
        std::fs::read(db).unwrap() == before,
        "the refused file changed"
    );
    text
}

#[test]
fn an_empty_database_file_is_refused_not_taken_for_a_first_install() {
    let (_dir, config, db) = setup();
    std::fs::write(&db, b"").unwrap();
    let text = assert_refused_untouched(
        &config,
        &db,
        &format!("mv {p} {p}.broken", p = db.display()),
    );
    assert!(text.contains("empty"), "{text}");
}

#[test]
fn a_truncated_database_is_refused_with_the_way_out() {
    let (_dir, config, db) = setup();
    drop(Store::open(&db, options("s1")).expect("create"));
    let file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    file.set_len(100).unwrap();
    drop(file);
    assert_refused_untouched(
        &config,
        &db,
        &format!("mv {p} {p}.broken", p = db.display()),
    );
}

#[test]
fn another_stores_database_is_refused_naming_both_stores() {
    let (_dir, config, db) = setup();
    let epoch = Store::open(&db, options("lyon-02"))
        .expect("create")
        .store
        .epoch()
        .to_owned();
    let text = assert_refused(
        &config,
        &format!("mv {p} {p}.other-store", p = db.display()),
    );
    let after = Store::open(&db, options("lyon-02")).expect("still lyon-02's");
    assert_eq!(after.store.epoch(), epoch, "its epoch is kept");
    assert!(
        text.contains("\"lyon-02\"") && text.contains("\"s1\""),
        "{text}"
    );
}

#[test]
fn a_database_without_a_recorded_store_name_is_adopted_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let opened = Store::open(&db, options("s1")).expect("create");
    assert!(opened.created && !opened.adopted_store_name);
    drop(opened);
    // The layout before store names: no `store` in `meta_text`.
    {
        let raw = redb::Database::open(&db).unwrap();
        let txn = raw.begin_write().unwrap();
        {
            let mut table = txn.open_table(META_TEXT).unwrap();
            let removed = table.remove("store").unwrap();
            assert_eq!(removed.map(|v| v.value().to_owned()).as_deref(), Some("s1"));
        }
        txn.commit().unwrap();
    }
    let opened = Store::open(&db, options("s2")).expect("adopt");
    assert!(opened.adopted_store_name && !opened.created);
    drop(opened);
    {
        let raw = redb::Database::open(&db).unwrap();
        let txn = raw.begin_read().unwrap();
        let table = txn.open_table(META_TEXT).unwrap();
        assert_eq!(table.get("store").unwrap().unwrap().value(), "s2");
    }
    let again = Store::open(&db, options("s2")).expect("reopen");
    assert!(!again.adopted_store_name, "adopted once only");
    drop(again);
    match Store::open(&db, options("s1")) {
        Err(StoreError::OtherStore {
            recorded,
            configured,
            ..
        }) => assert_eq!((recorded.as_str(), configured.as_str()), ("s2", "s1")),
        other => panic!("expected OtherStore, got {other:?}"),
    }
}
