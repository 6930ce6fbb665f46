//! Scenario (SPEC §10 "Cycle counts", issue 14): a handheld counts the floor, a zone a fixed
//! ceiling reader covers, and steals no tags. The handheld reads from the start; outside a count
//! its reads move nothing, not even the items under a shelf only it can see. During the count it
//! also reads, weakly through the display, the window's items, which the ceiling reader's second
//! antenna reads all the time: they were read in the window within `move-hysteresis`, so they stay
//! there (`kept_elsewhere`). What the count finds that no fixed reader sees (under the shelf)
//! arrives on the floor, in one delta holding nothing else. The end is the emulators' ground
//! truth, and HQ's replay of what it received (every payload checked against docs/schemas, the
//! `count` message included) agrees with the daemon.

use std::collections::BTreeMap;
use std::time::Duration;

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

const STORE: &str = "handheld-store";
const WAIT: Duration = Duration::from_secs(60);

/// Shirts on the floor, read by the ceiling (antenna 1) and by the handheld.
const SHIRT: u32 = 620_000;
const SHIRTS: u64 = 30;
/// Dresses in the window, read by the ceiling (antenna 2) and, through the display, by the handheld.
const DRESS: u32 = 620_004;
const DRESSES: u64 = 10;
/// Boxes under a metal shelf on the floor: only the handheld reads them.
const BOX: u32 = 620_008;
const BOXES: u64 = 6;

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(item, serial)).expect("96-bit epc")
}

fn tags(item: u32, n: u64, antenna: u16, rssi: f64) -> Vec<TagSpec> {
    (1..=n)
        .map(|s| TagSpec {
            epc: epc(item, s),
            presence: PresenceSpec {
                antennas: vec![antenna],
                rssi,
                ..PresenceSpec::default()
            },
        })
        .collect()
}

/// The ceiling reader: antenna 1 the floor's shirts, antenna 2 the window's dresses.
fn ceiling() -> Scenario {
    let mut all = tags(SHIRT, SHIRTS, 1, -55.0);
    all.extend(tags(DRESS, DRESSES, 2, -55.0));
    let mut s = Scenario::with_tags(all);
    s.inventory.read_rate = 4.0;
    s
}

/// The handheld walking the floor: the shirts, the boxes under the shelf, and the window's
/// dresses far weaker than the ceiling's window antenna reads them.
fn floor_walk() -> Scenario {
    let mut all = tags(SHIRT, SHIRTS, 1, -50.0);
    all.extend(tags(BOX, BOXES, 1, -50.0));
    all.extend(tags(DRESS, DRESSES, 1, -75.0));
    let mut s = Scenario::with_tags(all);
    s.inventory.read_rate = 4.0;
    s
}

fn plan() -> StorePlan {
    StorePlan {
        store: STORE.to_owned(),
        readers: vec![
            ReaderPlan::new(
                "ceiling",
                Kind::Llrp,
                &[(1, "floor"), (2, "window")],
                ceiling(),
            ),
            ReaderPlan::new("sled", Kind::ThingMagic, &[(1, "floor")], floor_walk()).handheld(),
        ],
        sku_map: Vec::new(),
        // The ceiling reads each dress four times a second: well within the 5 s hysteresis, even
        // on a loaded machine.
        presence: "arrive-reads = 2\narrive-window = \"1s\"\ndepart-after = \"10m\"\n\
                   move-hysteresis = \"5s\"\n"
            .to_owned(),
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    }
}

fn cell(zone: &str, item: u32) -> (String, String) {
    (zone.to_owned(), gtin(item))
}

