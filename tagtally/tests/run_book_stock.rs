//! Book stock through the real `tagtally run` (SPEC §10): zone roles, `tagtally expected import`
//! of a book with 30 planted discrepancies (missing, extra, held only in an `exit` zone),
//! `tagtally reconcile` listing exactly those, bad files refused with the book in force kept,
//! the retained `discrepancies` message HQ receives (validated against docs/schemas) after each
//! change of either side, and the book kept across a restart.

mod run_support;
mod uplink_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use run_support::*;
use serde_json::Value;
use tagtally_tests::schemas::assert_payload_valid;
use tagtally_tooling::demo::sgtin::{gtin_of, sgtin96};
use tokio::process::Command;
use uplink_support::{start_rumqttd, Subscriber};

const TOPICS: &str = "tagtally/v1/test-store";

/// The test store with roles: floor sells, backroom stocks, and the fitting rooms stand in for an
/// exit gate (what is read there is leaving: not on hand).
///
/// `arrive-reads` is 20 (at the emulator's 10 reads a second, ≥ 1.9 s): the tag sold below stays in
/// its reader's field and comes back as a return, and with 2 reads it could come back within the
/// flush of its sale, so the count side's change would never be seen; with 20 it stays sold for
/// several flush intervals, long enough for the `discrepancies` message after the sale.
fn config(dir: &Path, store: &TestStore, broker: std::net::SocketAddr) -> String {
    let config = store_config(dir, store, broker, true);
    assert!(config.contains("arrive-reads = 2\n"), "{config}");
    config
        .replace("arrive-reads = 2\n", "arrive-reads = 20\n")
        .replace(
            "name = \"floor\"\n",
            "name = \"floor\"\nrole = \"sales-floor\"\n",
        )
        .replace(
            "name = \"backroom\"\n",
            "name = \"backroom\"\nrole = \"stockroom\"\n",
        )
        .replace(
            "name = \"fitting-rooms\"\n",
            "name = \"fitting-rooms\"\nrole = \"exit\"\n",
        )
}

async fn cli(daemon: &Daemon, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(args)
        .arg("--socket")
        .arg(&daemon.socket)
        .output()
        .await
        .expect("run the cli")
}

