//! Cycle counts and till sales through the real `tagtally run` (SPEC §10): a handheld (an emulated
//! ThingMagic module with `role = "handheld"`) counts a stockroom no fixed reader covers, HQ sells
//! over `cmd/sale`, a handheld app's export with junk lines is imported, and a count open at a
//! `kill -9` is cancelled by the restart — each checked through the CLI, the control socket and
//! what an HQ subscriber receives (every `count` message validated against docs/schemas). Each
//! finished count is one EPCIS `cycle_counting`/`in_progress` event of every tag it found in its
//! zone, in `tagtally epcis` and on `epcis` (SPEC §12), valid under GS1's EPCIS 2.0 schema.

mod epcis_support;

mod run_support;
mod uplink_support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::time::Duration;

use run_support::*;
use serde_json::Value;
use tagtally_protocol::epc::{self, Kind};
use tagtally_tests::schemas::assert_payload_valid;
use tagtally_tooling::demo::sgtin::{gtin_of, sgtin96};
use tokio::process::Command;
use uplink_support::{start_rumqttd, Subscriber};

const TOPICS: &str = "tagtally/v1/test-store";

/// The test store's config plus a `stockroom` no fixed reader covers and the handheld `sled` (the
/// store's ThingMagic emulator, whose tags are then counted nowhere until a count finds them).
fn config(dir: &std::path::Path, store: &TestStore, broker: std::net::SocketAddr) -> String {
    store_config(dir, store, broker, false).replace(
        "\n[mqtt]",
        &format!(
            r#"
[[zone]]
name = "stockroom"

[[reader]]
name = "sled"
kind = "thingmagic"
address = "{}"
role = "handheld"
antennas = {{ 1 = "stockroom" }}

[mqtt]"#,
            store.serial_addr()
        ),
    ) + "\n[epcis]\nsgln = \"0614141.00777\"\npublish = true\n"
}

