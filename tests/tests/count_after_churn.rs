//! Scenario (SPEC §10 "Cycle counts"): a backroom no fixed reader covers, known from last week's
//! count (a handheld app's export with junk lines, imported), churns while the floor's ceiling
//! reader watches: items are taken to the floor, some vanish from the backroom, a delivery arrives
//! there unseen. A handheld count then makes the backroom right. On the way the daemon is killed
//! with SIGKILL in the middle of a count: the restart cancels it (docs/COUNTS.md §6) and nothing of
//! it is applied. At the end every (zone, SKU) equals the emulators' ground truth, the count is one
//! delta with nothing else in it, and HQ's replay of what it received (every payload checked
//! against docs/schemas) agrees with the daemon.
//!
//! Items taken from the backroom to the floor stay counted in the backroom until the count: nothing
//! leads a tag out of a zone no reader watches (core `zone_choice`), so the ceiling reader's reads
//! do not move them. The count does not find them and they depart (reason `count`); the ceiling
//! reader's next reads make them arrive on the floor by the normal rule.

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use serde_json::Value;
use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{PresenceSpec, Scenario, TagSpec};
use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::{gtin, sgtin96};
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::{Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::{wait, ScenarioDir};

const STORE: &str = "count-store";
/// When the backroom's churn happens, on the emulators' clock.
const CHURN_AT: Duration = Duration::from_secs(6);
const WAIT: Duration = Duration::from_secs(60);

/// Shirts on the floor: 60 stay, 10 more are sold and leave at the churn (serials 61..70).
const SHIRT: u32 = 600_000;
/// Jeans in the backroom: 40 last week, 10 of them (serials 1..10) taken to the floor at the churn.
const JEANS: u32 = 600_004;
/// Socks: a delivery to the floor at the churn (serials 1..8).
const SOCKS: u32 = 600_008;
/// Coats: a delivery to the backroom that no reader sees arrive (serials 1..20).
const COATS: u32 = 600_012;
/// Hats: 15 in the backroom last week, gone since (thrown out, stolen) with no reader seeing it.
const HATS: u32 = 600_016;

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(item, serial)).expect("96-bit epc")
}

