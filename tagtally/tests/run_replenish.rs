//! Replenishment through the real `tagtally run` (SPEC §10): a floor emptied of 12 SKUs that the
//! stockroom holds (plus one SKU below its own minimum from `[replenish] min-file`) gives exactly
//! those on `tagtally replenish`, and the list empties, SKU after SKU, as the emulated reader sees
//! one item of each brought out to the floor; HQ gets each list on the retained `replenish` topic, validated against
//! docs/schemas. A bad `min-file` is refused by `check-config` with its line.

mod run_support;
mod uplink_support;

use std::collections::BTreeMap;
use std::time::Duration;

use run_support::config_text::ConfigText;
use run_support::*;
use serde_json::Value;
use tagtally_reader_drivers::Epc;
use tagtally_sim::llrp::LlrpSim;
use tagtally_sim::scenario::{MoveSpec, Scenario, TagSpec};
use tagtally_tests::schemas::assert_payload_valid;
use tagtally_tooling::demo::sgtin::{gtin_of, sgtin96};
use uplink_support::{start_rumqttd, Subscriber};

const TOPICS: &str = "tagtally/v1/pick-store";
/// The twelve SKUs whose floor is empty at first.
const EMPTIED: std::ops::RangeInclusive<u32> = 300_001..=300_012;
/// A SKU with enough on the floor for the default minimum but not for its own (3).
const OWN_MIN: u32 = 300_013;
/// On the floor only: nothing to bring it from.
const FLOOR_ONLY: u32 = 300_014;
/// When the first item is brought out (scenario time): the list must be seen whole before.
const BROUGHT_FROM: Duration = Duration::from_secs(12);

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(COMPANY, item, serial)).unwrap()
}

/// Antenna 1 is the floor, antenna 2 the stockroom. Each emptied SKU has 3 items in the stockroom,
/// one of which goes to the floor at `BROUGHT_FROM` (the SKUs 300 ms apart); `OWN_MIN` has 2 on
/// the floor and 2 in the stockroom, one brought out last.
fn scenario() -> Scenario {
    let mut tags = Vec::new();
    let mut at = BROUGHT_FROM;
    let brought = |epc: Epc, at: Duration| {
        let mut tag = TagSpec::fixed(epc, &[2], -60.0);
        tag.presence.moves.push(MoveSpec {
            at,
            antennas: vec![1],
            rssi: Some(-55.0),
        });
        tag
    };
    for item in EMPTIED {
        tags.push(brought(epc(item, 1), at));
        tags.push(TagSpec::fixed(epc(item, 2), &[2], -60.0));
        tags.push(TagSpec::fixed(epc(item, 3), &[2], -60.0));
        at += Duration::from_millis(300);
    }
    tags.push(TagSpec::fixed(epc(OWN_MIN, 1), &[1], -55.0));
    tags.push(TagSpec::fixed(epc(OWN_MIN, 2), &[1], -55.0));
    tags.push(brought(epc(OWN_MIN, 3), at));
    tags.push(TagSpec::fixed(epc(OWN_MIN, 4), &[2], -60.0));
    tags.push(TagSpec::fixed(epc(FLOOR_ONLY, 1), &[1], -55.0));
    Scenario::with_tags(tags)
}

fn config(
    dir: &std::path::Path,
    reader: std::net::SocketAddr,
    broker: std::net::SocketAddr,
    min_file: &std::path::Path,
) -> String {
    ConfigText::new("pick-store", dir, &dir.join("state"))
        .presence(
            "arrive-reads = 2\narrive-window = \"5s\"\ndepart-after = \"10m\"\nmove-hysteresis = \"1s\"",
        )
        .table("[[zone]]\nname = \"floor\"\nrole = \"sales-floor\"")
        .table("[[zone]]\nname = \"backroom\"\nrole = \"stockroom\"")
        .llrp("ceiling", reader, "1 = \"floor\", 2 = \"backroom\"")
        .table(&format!(
            "[replenish]\nmin-file = \"{}\"",
            min_file.display()
        ))
        .mqtt(
            &format!("mqtt://{broker}"),
            "flush-interval = \"250ms\"\nsnapshot-interval = \"10m\"\nkeep-alive = \"5s\"\n\
             reconnect-backoff-max = \"1s\"",
        )
}