/// The EPC in hex of the `serial`-th item of the test store (serials run over `SHELVES` in order).
fn hex_of(item: u32, serial: u64) -> String {
    sgtin96(COMPANY, item, serial)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The EPC as EPCIS lists it (pure-identity URI) of the `serial`-th item.
fn urn_of(item: u32, serial: u64) -> String {
    match epc::decode(&sgtin96(COMPANY, item, serial)).kind {
        Kind::Gs1(id) => id.pure_identity(),
        other => panic!("not a GS1 epc: {other:?}"),
    }
}

/// The count results of an EPCIS document or message (`cycle_counting`/`in_progress` events), as
/// (bizLocation, epcList) in order.
fn count_results(document: &Value) -> Vec<(String, BTreeSet<String>)> {
    document["epcisBody"]["eventList"]
        .as_array()
        .expect("eventList")
        .iter()
        .filter(|e| e["bizStep"] == "cycle_counting" && e["disposition"] == "in_progress")
        .map(|e| {
            let epcs: Vec<String> = e["epcList"]
                .as_array()
                .expect("epcList")
                .iter()
                .map(|epc| epc.as_str().expect("epc").to_owned())
                .collect();
            let set: BTreeSet<String> = epcs.iter().cloned().collect();
            assert_eq!(set.len(), epcs.len(), "an epc twice in one event: {e}");
            assert!(
                e["eventID"].as_str().unwrap().starts_with("ni:///sha-256;"),
                "{e}"
            );
            (e["bizLocation"]["id"].as_str().unwrap().to_owned(), set)
        })
        .collect()
}

const STOCKROOM: &str = "urn:epc:id:sgln:0614141.00777.stockroom";

/// The handheld's tags: the store's fitting-room shelves, as (item, serial).
fn handheld_tags() -> Vec<(u32, u64)> {
    let mut serial = 1;
    let mut out = Vec::new();
    for shelf in SHELVES {
        for _ in 0..shelf.count {
            if shelf.zone == "fitting-rooms" {
                out.push((shelf.item, serial));
            }
            serial += 1;
        }
    }
    out
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

/// `tagtally ARGS --json`: the document, asserting exit 0.
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

/// Asserts that `tagtally ARGS` is refused with exit 65 and a message containing `says`.
async fn refused(daemon: &Daemon, args: &[&str], says: &str) {
    let out = cli(daemon, args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "tagtally {args:?}: {stderr}");
    assert!(stderr.contains(says), "tagtally {args:?}: {stderr}");
}

async fn stock(daemon: &Daemon) -> BTreeMap<(String, String), u64> {
    counts(&cli_json(daemon, &["stock"]).await)
}

/// HQ's side: deltas by seq, the retained `count` messages, each validated against its schema,
/// and the count results of the `epcis` messages (each also valid under GS1's EPCIS schema).
struct Hq {
    deltas: BTreeMap<u64, Value>,
    counts: Vec<Value>,
    count_results: Vec<(String, BTreeSet<String>)>,
    epcis_schema: jsonschema::Validator,
}

impl Default for Hq {
    fn default() -> Self {
        Hq {
            deltas: BTreeMap::new(),
            counts: Vec::new(),
            count_results: Vec::new(),
            epcis_schema: epcis_support::schema(),
        }
    }
}

impl Hq {
    fn take(&mut self, sub: &mut Subscriber) {
        while let Ok(m) = sub.rx.try_recv() {
            if m.payload.is_empty() {
                continue;
            }
            assert_payload_valid(&m.topic, &m.payload);
            let v: Value = serde_json::from_slice(&m.payload).unwrap();
            if m.topic.ends_with("/delta") {
                self.deltas.insert(v["seq"].as_u64().unwrap(), v);
            } else if m.topic == format!("{TOPICS}/count") {
                self.counts.push(v);
            } else if m.topic == format!("{TOPICS}/epcis") {
                epcis_support::assert_valid(&self.epcis_schema, &v);
                self.count_results.extend(count_results(&v));
            }
        }
    }

    /// The counts HQ rebuilds from the deltas.
    fn rebuilt(&self) -> BTreeMap<(String, String), u64> {
        let mut counts = BTreeMap::new();
        for v in self.deltas.values() {
            for c in v["changes"].as_array().unwrap() {
                let key = (
                    c["zone"].as_str().unwrap().to_owned(),
                    c["sku"].as_str().unwrap().to_owned(),
                );
                counts.insert(key, c["count"].as_u64().unwrap());
            }
        }
        counts.retain(|_, n| *n > 0);
        counts
    }

    /// The changes of delta `seq` as (zone, sku) → delta.
    fn changes(&self, seq: u64) -> BTreeMap<(String, String), i64> {
        self.deltas[&seq]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    (
                        c["zone"].as_str().unwrap().to_owned(),
                        c["sku"].as_str().unwrap().to_owned(),
                    ),
                    c["delta"].as_i64().unwrap(),
                )
            })
            .collect()
    }
}