fn figure(result: &Value, key: &str) -> u64 {
    result[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no `{key}` in {result}"))
}

/// The one delta of `seq` as HQ received it (bounded wait): (zone, sku) → change.
async fn hq_delta(recorder: &Recorder, seq: u64) -> BTreeMap<(String, String), i64> {
    let delta = wait::until("HQ to receive the count's delta", WAIT, || async {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handheld_counting_a_zone_a_fixed_reader_covers_steals_no_tags() {
    let dir = ScenarioDir::new("handheld-beside-fixed");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let store = RunningStore::start(plan(), dir.path()).await;
    let truth = store.plan.truth();
    // The plan: the dresses are the window's (the ceiling reads them 20 dB stronger), the boxes
    // the floor's (only the handheld reads them).
    assert_eq!(
        truth,
        Counts::from([
            (cell("floor", SHIRT), SHIRTS),
            (cell("floor", BOX), BOXES),
            (cell("window", DRESS), DRESSES),
        ])
    );
    let mut daemon = Daemon::start(
        dir.path(),
        &store.config(&format!("mqtt://{}", broker.addr), &store.reader_names()),
    );
    daemon.ready().await;

    // Outside a count the handheld's reads are ignored: the fixed reader's view, and no boxes.
    let mut fixed_view = truth.clone();
    fixed_view.remove(&cell("floor", BOX));
    stock_reaches(&daemon, &fixed_view, WAIT).await;
    wait::until("handheld reads outside a count", WAIT, || async {
        let status = daemon.cli_args(&["count", "status"]).await?;
        let ignored = status["status"]["reads_outside_sessions"]
            .as_u64()
            .unwrap_or(0);
        // Every tag the handheld reads, at least twice: the arrive rule would have taken them.
        if ignored >= 2 * (SHIRTS + BOXES + DRESSES) {
            Ok(())
        } else {
            Err(format!("{ignored} ignored reads: {status}"))
        }
    })
    .await;
    let (seq_before_count, stock) = daemon.stock().await.expect("stock");
    assert_eq!(
        stock, fixed_view,
        "the handheld moved stock outside a count"
    );

    // The count of the floor with the handheld: it sees the window's dresses too.
    daemon
        .cli_args(&["count", "start", "--zone", "floor", "--reader", "sled"])
        .await
        .expect("count start");
    let everything = SHIRTS + BOXES + DRESSES;
    wait::until("the handheld's reads in the count", WAIT, || async {
        let status = daemon.cli_args(&["count", "status"]).await?;
        let n = status["status"]["open"][0]["seen"].as_u64().unwrap_or(0);
        if n >= everything {
            Ok(())
        } else {
            Err(format!("{n} seen: {status}"))
        }
    })
    .await;
    let finished = daemon
        .cli_args(&["count", "finish"])
        .await
        .expect("count finish");
    let result = &finished["finished"];
    assert_eq!(
        [
            "seen",
            "arrived",
            "moved_in",
            "departed",
            "not_decoded",
            "kept_elsewhere"
        ]
        .map(|k| figure(result, k)),
        [everything, BOXES, 0, 0, 0, DRESSES],
        "the dresses stay in the window: {finished}"
    );
    let count_seq = figure(result, "seq");
    assert_eq!(count_seq, seq_before_count + 1, "{finished}");
    assert_eq!(
        daemon.stock().await.expect("stock"),
        (count_seq, truth.clone()),
        "after the count: the ground truth"
    );
    assert_eq!(
        hq_delta(&recorder, count_seq).await,
        BTreeMap::from([(cell("floor", BOX), BOXES as i64)]),
        "the count's delta holds the boxes and nothing else"
    );

    // HQ: every payload valid (checked by the replay), the count's message, and the same stock.
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    assert_eq!(hq.counts, truth);
    let message = recorder
        .payloads("count")
        .into_iter()
        .find(|m| m["seq"] == count_seq)
        .expect("HQ has the count's message");
    assert_eq!(
        (
            &message["zone"],
            &message["seen"],
            &message["arrived"],
            &message["moved_in"]
        ),
        (
            &Value::from("floor"),
            &Value::from(everything),
            &Value::from(BOXES),
            &Value::from(0)
        ),
        "{message}"
    );
    let status = daemon.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
}