/// (sku, to_bring) of a reply's `lines` or a message's `items`.
fn to_bring(lines: &Value) -> BTreeMap<String, u64> {
    lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["to_bring"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_emptied_floor_is_listed_exactly_and_the_list_empties_as_items_are_brought_out() {
    let broker = start_rumqttd(None).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let min_file = dir.path().join("mins.csv");

    // check-config reads the min-file as run will: a bad line is refused with where.
    std::fs::write(&min_file, "sku,min\nx,1\nx,2\n").unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        config(
            dir.path(),
            "127.0.0.1:1".parse().unwrap(),
            broker.v311,
            &min_file,
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["check-config", "-c"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("min-file") && stderr.contains("line 3: sku `x` is given twice"),
        "{stderr}"
    );

    std::fs::write(
        &min_file,
        format!("sku,min\n{},3\n", gtin_of(COMPANY, OWN_MIN)),
    )
    .unwrap();
    let reader = LlrpSim::start("127.0.0.1:0", scenario())
        .await
        .expect("llrp emulator");
    let mut sub = Subscriber::connect(broker.v311, "hq-pick", &[&format!("{TOPICS}/#")]).await;
    let text = config(dir.path(), reader.addr(), broker.v311, &min_file);
    let daemon = Daemon::start(dir.path(), &text, "run.log");

    let mut expected: BTreeMap<String, u64> =
        EMPTIED.map(|item| (gtin_of(COMPANY, item), 1)).collect();
    expected.insert(gtin_of(COMPANY, OWN_MIN), 1);
    let first = poll("the whole pick list", WAIT, || async {
        daemon
            .json("replenish", &[])
            .await
            .filter(|r| to_bring(&r["lines"]) == expected)
    })
    .await;
    let own = first["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == gtin_of(COMPANY, OWN_MIN))
        .unwrap()
        .clone();
    assert_eq!(
        (own["on_floor"].as_u64(), own["min"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(first["skus_with_own_min"], 1);

    // HQ: every message validated; one of them is this whole list, and the last one is empty.
    let mut lists: Vec<Value> = Vec::new();
    let take = |sub: &mut Subscriber, lists: &mut Vec<Value>| {
        while let Ok(m) = sub.rx.try_recv() {
            if m.payload.is_empty() {
                continue;
            }
            assert_payload_valid(&m.topic, &m.payload);
            if m.topic == format!("{TOPICS}/replenish") {
                lists.push(serde_json::from_slice(&m.payload).unwrap());
            }
        }
    };
    poll("HQ's whole pick list", WAIT, || {
        take(&mut sub, &mut lists);
        let found = lists.iter().any(|l| to_bring(&l["items"]) == expected);
        async move { found.then_some(()) }
    })
    .await;

    poll("the pick list to empty", WAIT, || async {
        daemon
            .json("replenish", &[])
            .await
            .filter(|r| r["lines"].as_array().is_some_and(Vec::is_empty))
    })
    .await;
    poll("HQ's empty pick list", WAIT, || {
        take(&mut sub, &mut lists);
        let found = lists.last().is_some_and(|l| l["total"] == 0);
        async move { found.then_some(()) }
    })
    .await;
    // The list empties as the items come out, one SKU after another: from the whole list on,
    // every list HQ got is a part of the one before, and some lay between whole and empty.
    let whole = lists
        .iter()
        .position(|l| to_bring(&l["items"]) == expected)
        .expect("the whole list");
    let shrinking: Vec<BTreeMap<String, u64>> = lists[whole..]
        .iter()
        .map(|l| to_bring(&l["items"]))
        .collect();
    for pair in shrinking.windows(2) {
        assert!(
            pair[1].iter().all(|(sku, n)| pair[0].get(sku) == Some(n)),
            "a list grew while items were only brought out: {:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    assert!(
        shrinking
            .iter()
            .any(|l| !l.is_empty() && l.len() < expected.len()),
        "no list between the whole one and the empty one: {shrinking:?}"
    );
    let stock = counts(&daemon.json("stock", &[]).await.unwrap());
    for item in EMPTIED {
        assert_eq!(
            stock.get(&("floor".to_owned(), gtin_of(COMPANY, item))),
            Some(&1)
        );
        assert_eq!(
            stock.get(&("backroom".to_owned(), gtin_of(COMPANY, item))),
            Some(&2)
        );
    }
}
