//! Scenario (SPEC §10 "Sales and returns"): the till sells 12 items over MQTT (`cmd/sale`, as a
//! till's system publishes it) after they left the ceiling reader's field. With `depart-after` at
//! ten minutes only the sale can make them depart, and it does in the very next delta; the same
//! `cmd/sale` delivered a second time changes nothing; three sold items brought back (returns) are
//! read again and arrive by the normal rule; `tagtally epcis` shows the sale as CBV's
//! `retail_selling`/`retail_sold`. The end is the emulator's ground truth, and HQ's replay
//! of what it received (every payload, the `cmd/sale` messages included, checked against
//! docs/schemas) agrees with the daemon.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{PresenceSpec, Scenario, TagSpec};
use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::{gtin, sgtin96};
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::{Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "till-store";
const WAIT: Duration = Duration::from_secs(60);
/// On the emulator's clock: the sold items leave the field (carried out of the store) ...
const SOLD_LEAVE: Duration = Duration::from_secs(3);
/// ... and three of them come back (returns).
const RETURNS_APPEAR: Duration = Duration::from_secs(14);

/// Items that stay on the floor all along.
const KEPT: u32 = 610_000;
/// Items sold at the till (serials 1..=12); serials 1..=3 are returned.
const SOLD: u32 = 610_004;
const SOLD_TAGS: u64 = 12;
const RETURNED_TAGS: u64 = 3;

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(item, serial)).expect("96-bit epc")
}

fn hex(item: u32, serial: u64) -> String {
    sgtin96(item, serial)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
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
    tags.extend((1..=SOLD_TAGS).map(|s| TagSpec {
        epc: epc(SOLD, s),
        presence: PresenceSpec {
            leave: Some(SOLD_LEAVE),
            ..always.clone()
        },
    }));
    tags.extend((1..=RETURNED_TAGS).map(|s| TagSpec {
        epc: epc(SOLD, s),
        presence: PresenceSpec {
            appear: RETURNS_APPEAR,
            ..always.clone()
        },
    }));
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
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    }
}

/// The delta of `seq` as HQ received it (bounded wait): (zone, sku) → change.
async fn hq_delta(recorder: &Recorder, seq: u64) -> BTreeMap<(String, String), i64> {
    let delta = wait::until("HQ to receive the sale's delta", WAIT, || async {
        recorder
            .payloads("delta")
            .into_iter()
            .find(|d| d["seq"] == seq)
            .ok_or_else(|| format!("no delta {seq} yet"))
    })
    .await;
    delta["changes"]
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
        .collect()
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
async fn a_sale_over_mqtt_departs_in_the_next_delta_once_and_a_return_arrives_again() {
    let dir = ScenarioDir::new("till");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let started = Instant::now();
    let store = RunningStore::start(plan(), dir.path()).await;
    let truth = store.plan.truth();
    let kept = ("floor".to_owned(), gtin(KEPT));
    let sold = ("floor".to_owned(), gtin(SOLD));
    assert_eq!(
        truth,
        BTreeMap::from([(kept.clone(), 40), (sold.clone(), RETURNED_TAGS)])
    );
    // With `[epcis]` the store keeps its events: the sale must come back as one.
    let config =
        store.config(&format!("mqtt://{}", broker.addr), &store.reader_names()) + "\n[epcis]\n";
    let mut daemon = Daemon::start(dir.path(), &config);
    daemon.ready().await;
    let everything = BTreeMap::from([(kept.clone(), 40), (sold.clone(), SOLD_TAGS)]);
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
    let (before, counts) = daemon.stock().await.expect("stock");
    assert_eq!(counts, everything);

    // The till's sale: every sold tag departs in the next delta, and that delta is nothing else.
    let epcs: Vec<String> = (1..=SOLD_TAGS).map(|s| hex(SOLD, s)).collect();
    let sale = serde_json::json!({"request_id": "till-7-receipt-1042", "epcs": epcs}).to_string();
    recorder.publish("cmd/sale", sale.as_bytes()).await;
    let mut after_sale = everything.clone();
    after_sale.remove(&sold);
    let sale_seq = stock_reaches(&daemon, &after_sale, WAIT).await;
    before_the_returns(started, "the sale departed");
    assert_eq!(sale_seq, before + 1, "the sale is the next delta");
    assert_eq!(
        hq_delta(&recorder, sale_seq).await,
        BTreeMap::from([(sold.clone(), -(SOLD_TAGS as i64))]),
    );

    // EPCIS: the sold tags' departure is a sale in CBV words, not a departure for lack of reads.
    let epcis = daemon
        .cli("epcis", &["--since", "1h"])
        .await
        .expect("tagtally epcis");
    let sales: Vec<&serde_json::Value> = epcis["epcisBody"]["eventList"]
        .as_array()
        .expect("eventList")
        .iter()
        .filter(|e| e["bizStep"] == "retail_selling")
        .collect();
    assert_eq!(sales.len(), 1, "{epcis}");
    assert_eq!(sales[0]["disposition"], "retail_sold");
    assert_eq!(
        sales[0]["epcList"].as_array().map(Vec::len),
        Some(SOLD_TAGS as usize)
    );
    assert!(
        !epcis.to_string().contains("\"departing\""),
        "nothing departed for lack of reads: {epcis}"
    );

    // The same message again (a till retrying): the daemon takes it, finds none of the tags in
    // stock (and counts them), and nothing changes.
    recorder.publish("cmd/sale", sale.as_bytes()).await;
    wait::until("the repeated sale to be handled", WAIT, || async {
        let n = daemon
            .metric("tagtally_sale_epcs_not_present_total")
            .await?;
        if n == SOLD_TAGS as f64 {
            Ok(())
        } else {
            Err(format!("{n} sold epcs not present so far"))
        }
    })
    .await;
    assert_eq!(
        daemon.stock().await.expect("stock"),
        (sale_seq, after_sale.clone()),
        "the repeated sale changed stock"
    );
    before_the_returns(started, "the repeated sale was handled");

    // Returns: read again, they arrive by the normal rule.
    stock_reaches(&daemon, &truth, WAIT).await;
    let departures = daemon
        .cli("stock", &["--departures", "--window", "1h"])
        .await
        .expect("stock --departures");
    let skus = departures["skus"].as_array().expect("skus");
    assert_eq!(skus.len(), 1, "{departures}");
    assert_eq!(
        (
            &skus[0]["sku"],
            &skus[0]["sale"],
            &skus[0]["unseen"],
            &skus[0]["count"]
        ),
        (
            &serde_json::Value::from(gtin(SOLD)),
            &serde_json::Value::from(SOLD_TAGS),
            &serde_json::Value::from(0),
            &serde_json::Value::from(0)
        ),
        "{departures}"
    );
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    assert_eq!(hq.folded, 0);
    let sales_seen = recorder
        .messages()
        .iter()
        .filter(|m| m.topic == "cmd/sale")
        .count();
    assert_eq!(
        sales_seen, 2,
        "HQ's replay checked both sales against cmd_sale.json"
    );
    let status = daemon.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
}
