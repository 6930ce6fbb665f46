//! Scenario (SPEC §10 "Sales and returns", issue 14): the till sells 200 items over MQTT
//! (`cmd/sale`, one message per sale as a till's system publishes them, in bursts of 20) after they
//! left the ceiling reader's field. With `depart-after` at ten minutes only a sale can make them
//! depart, and each does within one flush: the delta carrying it was flushed no later than one sale
//! merge window plus one `flush-interval` (plus a scheduling margin) after the sale was published,
//! and the deltas of the sales hold those departures and nothing else. The same 20 `cmd/sale`
//! messages delivered a second time change nothing; 20 sold items brought back (returns) are read
//! again and arrive by the normal rule; `tagtally epcis` shows the 200 sales as CBV's
//! `retail_selling`/`retail_sold`, and `stock --departures` explains every departure as a sale. The
//! end is the emulator's ground truth, and HQ's replay of what it received (every payload, the
//! `cmd/sale` messages included, checked against docs/schemas) agrees with the daemon.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{PresenceSpec, Scenario, TagSpec};
use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::{gtin, sgtin96};
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::{Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, Counts, ScenarioDir};

const STORE: &str = "till-store";
const WAIT: Duration = Duration::from_secs(60);
/// On the emulator's clock: the sold items leave the field (carried out of the store) ...
const SOLD_LEAVE: Duration = Duration::from_secs(4);
/// ... and 20 of them come back (returns), once every sale is through.
const RETURNS_APPEAR: Duration = Duration::from_secs(20);

/// `[mqtt] flush-interval` of the scenario.
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);
/// Sales arriving within this window reach the engine together (docs/HQ.md `cmd/sale`).
const SALE_MERGE_WINDOW: Duration = Duration::from_millis(250);
/// The broker's hop and a loaded 2-core machine's scheduling, on top of one merge window and one
/// flush. Without the sale the tag would stay for `depart-after`: ten minutes.
const SCHEDULING_MARGIN: Duration = Duration::from_millis(1500);

/// Items that stay on the floor all along.
const KEPT: u32 = 610_000;
/// The sold SKUs: items `SOLD_FIRST..SOLD_FIRST + SOLD_SKUS`, `SOLD_PER_SKU` tags each.
const SOLD_FIRST: u32 = 610_100;
const SOLD_SKUS: u32 = 20;
const SOLD_PER_SKU: u64 = 10;
/// Sales are published in bursts of one item of each sold SKU: burst `b` sells serial `b + 1`.
/// Serial 1 of each SKU (the first burst) is returned.
const BURSTS: u64 = SOLD_PER_SKU;
const SALES: u64 = SOLD_SKUS as u64 * SOLD_PER_SKU;
const RETURNED_SERIAL: u64 = 1;

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(item, serial)).expect("96-bit epc")
}

fn hex(item: u32, serial: u64) -> String {
    sgtin96(item, serial)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn sold_items() -> impl Iterator<Item = u32> {
    SOLD_FIRST..SOLD_FIRST + SOLD_SKUS
}

fn floor() -> Scenario {
    let always = PresenceSpec {
        antennas: vec![1],
        rssi: -55.0,
        ..PresenceSpec::default()
    };
    let mut tags: Vec<TagSpec> = (1..=40)
        .map(|s| TagSpec::fixed(epc(KEPT, s), &[1], -55.0))
        .collect();
    for item in sold_items() {
        tags.extend((1..=SOLD_PER_SKU).map(|s| TagSpec {
            epc: epc(item, s),
            presence: PresenceSpec {
                leave: Some(SOLD_LEAVE),
                ..always.clone()
            },
        }));
        tags.push(TagSpec {
            epc: epc(item, RETURNED_SERIAL),
            presence: PresenceSpec {
                appear: RETURNS_APPEAR,
                ..always.clone()
            },
        });
    }
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 4.0;
    s
}

fn plan() -> StorePlan {
    StorePlan {
        store: STORE.to_owned(),
        readers: vec![ReaderPlan::new(
            "ceiling",
            Kind::Llrp,
            &[(1, "floor")],
            floor(),
        )],
        sku_map: Vec::new(),
        // Ten minutes: nothing departs for lack of reads within the scenario, only by a sale.
        presence: "arrive-reads = 2\narrive-window = \"1s\"\ndepart-after = \"10m\"\n\
                   move-hysteresis = \"1s\"\n"
            .to_owned(),
        mqtt: format!(
            "flush-interval = \"{}ms\"\nreconnect-backoff-max = \"1s\"\n",
            FLUSH_INTERVAL.as_millis()
        ),
        bleed_margin_db: 10.0,
    }
}

fn floor_cell(item: u32) -> (String, String) {
    ("floor".to_owned(), gtin(item))
}

/// One delta as HQ received it: seq, flush time, (zone, sku) → change.
struct HqDelta {
    seq: u64,
    time: SystemTime,
    changes: BTreeMap<(String, String), i64>,
}

fn hq_deltas(recorder: &Recorder) -> Vec<HqDelta> {
    recorder
        .payloads("delta")
        .into_iter()
        .map(|d| HqDelta {
            seq: d["seq"].as_u64().expect("seq"),
            time: humantime::parse_rfc3339(d["time"].as_str().expect("time"))
                .unwrap_or_else(|e| panic!("delta time {}: {e}", d["time"])),
            changes: d["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .map(|c| {
                    (
                        (
                            c["zone"].as_str().expect("zone").to_owned(),
                            c["sku"].as_str().expect("sku").to_owned(),
                        ),
                        c["delta"].as_i64().expect("delta"),
                    )
                })
                .collect(),
        })
        .collect()
}