fn hex(item: u32, serial: u64) -> String {
    sgtin96(item, serial)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn in_field(
    item: u32,
    serials: std::ops::RangeInclusive<u64>,
    presence: PresenceSpec,
) -> Vec<TagSpec> {
    serials
        .map(|s| TagSpec {
            epc: epc(item, s),
            presence: presence.clone(),
        })
        .collect()
}

/// The floor's ceiling reader (antenna 1).
fn ceiling() -> Scenario {
    let always = PresenceSpec {
        antennas: vec![1],
        rssi: -55.0,
        ..PresenceSpec::default()
    };
    let from_churn = PresenceSpec {
        appear: CHURN_AT,
        ..always.clone()
    };
    let until_churn = PresenceSpec {
        leave: Some(CHURN_AT),
        ..always.clone()
    };
    let mut tags = in_field(SHIRT, 1..=60, always);
    tags.extend(in_field(SHIRT, 61..=70, until_churn));
    tags.extend(in_field(SOCKS, 1..=8, from_churn.clone()));
    tags.extend(in_field(JEANS, 1..=10, from_churn));
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 4.0;
    s
}

/// What the handheld reads in the backroom after the churn: the jeans left there, the unseen
/// delivery, and 5 shirts of the floor through the wall, far weaker than the ceiling reads them.
fn backroom_walk() -> Scenario {
    let here = PresenceSpec {
        antennas: vec![1],
        rssi: -50.0,
        ..PresenceSpec::default()
    };
    let through_the_wall = PresenceSpec {
        rssi: -75.0,
        ..here.clone()
    };
    let mut tags = in_field(JEANS, 11..=40, here.clone());
    tags.extend(in_field(COATS, 1..=20, here));
    tags.extend(in_field(SHIRT, 1..=5, through_the_wall));
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 4.0;
    s
}

/// Handheld tags the count sees: 30 jeans, 20 coats, 5 shirts.
const WALK_TAGS: u64 = 55;

fn plan() -> StorePlan {
    StorePlan {
        store: STORE.to_owned(),
        readers: vec![
            ReaderPlan::new("ceiling", Kind::Llrp, &[(1, "floor")], ceiling()),
            ReaderPlan::new(
                "sled",
                Kind::ThingMagic,
                &[(1, "backroom")],
                backroom_walk(),
            )
            .handheld(),
        ],
        sku_map: Vec::new(),
        presence: "arrive-reads = 2\narrive-window = \"1s\"\ndepart-after = \"2s\"\n\
                   move-hysteresis = \"1s\"\n"
            .to_owned(),
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    }
}

fn cell(zone: &str, item: u32) -> (String, String) {
    (zone.to_owned(), gtin(item))
}

/// Last week's export from the handheld app: 40 jeans and 15 hats, and 3 junk lines (5 %).
fn last_weeks_export(dir: &std::path::Path) -> std::path::PathBuf {
    let mut lines: Vec<String> = (1..=40).map(|s| hex(JEANS, s)).collect();
    lines.extend((1..=15).map(|s| hex(HATS, s)));
    lines.insert(7, "scan error".to_owned());
    lines.insert(30, "30F4A".to_owned());
    lines.push(format!("{}Z", hex(HATS, 99)));
    let path = dir.join("last-week.txt");
    std::fs::write(&path, lines.join("\n")).expect("write the export");
    path
}

fn figure(result: &Value, key: &str) -> u64 {
    result[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no `{key}` in {result}"))
}

/// The one delta of `seq` as HQ received it: (zone, sku) → change.
fn delta_changes(
    recorder: &Recorder,
    seq: u64,
) -> std::collections::BTreeMap<(String, String), i64> {
    let delta = recorder
        .payloads("delta")
        .into_iter()
        .find(|d| d["seq"] == seq)
        .unwrap_or_else(|| panic!("HQ has no delta {seq}"));
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

/// Opens a count of the backroom with the sled and waits until it has seen `seen` tags.
async fn count_until_seen(daemon: &Daemon, seen: u64) {
    daemon
        .cli_args(&["count", "start", "--zone", "backroom", "--reader", "sled"])
        .await
        .expect("count start");
    wait::until("the handheld's reads in the count", WAIT, || async {
        let status = daemon.cli_args(&["count", "status"]).await?;
        let n = status["status"]["open"][0]["seen"].as_u64().unwrap_or(0);
        if n >= seen {
            Ok(())
        } else {
            Err(format!("{n} seen: {status}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handheld_count_after_churn_ends_at_the_ground_truth_and_survives_a_kill() {
    let dir = ScenarioDir::new("count");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let started = Instant::now();
    let store = RunningStore::start(plan(), dir.path()).await;
    let truth = store.plan.truth();
    // The plan says what the day leaves behind: the handheld's view of the backroom, the ceiling's
    // of the floor (the shirts read through the wall are the floor's).
    assert_eq!(truth.get(&cell("floor", SHIRT)), Some(&60));
    assert_eq!(truth.get(&cell("floor", JEANS)), Some(&10));
    assert_eq!(truth.get(&cell("floor", SOCKS)), Some(&8));
    assert_eq!(truth.get(&cell("backroom", JEANS)), Some(&30));
    assert_eq!(truth.get(&cell("backroom", COATS)), Some(&20));
    assert_eq!(truth.get(&cell("backroom", HATS)), None);
    assert_eq!(truth.len(), 5);

    // With `[epcis]`: what the count did not find comes back as `cycle_counting` events.
    let config =
        store.config(&format!("mqtt://{}", broker.addr), &store.reader_names()) + "\n[epcis]\n";
    let mut daemon = Daemon::start(dir.path(), &config);
    daemon.ready().await;

    // Last week's count, imported before the churn: junk lines counted and skipped, the rest
    // applied whole.
    let import = daemon
        .cli_args(&[
            "count",
            "import",
            "--zone",
            "backroom",
            last_weeks_export(dir.path()).to_str().expect("utf-8 path"),
        ])
        .await
        .expect("count import");
    assert_eq!(import["junk_lines"], 3, "{import}");
    let result = &import["result"];
    assert_eq!(
        (figure(result, "seen"), figure(result, "arrived")),
        (55, 55),
        "{import}"
    );
    assert!(
        started.elapsed() < CHURN_AT,
        "the machine was too slow for the script: the import ended {:?} in",
        started.elapsed()
    );

    // The churn: the ceiling reader sees the socks delivered, the sold shirts gone, and the jeans
    // brought from the backroom (which stay counted there: see the module doc); in the backroom
    // nobody sees anything.
    wait::until("the churn", WAIT, || async {
        if started.elapsed() >= CHURN_AT {
            Ok(())
        } else {
            Err(format!("{:?} into the scenario", started.elapsed()))
        }
    })
    .await;
    let mut before_count = truth.clone();
    before_count.remove(&cell("backroom", COATS));
    before_count.remove(&cell("floor", JEANS));
    before_count.insert(cell("backroom", JEANS), 40);
    before_count.insert(cell("backroom", HATS), 15);
    stock_reaches(&daemon, &before_count, WAIT).await;

    // kill -9 in the middle of a count: the restart cancels it, says so, and applies nothing.
    count_until_seen(&daemon, 1).await;
    let status = daemon.kill().await;
    assert_eq!(status.signal(), Some(9), "{status}");
    let mut daemon = Daemon::start(dir.path(), &config);
    daemon.ready().await;
    let counts = daemon
        .cli_args(&["count", "status"])
        .await
        .expect("count status");
    let cancelled = &counts["status"]["cancelled"];
    assert_eq!(cancelled.as_array().map(Vec::len), Some(1), "{counts}");
    assert_eq!(cancelled[0]["zone"], "backroom", "{counts}");
    assert_eq!(cancelled[0]["reason"], "restart", "{counts}");
    assert_eq!(counts["status"]["open"].as_array().map(Vec::len), Some(0));
    assert!(
        daemon
            .log()
            .contains("count session cancelled by the restart"),
        "the cancelled count is not in the log"
    );
    let (seq_after_restart, stock_after_restart) = daemon.stock().await.expect("stock");
    assert_eq!(
        stock_after_restart, before_count,
        "the killed count changed stock"
    );

    // The count, whole: the backroom becomes what the handheld saw, in one delta; the jeans on the
    // floor then arrive there.
    count_until_seen(&daemon, WALK_TAGS).await;
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
        [WALK_TAGS, 20, 0, 25, 0, 5],
        "{finished}"
    );
    let count_seq = figure(result, "seq");
    assert!(count_seq > seq_after_restart, "{finished}");
    stock_reaches(&daemon, &truth, WAIT).await;

    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    assert_eq!(hq.folded, 0);
    assert_eq!(
        delta_changes(&recorder, count_seq),
        [
            (cell("backroom", JEANS), -10),
            (cell("backroom", COATS), 20),
            (cell("backroom", HATS), -15)
        ]
        .into_iter()
        .collect(),
        "the count's delta holds the count and nothing else"
    );
    let message = recorder
        .payloads("count")
        .into_iter()
        .find(|m| m["seq"] == count_seq)
        .expect("HQ has the count's message");
    assert_eq!(
        (&message["zone"], &message["arrived"], &message["departed"]),
        (&Value::from("backroom"), &Value::from(20), &Value::from(25)),
        "{message}"
    );
    let epcis = daemon
        .cli("epcis", &["--since", "1h"])
        .await
        .expect("tagtally epcis");
    let events = epcis["epcisBody"]["eventList"]
        .as_array()
        .expect("eventList");
    let counting = |disposition: &str| -> Vec<usize> {
        events
            .iter()
            .filter(|e| e["bizStep"] == "cycle_counting" && e["disposition"] == disposition)
            .map(|e| e["epcList"].as_array().map_or(0, Vec::len))
            .collect()
    };
    let missing: usize = counting("unknown").iter().sum();
    assert_eq!(missing, 25, "the count's departures in EPCIS: {epcis}");
    // Each applied count's result (SPEC §12), every tag it found in the backroom: last week's
    // import (40 jeans, 15 hats) and today's count (the 30 jeans left, the 20 coats delivered).
    // The count killed on the way left none.
    assert_eq!(
        counting("in_progress"),
        vec![55, 50],
        "the counts' results in EPCIS: {epcis}"
    );
    let shrink = daemon
        .cli("stock", &["--departures", "--window", "1h"])
        .await
        .expect("stock --departures");
    let hats = shrink["skus"]
        .as_array()
        .expect("skus")
        .iter()
        .find(|s| s["sku"] == gtin(HATS))
        .unwrap_or_else(|| panic!("no hats in {shrink}"));
    assert_eq!(
        (&hats["count"], &hats["unseen"]),
        (&Value::from(15), &Value::from(0)),
        "{shrink}"
    );

    let status = daemon.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
}