async fn cli_json(daemon: &Daemon, args: &[&str]) -> Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let out = cli(daemon, &with_json).await;
    assert!(
        out.status.success(),
        "tagtally {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// `tagtally expected import FILE` refused with exit 65 and `says` on stderr.
async fn import_refused(daemon: &Daemon, file: &Path, says: &str) {
    let out = cli(daemon, &["expected", "import", file.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{}: {stderr}", file.display());
    assert!(stderr.contains(says), "{}: {stderr}", file.display());
    assert!(stderr.contains("the book stock in force stays"), "{stderr}");
}

fn gtin(item: u32) -> String {
    gtin_of(COMPANY, item)
}

/// The newest complete discrepancies message HQ holds (part 1 is enough while it is short).
#[derive(Default)]
struct Hq {
    discrepancies: Vec<Value>,
}

impl Hq {
    fn take(&mut self, sub: &mut Subscriber) {
        while let Ok(m) = sub.rx.try_recv() {
            if m.payload.is_empty() {
                continue;
            }
            assert_payload_valid(&m.topic, &m.payload);
            if m.topic == format!("{TOPICS}/discrepancies") {
                self.discrepancies
                    .push(serde_json::from_slice(&m.payload).unwrap());
            }
        }
    }
}

/// (sku, difference) of a reconcile reply or a discrepancies message's items.
fn differences(lines: &Value) -> BTreeMap<String, i64> {
    lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["difference"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_book_with_planted_errors_reconciles_to_exactly_those_and_hq_sees_them() {
    let broker = start_rumqttd(None).await;
    let store = TestStore::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sub = Subscriber::connect(broker.v311, "hq-book", &[&format!("{TOPICS}/#")]).await;
    let mut hq = Hq::default();
    let text = config(dir.path(), &store, broker.v311);
    let mut daemon = Daemon::start(dir.path(), &text, "run1.log");
    poll("every tag counted", WAIT, || async {
        (daemon.json("stock", &[]).await.map(|s| counts(&s)) == Some(store.truth.clone()))
            .then_some(())
    })
    .await;

    // Zone roles as configured, shown with the stock.
    let stock = cli_json(&daemon, &["stock"]).await;
    assert_eq!(
        stock["zones"],
        serde_json::json!([
            {"zone": "floor", "role": "sales-floor"},
            {"zone": "backroom", "role": "stockroom"},
            {"zone": "fitting-rooms", "role": "exit"},
        ])
    );
    let table = String::from_utf8(cli(&daemon, &["stock"]).await.stdout).unwrap();
    assert!(
        table.contains("sales-floor") && table.contains("exit"),
        "{table}"
    );

    // No book yet: reconcile says so.
    let out = cli(&daemon, &["reconcile"]).await;
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no book stock"));

    // On hand (floor + backroom; the fitting rooms are an exit): item 1: 32, 2: 9, 3: 5, 4: 7, 5: 0.
    // Planted: item 2 booked 10 (-1), item 4 not booked (+7), item 5 booked 2 but only at the exit
    // (-2), and 27 booked SKUs the store does not hold (-1 to -27): 30 discrepancies.
    let mut planted: BTreeMap<String, i64> = BTreeMap::new();
    let mut csv = String::from("sku,count\n");
    csv.push_str(&format!("{},32\n{},5\n", gtin(100_001), gtin(100_003)));
    csv.push_str(&format!("{},10\r\n{},2\n", gtin(100_002), gtin(100_005)));
    planted.insert(gtin(100_002), -1);
    planted.insert(gtin(100_004), 7);
    planted.insert(gtin(100_005), -2);
    for i in 1..=27u32 {
        csv.push_str(&format!("{},{i}\n", gtin(200_000 + i)));
        planted.insert(gtin(200_000 + i), -i64::from(i));
    }
    let book_file = dir.path().join("book.csv");
    std::fs::write(&book_file, &csv).unwrap();
    let imported = cli_json(
        &daemon,
        &[
            "expected",
            "import",
            "--as-of",
            "2026-12-04",
            book_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(imported["skus"], 31);
    assert_eq!(imported["as_of"], "2026-12-04");
    let book_id = imported["id"].as_str().unwrap().to_owned();

    let reconciled = cli_json(&daemon, &["reconcile"]).await;
    assert_eq!(differences(&reconciled["discrepancies"]), planted);
    assert_eq!(reconciled["agreeing"], 2, "{reconciled}");
    let sizes: Vec<u64> = reconciled["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["difference"].as_i64().unwrap().unsigned_abs())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "sorted: {sizes:?}");
    let human = String::from_utf8(cli(&daemon, &["reconcile"]).await.stdout).unwrap();
    assert!(human.contains("2 agree, 30 differ"), "{human}");

    poll("HQ's discrepancies message", WAIT, || {
        hq.take(&mut sub);
        let found = hq
            .discrepancies
            .iter()
            .rev()
            .find(|d| d["book_id"] == book_id.as_str())
            .cloned();
        async move { found }
    })
    .await;
    let message = hq.discrepancies.last().unwrap().clone();
    assert_eq!(
        (message["part"].as_u64(), message["parts"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(message["total"], 30);
    assert_eq!(differences(&message["items"]), planted);

    // Bad files: each refused with where and why, the book in force untouched.
    for (name, body, says) in [
        (
            "junk.csv",
            "a,1\nthis is not csv\n".to_owned(),
            "line 2: not sku,count",
        ),
        (
            "negative.csv",
            "a,1\nb,-4\n".to_owned(),
            "line 2: a negative count",
        ),
        (
            "twice.csv",
            "a,1\nb,2\na,3\n".to_owned(),
            "line 3: sku `a` is given twice",
        ),
        ("empty.csv", "sku,count\n".to_owned(), "no sku,count line"),
        (
            "many.csv",
            (0..100_001).map(|i| format!("{i},1\n")).collect::<String>(),
            "line 100001: more than 100000 skus",
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        import_refused(&daemon, &file, says).await;
    }
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    import_refused(&daemon, &huge, "larger than a book stock file may be").await;
    let shown = cli_json(&daemon, &["expected", "show"]).await;
    assert_eq!(shown["id"], book_id.as_str(), "{shown}");

    // A change of the count side: one item 1 sold off the floor makes a 31st discrepancy.
    let sold: String = sgtin96(COMPANY, 100_001, 1)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    cli_json(&daemon, &["sale", &sold]).await;
    // (The sold tag stays in its reader's field, so it soon arrives again as a return: the
    // message after the sale is looked for among all HQ got, not only the newest.)
    let after_sale = poll("HQ's discrepancies after the sale", WAIT, || {
        hq.take(&mut sub);
        let found = hq.discrepancies.iter().find(|d| d["total"] == 31).cloned();
        async move { found }
    })
    .await;
    let after_sale = differences(&after_sale["items"]);
    assert_eq!(after_sale.get(&gtin(100_001)), Some(&-1));

    // The book survives a restart.
    daemon.terminate();
    daemon.exit_status(WAIT).await;
    let daemon = Daemon::start(dir.path(), &text, "run2.log");
    let shown = poll("the restarted daemon's book", WAIT, || async {
        let out = cli(&daemon, &["expected", "show", "--json"]).await;
        out.status
            .success()
            .then(|| serde_json::from_slice::<Value>(&out.stdout).ok())
            .flatten()
    })
    .await;
    assert_eq!(shown["id"], book_id.as_str(), "{shown}");
    assert_eq!(shown["skus"], 31);

    // HQ's book, retained in two parts on `expected`: it replaces the import whole, and the books
    // and the count come to agree (the sold tag, still in its reader's field, arrives again: a
    // return, SPEC §10).
    let parts = [
        (
            format!("{TOPICS}/expected"),
            serde_json::json!({"schema": "tagtally.expected/1", "as_of": "2026-12-05",
                "expected_id": "hq-book-1", "part": 1, "parts": 2,
                "items": [{"sku": gtin(100_001), "count": 32}, {"sku": gtin(100_002), "count": 9}]}),
        ),
        (
            format!("{TOPICS}/expected/2"),
            serde_json::json!({"schema": "tagtally.expected/1", "as_of": "2026-12-05",
                "expected_id": "hq-book-1", "part": 2, "parts": 2,
                "items": [{"sku": gtin(100_003), "count": 5}, {"sku": gtin(100_004), "count": 7}]}),
        ),
    ];
    for (topic, payload) in &parts {
        let bytes = serde_json::to_vec(payload).unwrap();
        assert_payload_valid(topic, &bytes);
        sub.publish_retained(topic, &bytes).await;
    }
    let shown = poll("hq's book in force", WAIT, || async {
        let out = cli(&daemon, &["expected", "show", "--json"]).await;
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .filter(|b| b["id"] == "hq-book-1")
    })
    .await;
    assert_eq!(
        (shown["source"].as_str(), shown["skus"].as_u64()),
        (Some("expected"), Some(4))
    );
    poll("HQ's discrepancies for its own book", WAIT, || {
        hq.take(&mut sub);
        let found = hq
            .discrepancies
            .last()
            .filter(|d| d["book_id"] == "hq-book-1" && d["total"] == 0)
            .cloned();
        async move { found }
    })
    .await;
    assert_eq!(reconcile_total(&daemon).await, 0);
}

async fn reconcile_total(daemon: &Daemon) -> usize {
    cli_json(daemon, &["reconcile"]).await["discrepancies"]
        .as_array()
        .unwrap()
        .len()
}