/// The highest delta seq HQ holds (0: none yet).
fn hq_last_seq(recorder: &Recorder) -> u64 {
    hq_deltas(recorder).iter().map(|d| d.seq).max().unwrap_or(0)
}

/// The `cmd/sale` of one item: one receipt, one EPC.
fn sale(item: u32, serial: u64) -> Vec<u8> {
    serde_json::json!({
        "request_id": format!("till-7-receipt-{item}-{serial}"),
        "epcs": [hex(item, serial)],
    })
    .to_string()
    .into_bytes()
}

/// Publishes burst `burst` (serial `burst + 1` of every sold SKU, one message each) and checks
/// that each sale departs, alone with the burst's other sales, within one flush of its message.
async fn sell_burst(recorder: &Recorder, burst: u64) {
    let serial = burst + 1;
    let before = hq_last_seq(recorder);
    let mut published: BTreeMap<(String, String), SystemTime> = BTreeMap::new();
    for item in sold_items() {
        published.insert(floor_cell(item), SystemTime::now());
        recorder.publish("cmd/sale", &sale(item, serial)).await;
    }
    let deltas = wait::until(
        &format!("HQ to receive the departures of burst {burst}"),
        WAIT,
        || async {
            let after: Vec<HqDelta> = hq_deltas(recorder)
                .into_iter()
                .filter(|d| d.seq > before)
                .collect();
            let mut net: BTreeMap<&(String, String), i64> = BTreeMap::new();
            for d in &after {
                for (cell, change) in &d.changes {
                    *net.entry(cell).or_default() += change;
                }
            }
            let all_gone = published.keys().all(|cell| net.get(cell) == Some(&-1));
            if all_gone {
                Ok(after)
            } else {
                Err(format!("{} cells changed so far: {net:?}", net.len()))
            }
        },
    )
    .await;
    let limit = SALE_MERGE_WINDOW + FLUSH_INTERVAL + SCHEDULING_MARGIN;
    for d in &deltas {
        for (cell, change) in &d.changes {
            let sent = published.get(cell).unwrap_or_else(|| {
                panic!(
                    "delta {} changed {cell:?}, which burst {burst} did not sell",
                    d.seq
                )
            });
            assert_eq!(
                *change, -1,
                "delta {} {cell:?}: one sale, one departure",
                d.seq
            );
            let took = d.time.duration_since(*sent).unwrap_or(Duration::ZERO);
            assert!(
                took <= limit,
                "the sale of {cell:?} (burst {burst}) departed in the flush {took:?} after its \
                 message, more than one merge window, one flush and the margin ({limit:?})"
            );
        }
    }
}