async fn hq_has(hq: &mut Hq, sub: &mut Subscriber, what: &str, check: impl Fn(&Hq) -> bool) {
    poll(what, WAIT, || {
        hq.take(sub);
        let ok = check(hq);
        async move { ok.then_some(()) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_handheld_count_sales_and_an_import_move_stock_only_as_said() {
    let broker = start_rumqttd(None).await;
    let store = TestStore::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sub = Subscriber::connect(broker.v311, "hq-count", &[&format!("{TOPICS}/#")]).await;
    let mut hq = Hq::default();
    let text = config(dir.path(), &store, broker.v311);
    let mut daemon = Daemon::start(dir.path(), &text, "run1.log");

    // The handheld reads its 5 tags all along, yet nothing counts them: only the fixed reader's zones fill.
    let fixed_truth = store.truth_without("fitting-rooms");
    poll("the fixed reader's truth", WAIT, || async {
        (daemon.json("stock", &[]).await.map(|s| counts(&s)) == Some(fixed_truth.clone()))
            .then_some(())
    })
    .await;
    let readers = cli_json(&daemon, &["readers"]).await;
    let sled = readers
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "sled")
        .expect("sled listed");
    assert_eq!(sled["role"], "handheld");
    poll("the handheld's reads", WAIT, || async {
        let status = cli_json(&daemon, &["count", "status"]).await;
        (status["status"]["reads_outside_sessions"].as_u64() > Some(0)).then_some(())
    })
    .await;
    assert_eq!(
        stock(&daemon).await,
        fixed_truth,
        "handheld reads outside a count moved stock"
    );

    // Refusals: each a clear message and exit 65, nothing opened.
    refused(&daemon, &["count", "finish"], "no count is open").await;
    refused(
        &daemon,
        &[
            "count",
            "start",
            "--zone",
            "stockroom",
            "--reader",
            "ceiling",
        ],
        "fixed reader",
    )
    .await;
    refused(
        &daemon,
        &["count", "start", "--zone", "cellar", "--reader", "sled"],
        "zone `cellar` is not configured",
    )
    .await;

    // The count: the sled sees its 5 tags; finishing applies them as one delta.
    cli_json(
        &daemon,
        &["count", "start", "--zone", "stockroom", "--reader", "sled"],
    )
    .await;
    refused(
        &daemon,
        &["count", "import", "--zone", "stockroom", "/dev/null"],
        "already open",
    )
    .await;
    poll("the count to see 5 tags", WAIT, || async {
        let status = cli_json(&daemon, &["count", "status"]).await;
        (status["status"]["open"][0]["seen"] == 5).then_some(())
    })
    .await;
    let finished = cli_json(&daemon, &["count", "finish"]).await;
    let result = &finished["finished"];
    assert_eq!(
        (
            result["seen"].as_u64(),
            result["arrived"].as_u64(),
            result["departed"].as_u64()
        ),
        (Some(5), Some(5), Some(0)),
        "{finished}"
    );
    let count_seq = result["seq"].as_u64().unwrap();
    assert!(count_seq > 0);
    let stockroom = |item: u32| ("stockroom".to_owned(), gtin_of(COMPANY, item));
    let mut truth = fixed_truth.clone();
    truth.insert(stockroom(100_002), 3);
    truth.insert(stockroom(100_005), 2);
    assert_eq!(stock(&daemon).await, truth);
    hq_has(&mut hq, &mut sub, "the count's delta and message", |hq| {
        hq.deltas.contains_key(&count_seq) && !hq.counts.is_empty()
    })
    .await;
    assert_eq!(
        hq.changes(count_seq),
        BTreeMap::from([(stockroom(100_002), 3), (stockroom(100_005), 2)]),
        "the count is one delta, with nothing else in it"
    );
    let message = hq.counts.last().unwrap().clone();
    assert_eq!(message["seq"].as_u64(), Some(count_seq));
    assert_eq!(message["zone"], "stockroom");
    assert_eq!(message["arrived"], 5);

    // The count's result in EPCIS: one cycle_counting/in_progress event of the stockroom listing
    // exactly the 5 tags it found, in `tagtally epcis` and on `epcis`.
    let tags = handheld_tags();
    let counted: BTreeSet<String> = tags.iter().map(|(i, s)| urn_of(*i, *s)).collect();
    assert_eq!(counted.len(), 5);
    let validator = epcis_support::schema();
    let document = daemon
        .json("epcis", &["--since", "1h"])
        .await
        .expect("tagtally epcis");
    epcis_support::assert_valid(&validator, &document);
    assert_eq!(
        count_results(&document),
        vec![(STOCKROOM.to_owned(), counted.clone())],
        "one count result, of what the count found"
    );
    hq_has(&mut hq, &mut sub, "the count's result on epcis", |hq| {
        !hq.count_results.is_empty()
    })
    .await;
    assert_eq!(hq.count_results, vec![(STOCKROOM.to_owned(), counted)]);

    // Sales over MQTT: two of the counted tags and one the store never had.
    let sold = [hex_of(tags[0].0, tags[0].1), hex_of(tags[1].0, tags[1].1)];
    let sale =
        serde_json::json!({"request_id": "till-1", "epcs": [sold[0], sold[1], hex_of(999_999, 1)]});
    sub.publish(&format!("{TOPICS}/cmd/sale"), sale.to_string().as_bytes())
        .await;
    truth.insert(stockroom(tags[0].0), 1);
    poll("the sale to depart", WAIT, || async {
        (stock(&daemon).await == truth).then_some(())
    })
    .await;
    let departures = cli_json(&daemon, &["stock", "--departures", "--window", "1h"]).await;
    let skus = departures["skus"].as_array().unwrap();
    let sold_sku = skus
        .iter()
        .find(|s| s["sku"] == gtin_of(COMPANY, tags[0].0))
        .expect("the sold sku");
    assert_eq!(
        (sold_sku["sale"].as_u64(), sold_sku["unseen"].as_u64()),
        (Some(2), Some(0))
    );

    // A handheld app's export: 2 of the 3 remaining stockroom tags, one new item, duplicates, an
    // undecodable tag and junk lines (about 5 %).
    let mut lines: Vec<String> = Vec::new();
    for (item, serial) in &tags[2..4] {
        for _ in 0..20 {
            lines.push(hex_of(*item, *serial));
        }
    }
    lines.push(hex_of(100_009, 9001));
    lines.push("e28011600000000000000001".to_owned());
    lines.extend(["EPC", "30g4", "307", "", "    "].map(str::to_owned));
    let file = dir.path().join("export.txt");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let import = cli_json(
        &daemon,
        &[
            "count",
            "import",
            "--zone",
            "stockroom",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(import["junk_lines"], 3, "{import}");
    assert_eq!(import["duplicates"], 38, "{import}");
    let result = &import["result"];
    assert_eq!(
        (
            result["seen"].as_u64(),
            result["arrived"].as_u64(),
            result["departed"].as_u64(),
            result["not_decoded"].as_u64()
        ),
        (Some(4), Some(1), Some(1), Some(1)),
        "{import}"
    );
    truth.insert(stockroom(100_005), 1);
    truth.insert(stockroom(100_009), 1);
    assert_eq!(stock(&daemon).await, truth);
    let import_seq = result["seq"].as_u64().unwrap();
    hq_has(&mut hq, &mut sub, "the import's delta", |hq| {
        hq.deltas.contains_key(&import_seq)
    })
    .await;
    assert_eq!(
        hq.changes(import_seq),
        BTreeMap::from([(stockroom(100_005), -1), (stockroom(100_009), 1)])
    );
    // Its result: the two confirmed in place and the arrival; not the undecodable tag, not the
    // one it missed (that one departs, `cycle_counting`/`unknown`).
    let found = BTreeSet::from([
        urn_of(tags[2].0, tags[2].1),
        urn_of(tags[3].0, tags[3].1),
        urn_of(100_009, 9001),
    ]);
    let document = daemon
        .json("epcis", &["--since", "1h"])
        .await
        .expect("tagtally epcis");
    epcis_support::assert_valid(&validator, &document);
    let results = count_results(&document);
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[1], (STOCKROOM.to_owned(), found.clone()));
    hq_has(&mut hq, &mut sub, "the import's result on epcis", |hq| {
        hq.count_results.len() == 2
    })
    .await;
    assert_eq!(hq.count_results[1], (STOCKROOM.to_owned(), found));

    // A count open at kill -9: cancelled by the restart, said so, nothing applied.
    cli_json(
        &daemon,
        &["count", "start", "--zone", "stockroom", "--reader", "sled"],
    )
    .await;
    poll("the count to see tags", WAIT, || async {
        let status = cli_json(&daemon, &["count", "status"]).await;
        (status["status"]["open"][0]["seen"].as_u64() > Some(0)).then_some(())
    })
    .await;
    daemon.kill().await;
    let mut daemon = Daemon::start(dir.path(), &text, "run2.log");
    let status = poll("the restarted daemon", WAIT, || async {
        let out = cli(&daemon, &["count", "status", "--json"]).await;
        if out.status.success() {
            serde_json::from_slice::<Value>(&out.stdout).ok()
        } else {
            None
        }
    })
    .await;
    let cancelled = &status["status"]["cancelled"];
    assert_eq!(cancelled.as_array().map(Vec::len), Some(1), "{status}");
    assert_eq!(cancelled[0]["zone"], "stockroom");
    assert_eq!(cancelled[0]["reason"], "restart");
    assert!(status["status"]["open"].as_array().unwrap().is_empty());
    assert!(daemon
        .log()
        .contains("count session cancelled by the restart"));
    poll("the truth after the restart", WAIT, || async {
        (stock(&daemon).await == truth).then_some(())
    })
    .await;

    // HQ's rebuild agrees with the store.
    let last = cli_json(&daemon, &["stock"]).await["seq"].as_u64().unwrap();
    hq_has(&mut hq, &mut sub, "every delta", |hq| {
        hq.deltas.len() as u64 == last
    })
    .await;
    assert_eq!(hq.rebuilt(), truth);
    daemon.terminate();
    daemon.exit_status(WAIT).await;
}

/// Sold-item timeline of the till test's emulated floor reader, from the emulator's start.
const SOLD_LEAVE: Duration = Duration::from_secs(3);
const RETURNS_APPEAR: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_sales_over_mqtt_depart_at_once_and_twenty_returns_arrive_again() {
    use tagtally_reader_drivers::Epc;
    use tagtally_sim::llrp::LlrpSim;
    use tagtally_sim::scenario::{PresenceSpec, Scenario, TagSpec};
    use tagtally_sim::thingmagic::ThingMagicModule;
    use tagtally_sim::{SerialListen, SerialSim, SerialSimOptions};

    const SOLD_ITEM: u32 = 200_001;
    const KEPT_ITEM: u32 = 200_002;
    let broker = start_rumqttd(None).await;
    let epc = |item, serial| Epc::from_slice(&sgtin96(COMPANY, item, serial)).unwrap();
    // 200 items the till sells, which leave the reader's field at SOLD_LEAVE; 20 of them come back
    // into it at RETURNS_APPEAR (returns); 40 items that stay all along.
    let mut tags: Vec<TagSpec> = (1..=200)
        .map(|serial| TagSpec {
            epc: epc(SOLD_ITEM, serial),
            presence: PresenceSpec {
                antennas: vec![1],
                leave: Some(SOLD_LEAVE),
                ..PresenceSpec::default()
            },
        })
        .collect();
    tags.extend((1..=20).map(|serial| TagSpec {
        epc: epc(SOLD_ITEM, serial),
        presence: PresenceSpec {
            antennas: vec![1],
            appear: RETURNS_APPEAR,
            ..PresenceSpec::default()
        },
    }));
    tags.extend((1..=40).map(|serial| TagSpec::fixed(epc(KEPT_ITEM, serial), &[1], -55.0)));
    let mut scenario = Scenario::with_tags(tags);
    scenario.inventory.read_rate = 10.0;
    let emulator_start = tokio::time::Instant::now();
    let floor = LlrpSim::start("127.0.0.1:0", scenario)
        .await
        .expect("floor emulator");
    // A handheld carried across the floor: it reads 10 of the items the ceiling reader also sees.
    let walk = Scenario::with_tags(
        (1..=10)
            .map(|serial| TagSpec::fixed(epc(KEPT_ITEM, serial), &[1], -40.0))
            .collect(),
    );
    let sled = SerialSim::start(
        ThingMagicModule::new(&walk),
        &walk,
        SerialListen::Tcp("127.0.0.1:0".parse().unwrap()),
        SerialSimOptions::default(),
    )
    .await
    .expect("handheld emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        r#"store = "test-store"
state-dir = "{dir}/state"
control-socket = "{dir}/control.sock"

[presence]
arrive-reads = 2
arrive-window = "5s"
depart-after = "10m"

[[zone]]
name = "floor"

[[zone]]
name = "stockroom"

[[reader]]
name = "ceiling"
kind = "llrp"
address = "{llrp}"
antennas = {{ 1 = "floor" }}
keepalive = "2s"

[[reader]]
name = "sled"
kind = "thingmagic"
address = "{sled}"
role = "handheld"
antennas = {{ 1 = "stockroom" }}

[mqtt]
url = "mqtt://{broker}"
flush-interval = "250ms"
keep-alive = "5s"
"#,
        dir = dir.path().display(),
        llrp = floor.addr(),
        sled = sled.endpoint().tcp.expect("tcp endpoint"),
        broker = broker.v311,
    );
    let mut sub = Subscriber::connect(broker.v311, "hq-till", &[&format!("{TOPICS}/#")]).await;
    let mut hq = Hq::default();
    // A retained sale waiting on the broker (a misconfigured till): the daemon gets it flagged
    // retained when it subscribes, and ignores it.
    let topic = format!("{TOPICS}/cmd/sale");
    let kept_hex = hex_of(KEPT_ITEM, 1);
    sub.publish_retained(&topic, format!(r#"{{"epcs":["{kept_hex}"]}}"#).as_bytes())
        .await;
    let daemon = Daemon::start(dir.path(), &text, "till.log");
    let sold = ("floor".to_owned(), gtin_of(COMPANY, SOLD_ITEM));
    let kept = ("floor".to_owned(), gtin_of(COMPANY, KEPT_ITEM));
    let everything = BTreeMap::from([(sold.clone(), 200), (kept.clone(), 40)]);
    poll("every item to arrive", WAIT, || async {
        (daemon.json("stock", &[]).await.map(|s| counts(&s)) == Some(everything.clone()))
            .then_some(())
    })
    .await;
    // The scripted event, not a guess: after SOLD_LEAVE the sold items are out of the field (and
    // stay in stock for depart-after, 10 min).
    tokio::time::sleep_until(emulator_start + SOLD_LEAVE + Duration::from_millis(500)).await;
    assert!(
        tokio::time::Instant::now() < emulator_start + RETURNS_APPEAR,
        "the machine was too slow for the script"
    );
    assert_eq!(stock(&daemon).await, everything);

    // The handheld reading floor items steals none: not outside a count, and not in a count of
    // the stockroom either, since the ceiling reader read them on the floor just now.
    poll("the handheld's reads", WAIT, || async {
        let status = cli_json(&daemon, &["count", "status"]).await;
        (status["status"]["reads_outside_sessions"].as_u64() > Some(0)).then_some(())
    })
    .await;
    cli_json(
        &daemon,
        &["count", "start", "--zone", "stockroom", "--reader", "sled"],
    )
    .await;
    poll("the handheld to see its 10 tags", WAIT, || async {
        let status = cli_json(&daemon, &["count", "status"]).await;
        (status["status"]["open"][0]["seen"] == 10).then_some(())
    })
    .await;
    let finished = cli_json(&daemon, &["count", "finish", "--zone", "stockroom"]).await;
    let result = &finished["finished"];
    assert_eq!(
        (
            result["kept_elsewhere"].as_u64(),
            result["moved_in"].as_u64(),
            result["seq"].as_u64()
        ),
        (Some(10), Some(0), Some(0)),
        "{finished}"
    );
    assert_eq!(stock(&daemon).await, everything);
    let before = cli_json(&daemon, &["stock"]).await["seq"].as_u64().unwrap();

    // 200 sales, one message each, as a till sends them.
    for serial in 1..=200 {
        let sale = format!(
            r#"{{"request_id":"till-{serial}","epcs":["{}"]}}"#,
            hex_of(SOLD_ITEM, serial)
        );
        sub.publish(&topic, sale.as_bytes()).await;
    }
    let published = tokio::time::Instant::now();
    let mut after_sales = everything.clone();
    after_sales.remove(&sold);
    poll("the sales to depart", WAIT, || async {
        (stock(&daemon).await == after_sales).then_some(())
    })
    .await;
    // Sales wait at most the 250 ms sale interval, then the next flush (250 ms) commits them.
    let took = published.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "sales took {took:?} to depart"
    );
    let last = cli_json(&daemon, &["stock"]).await["seq"].as_u64().unwrap();
    hq_has(&mut hq, &mut sub, "the sales' deltas", |hq| {
        hq.deltas.contains_key(&last)
    })
    .await;
    let mut departed = 0;
    for seq in before + 1..=last {
        for (pair, delta) in hq.changes(seq) {
            assert_eq!(pair, sold, "seq {seq}: only sold items change");
            assert!(delta < 0, "seq {seq}: {delta}");
            departed -= delta;
        }
    }
    assert_eq!(departed, 200);

    // Returns: the 20 items back in the field arrive again by the normal rule.
    let mut returned = after_sales.clone();
    returned.insert(sold.clone(), 20);
    poll("the returns to arrive", WAIT, || async {
        (stock(&daemon).await == returned).then_some(())
    })
    .await;
    let departures = cli_json(&daemon, &["stock", "--departures"]).await;
    let skus = departures["skus"].as_array().unwrap();
    assert_eq!(skus.len(), 1, "{departures}");
    assert_eq!(
        (
            skus[0]["sale"].as_u64(),
            skus[0]["unseen"].as_u64(),
            skus[0]["count"].as_u64()
        ),
        (Some(200), Some(0), Some(0))
    );
    let seq = cli_json(&daemon, &["stock"]).await["seq"].as_u64().unwrap();
    hq_has(&mut hq, &mut sub, "every delta", |hq| {
        hq.deltas.len() as u64 == seq
    })
    .await;
    assert_eq!(hq.rebuilt(), returned);
    let log = daemon.log();
    assert!(
        log.contains("retained command"),
        "the retained sale was not reported"
    );
    daemon.terminate();
}
