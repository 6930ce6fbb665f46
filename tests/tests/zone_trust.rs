//! Scenario (SPEC §10 zone trust, issue 15): an antenna goes silent without any event while the
//! other antenna of its reader keeps reading — once on a reader without sentinels (the read-rate
//! baseline decides), once on a reader whose antenna has a sentinel tag. Each time the zone goes stale
//! within `suspect-after`, keeps exactly its counts for 3 × `depart-after`, and is fresh and exact
//! again when the antenna reads again. Before that, a zone whose items leave one by one drains to zero
//! and never goes stale. HQ sees it all (suspect antennas in `readers/{reader}`), every payload
//! valid against the published schemas, and its replay equals the stock.

use std::time::{Duration, Instant};

use serde_json::Value;
use tagtally_sim::scenario::Scenario;
use tagtally_sim::Fault;
use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::{gtin, population_prefix, sgtin96};
use tagtally_tests::recorder::Recorder;
use tagtally_tests::schemas::assert_payload_valid;
use tagtally_tests::store::{Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{diff, hq_agrees, stock_reaches};
use tagtally_tests::{wait, Counts, ScenarioDir};

const STORE: &str = "trusting-store";
const DEPART_AFTER: Duration = Duration::from_secs(3);
/// The default: half the shortest `depart-after`.
const SUSPECT_AFTER: Duration = Duration::from_millis(1500);
/// A flush (250 ms), the CLI's round trip and a poll on top of `suspect-after`.
const STALE_MARGIN: Duration = Duration::from_millis(1500);
const SENTINEL: &str = "E2801160600002000000A0F1";
/// The entrance's items, leaving one every 1.5 s from 20 s on.
const LEAVERS: u64 = 12;
const ENTRANCE_ITEM: u32 = 700_012;

/// Two populations, one per antenna, plus `extra` TOML.
fn two_shelves(item1: u32, count1: u32, item2: u32, count2: u32, extra: &str) -> Scenario {
    let mut text = String::from("[inventory]\nread-rate = 4.0\n");
    for (item, count, antenna) in [(item1, count1, 1), (item2, count2, 2)] {
        if count == 0 {
            continue;
        }
        text.push_str(&format!(
            "\n[[population]]\ncount = {count}\nepc-prefix = \"{}\"\nfirst-serial = 1\n\
             rssi = -55.0\nantennas = [{antenna}]\n",
            population_prefix(item, 7)
        ));
    }
    text.push_str(extra);
    Scenario::parse(&text).expect("scenario")
}

fn plan() -> StorePlan {
    let leavers: String = (0..LEAVERS)
        .map(|i| {
            let epc: String = sgtin96(ENTRANCE_ITEM, i + 1)
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect();
            format!(
                "\n[[tag]]\nepc = \"{epc}\"\nantennas = [2]\nrssi = -55.0\nleave = \"{}ms\"\n",
                20_000 + i * 1500
            )
        })
        .collect();
    let sentinel = format!("\n[[tag]]\nepc = \"{SENTINEL}\"\nantennas = [2]\nrssi = -50.0\n");
    StorePlan {
        store: STORE.to_owned(),
        readers: vec![
            ReaderPlan::new(
                "ceiling",
                Kind::Llrp,
                &[(1, "floor"), (2, "stockroom")],
                two_shelves(700_000, 60, 700_004, 40, ""),
            ),
            ReaderPlan {
                sentinels: [(2, vec![SENTINEL.to_owned()])].into(),
                ..ReaderPlan::new(
                    "rail",
                    Kind::Llrp,
                    &[(1, "fitting-rooms"), (2, "backroom")],
                    two_shelves(700_008, 20, 700_016, 30, &sentinel),
                )
            },
            ReaderPlan::new(
                "door",
                Kind::Llrp,
                &[(1, "window"), (2, "entrance")],
                two_shelves(700_020, 10, 0, 0, &leavers),
            ),
        ],
        sku_map: Vec::new(),
        presence: format!(
            "arrive-reads = 2\narrive-window = \"2s\"\ndepart-after = \"{}s\"\n",
            DEPART_AFTER.as_secs()
        ),
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    }
}

fn stale(status: &Value) -> Vec<String> {
    status["stale_zones"]
        .as_array()
        .map(|zs| {
            zs.iter()
                .filter_map(|z| z.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The trust of `reader`'s `antenna` as `readers --json` shows it.
async fn antenna_trust(daemon: &Daemon, reader: &str, antenna: u64) -> Result<Value, String> {
    let readers = daemon.cli("readers", &[]).await?;
    readers
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == reader))
        .and_then(|r| r["antennas"].as_array())
        .and_then(|a| a.iter().find(|a| a["antenna"] == antenna))
        .map(|a| a["trust"].clone())
        .ok_or_else(|| format!("{reader} antenna {antenna} not listed"))
}

/// Polls for `hold` that the stock is exactly `truth` and the stale zones exactly `stale_zones`.
async fn exact_for(daemon: &Daemon, truth: &Counts, hold: Duration, stale_zones: &[&str]) {
    let since = Instant::now();
    wait::until(
        &format!("stock exact and stale zones {stale_zones:?} for {hold:?}"),
        hold * 2 + Duration::from_secs(5),
        || async {
            let (_, counts) = daemon.stock().await?;
            assert!(
                &counts == truth,
                "counts moved while they must hold: {}",
                diff(truth, &counts)
            );
            let stale = stale(&daemon.cli("status", &[]).await?);
            assert_eq!(stale, stale_zones, "stale zones");
            if since.elapsed() >= hold {
                Ok(())
            } else {
                Err(format!("exact for {:?}", since.elapsed()))
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_antennas_make_zones_stale_and_gradual_emptying_still_drains() {
    let dir = ScenarioDir::new("zone-trust");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let store = RunningStore::start(plan(), dir.path()).await;
    let truth = store.plan.truth();
    assert!(
        !truth.keys().any(|(zone, _)| zone == "entrance"),
        "the plan empties the entrance"
    );
    assert!(
        !truth.keys().any(|(_, sku)| sku == "unknown"),
        "the sentinel is no stock"
    );
    let mut daemon = Daemon::start(
        dir.path(),
        &store.config(&format!("mqtt://{}", broker.addr), &store.reader_names()),
    );
    daemon.ready().await;

    // 1. The entrance fills, then empties one item at a time: it drains and is never stale.
    let mut with_entrance: Counts = truth.clone();
    with_entrance.insert(("entrance".to_owned(), gtin(ENTRANCE_ITEM)), LEAVERS);
    stock_reaches(&daemon, &with_entrance, Duration::from_secs(20)).await;
    wait::until(
        "the entrance to drain item by item",
        Duration::from_secs(60),
        || async {
            let status = daemon.cli("status", &[]).await?;
            let stale = stale(&status);
            assert!(
                stale.is_empty(),
                "a zone went stale while items left one by one: {stale:?}"
            );
            let (_, counts) = daemon.stock().await?;
            let entrance = counts
                .get(&("entrance".to_owned(), gtin(ENTRANCE_ITEM)))
                .copied()
                .unwrap_or(0);
            if counts == truth {
                Ok(())
            } else {
                Err(format!("entrance {entrance}: {}", diff(&truth, &counts)))
            }
        },
    )
    .await;
    let trust = antenna_trust(&daemon, "door", 2).await.expect("door trust");
    assert_eq!(trust["state"], "trusted", "{trust}");

    // 2. Antenna 2 of the ceiling (no sentinels) and of the rail (a sentinel) go silent, no event.
    for reader in ["ceiling", "rail"] {
        assert!(store.llrp(reader).inject(Fault::AntennaSilence {
            antenna: 2,
            silent: true,
        }));
    }
    let cut = Instant::now();
    wait::until(
        "stockroom and backroom stale",
        SUSPECT_AFTER + STALE_MARGIN * 4,
        || async {
            let status = daemon.cli("status", &[]).await?;
            let stale = stale(&status);
            if stale.contains(&"stockroom".to_owned()) && stale.contains(&"backroom".to_owned()) {
                Ok(())
            } else {
                Err(format!("stale {stale:?}"))
            }
        },
    )
    .await;
    let took = cut.elapsed();
    assert!(
        took <= SUSPECT_AFTER + STALE_MARGIN,
        "stale {took:?} after the cut, configured {SUSPECT_AFTER:?}"
    );
    let status = daemon.cli("status", &[]).await.expect("status");
    let zone = |name: &str| {
        status["zone_trust"]
            .as_array()
            .and_then(|z| z.iter().find(|z| z["zone"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} in zone_trust: {status}"))
    };
    assert_eq!(
        (
            zone("stockroom")["antennas"].as_u64(),
            zone("stockroom")["healthy"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(zone("floor")["healthy"].as_u64(), Some(1));
    assert!(
        zone("stockroom")["baseline_per_sec"]
            .as_f64()
            .unwrap_or(0.0)
            > 0.0
    );
    let ceiling = antenna_trust(&daemon, "ceiling", 2).await.expect("trust");
    assert_eq!(
        (ceiling["state"].as_str(), ceiling["sentinels"].as_u64()),
        (Some("suspect"), Some(0))
    );
    let rail = antenna_trust(&daemon, "rail", 2).await.expect("trust");
    assert_eq!(
        (rail["state"].as_str(), rail["sentinels"].as_u64()),
        (Some("suspect"), Some(1))
    );

    // Nothing departs for 3 × depart-after: the counts stay the truth at every poll.
    exact_for(
        &daemon,
        &truth,
        DEPART_AFTER * 3,
        &["stockroom", "backroom"],
    )
    .await;

    // 3. The antennas read again: fresh at once, and still exactly the truth.
    for reader in ["ceiling", "rail"] {
        assert!(store.llrp(reader).inject(Fault::AntennaSilence {
            antenna: 2,
            silent: false,
        }));
    }
    wait::until(
        "every zone fresh again",
        Duration::from_secs(10),
        || async {
            let stale = stale(&daemon.cli("status", &[]).await?);
            if stale.is_empty() {
                Ok(())
            } else {
                Err(format!("stale {stale:?}"))
            }
        },
    )
    .await;
    stock_reaches(&daemon, &truth, Duration::from_secs(10)).await;
    // Past depart-after again: nothing of the recovered zones leaves either.
    exact_for(&daemon, &truth, DEPART_AFTER + Duration::from_secs(1), &[]).await;

    // 4. HQ: every payload valid, the suspect antennas were published, the replay equals the stock.
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    assert_eq!(hq.counts, truth);
    let messages = recorder.messages();
    for m in &messages {
        assert_payload_valid(&m.topic, &m.payload);
    }
    for reader in ["ceiling", "rail"] {
        let topic = format!("readers/{reader}");
        let suspect = messages
            .iter()
            .filter(|m| m.topic.ends_with(&topic))
            .any(|m| {
                serde_json::from_slice::<Value>(&m.payload).is_ok_and(|v| {
                    v["antennas"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|a| a["trust"]["state"] == "suspect"))
                })
            });
        assert!(suspect, "HQ never saw {reader}'s antenna 2 suspect");
    }
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    let status = daemon.stop().await;
    assert!(
        status.success(),
        "SIGTERM exit: {status}; log:\n{}",
        daemon.log()
    );
}