/// Asserts the scenario clock has not yet reached the returns: the script's order holds.
fn before_the_returns(started: Instant, step: &str) {
    assert!(
        started.elapsed() < RETURNS_APPEAR,
        "the machine was too slow for the script: {step} only {:?} in",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sales_over_mqtt_depart_within_a_flush_each_and_returns_arrive_again() {
    let dir = ScenarioDir::new("till");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let started = Instant::now();
    let store = RunningStore::start(plan(), dir.path()).await;
    let truth = store.plan.truth();
    let mut expected_truth: Counts = sold_items().map(|item| (floor_cell(item), 1)).collect();
    expected_truth.insert(floor_cell(KEPT), 40);
    assert_eq!(
        truth, expected_truth,
        "the plan: 40 kept, one return per sold SKU"
    );
    // With `[epcis]` the store keeps its events: the sales must come back as such.
    let config =
        store.config(&format!("mqtt://{}", broker.addr), &store.reader_names()) + "\n[epcis]\n";
    let mut daemon = Daemon::start(dir.path(), &config);
    daemon.ready().await;
    let mut everything: Counts = sold_items()
        .map(|item| (floor_cell(item), SOLD_PER_SKU))
        .collect();
    everything.insert(floor_cell(KEPT), 40);
    stock_reaches(&daemon, &everything, WAIT).await;

    // The sold items are out of the field now, and still in stock: depart-after is ten minutes.
    wait::until("the sold items to leave the field", WAIT, || async {
        if started.elapsed() >= SOLD_LEAVE + Duration::from_millis(500) {
            Ok(())
        } else {
            Err(format!("{:?} into the scenario", started.elapsed()))
        }
    })
    .await;
    let (seq_before_sales, counts) = daemon.stock().await.expect("stock");
    assert_eq!(counts, everything);

    // The till's 200 sales, in bursts: each departs within one flush, and nothing else moves.
    for burst in 0..BURSTS {
        sell_burst(&recorder, burst).await;
    }
    let after_sales: Counts = BTreeMap::from([(floor_cell(KEPT), 40)]);
    let sales_seq = stock_reaches(&daemon, &after_sales, WAIT).await;
    before_the_returns(started, "the sales departed");
    let sale_deltas: Vec<HqDelta> = hq_deltas(&recorder)
        .into_iter()
        .filter(|d| d.seq > seq_before_sales && d.seq <= sales_seq)
        .collect();
    let departed: i64 = sale_deltas.iter().flat_map(|d| d.changes.values()).sum();
    assert_eq!(
        departed,
        -(SALES as i64),
        "the sales' deltas: 200 departures"
    );

    // EPCIS: the sold tags' departures are sales in CBV words, not departures for lack of reads.
    let epcis = daemon
        .cli("epcis", &["--since", "1h"])
        .await
        .expect("tagtally epcis");
    let sold_epcs: usize = epcis["epcisBody"]["eventList"]
        .as_array()
        .expect("eventList")
        .iter()
        .filter(|e| e["bizStep"] == "retail_selling")
        .map(|e| {
            assert_eq!(e["disposition"], "retail_sold", "{e}");
            e["epcList"].as_array().map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(sold_epcs, SALES as usize, "{epcis}");
    assert!(
        !epcis.to_string().contains("\"departing\""),
        "nothing departed for lack of reads: {epcis}"
    );

    // The first burst again (a till retrying): the daemon takes it, finds none of the tags in
    // stock (and counts them), and nothing changes.
    for item in sold_items() {
        recorder
            .publish("cmd/sale", &sale(item, RETURNED_SERIAL))
            .await;
    }
    wait::until("the repeated sales to be handled", WAIT, || async {
        let n = daemon
            .metric("tagtally_sale_epcs_not_present_total")
            .await?;
        if n == f64::from(SOLD_SKUS) {
            Ok(())
        } else {
            Err(format!("{n} sold epcs not present so far"))
        }
    })
    .await;
    assert_eq!(
        daemon.stock().await.expect("stock"),
        (sales_seq, after_sales.clone()),
        "the repeated sales changed stock"
    );
    before_the_returns(started, "the repeated sales were handled");

    // Returns: read again, they arrive by the normal rule.
    stock_reaches(&daemon, &truth, WAIT).await;
    let departures = daemon
        .cli("stock", &["--departures", "--window", "1h"])
        .await
        .expect("stock --departures");
    let skus = departures["skus"].as_array().expect("skus");
    assert_eq!(skus.len(), SOLD_SKUS as usize, "{departures}");
    for line in skus {
        assert_eq!(
            (&line["sale"], &line["unseen"], &line["count"]),
            (&Value::from(SOLD_PER_SKU), &Value::from(0), &Value::from(0)),
            "{departures}"
        );
    }
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    assert_eq!(hq.folded, 0);
    let sales_seen = recorder
        .messages()
        .iter()
        .filter(|m| m.topic == "cmd/sale")
        .count();
    assert_eq!(
        sales_seen,
        (SALES + u64::from(SOLD_SKUS)) as usize,
        "HQ's replay checked every sale against cmd_sale.json"
    );
    let status = daemon.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
}
