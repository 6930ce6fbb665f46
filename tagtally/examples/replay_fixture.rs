//! Prepares a store for measuring `cmd/replay` (docs/PERFORMANCE.md): a state database whose history
//! holds N acknowledged deltas of 3 changes each (a typical flush), and a config for `tagtally run`
//! that publishes to the given broker and has no reachable reader.
//!
//! Run: `cargo run -p tagtally --example replay_fixture -- DIR N mqtt://127.0.0.1:PORT`, then start
//! the daemon on `DIR/tagtally.toml` (release build) and send `cmd/replay` for `1..=N`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tagtally::engine::{CountChange, Delta, Placement, TagChange};
use tagtally::store::{Store, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Epc, Micros};
use tagtally_tooling::demo::sgtin::{gtin_of, sgtin96};

const STORE: &str = "replay-bench";
const COMPANY: u32 = 614_141;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: replay_fixture DIR N BROKER_URL";
    let dir = PathBuf::from(args.next().expect(usage));
    let n: u64 = args.next().and_then(|n| n.parse().ok()).expect(usage);
    let broker = args.next().expect(usage);
    let state = dir.join("state");
    std::fs::create_dir_all(&state).expect("create the state dir");
    let store = Store::open(
        &state.join(DATABASE_FILE),
        StoreOptions::new(STORE, 1 << 30),
    )
    .expect("open the state database")
    .store;
    // Recent times: the history keeps deltas for `history-max-age` (7 days) only.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_micros() as u64;
    let zone: Arc<str> = Arc::from("floor");
    // Each change must continue its pair's count (the store checks it).
    let mut counts: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    for seq in 1..=n {
        let mut changes = Vec::new();
        let mut tag_changes = Vec::new();
        for k in 0..3u32 {
            let item = 100_000 + (seq as u32 * 3 + k) % 500;
            let sku: Arc<str> = Arc::from(gtin_of(COMPANY, item));
            let count = counts.entry(item).or_insert(0);
            *count += 1;
            changes.push(CountChange {
                zone: Arc::clone(&zone),
                sku: Arc::clone(&sku),
                delta: 1,
                count: *count,
            });
            let epc = Epc::from_slice(&sgtin96(COMPANY, item, seq * 3 + u64::from(k)))
                .expect("96-bit epc");
            tag_changes.push(TagChange {
                epc,
                placement: Some(Placement {
                    zone: Arc::clone(&zone),
                    sku,
                }),
                departure: None,
            });
        }
        changes.sort_by(|a, b| a.sku.cmp(&b.sku));
        let delta = Delta {
            time: Micros(now),
            changes,
            tag_changes,
        };
        store.commit(&delta).expect("commit").expect("a delta");
    }
    let seqs: Vec<u64> = (1..=n).collect();
    store.ack_all(&seqs).expect("acknowledge into the history");
    let config = format!(
        "store = \"{STORE}\"\nstate-dir = \"{state}\"\ncontrol-socket = \"{dir}/control.sock\"\n\n\
         [[zone]]\nname = \"floor\"\n\n[[reader]]\nname = \"r1\"\nkind = \"llrp\"\n\
         address = \"127.0.0.1:9\"\nantennas = {{ 1 = \"floor\" }}\n\n\
         [mqtt]\nurl = \"{broker}\"\ncommand-min-interval = \"1s\"\n",
        state = state.display(),
        dir = dir.display(),
    );
    std::fs::write(dir.join("tagtally.toml"), config).expect("write the config");
    println!(
        "{n} deltas in the history of {}, epoch {}; config {}",
        state.join(DATABASE_FILE).display(),
        store.epoch(),
        dir.join("tagtally.toml").display()
    );
}
