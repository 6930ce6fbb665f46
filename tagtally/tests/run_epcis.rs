//! `tagtally epcis` against the real daemon (SPEC §12): the store's arrivals, committed, come back
//! as an EPCIS 2.0 document that validates against GS1's schema, with SGLN locations under the
//! configured GLN, every tag once, and the same events after a restart.

mod epcis_support;
mod run_support;
mod uplink_support;

use std::collections::BTreeSet;
use std::time::Duration;

use epcis_support::{assert_valid, schema};
use run_support::*;
use serde_json::Value;
use uplink_support::start_rumqttd;

/// Every EPC of the document's arrival events, with the bizLocation it arrived at.
fn arrivals(document: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for event in document["epcisBody"]["eventList"]
        .as_array()
        .expect("events")
    {
        assert_eq!(event["bizStep"], "arriving", "{event}");
        assert!(event.get("readPoint").is_none(), "{event}");
        let id = event["eventID"].as_str().expect("eventID");
        assert!(
            id.starts_with("ni:///sha-256;") && id.ends_with("?ver=CBV2.0"),
            "{id}"
        );
        let place = event["bizLocation"]["id"]
            .as_str()
            .expect("bizLocation")
            .to_owned();
        for epc in event["epcList"].as_array().expect("epcList") {
            let epc = epc.as_str().expect("epc").to_owned();
            assert!(epc.starts_with("urn:epc:id:sgtin:0614141."), "{epc}");
            assert!(out.insert((epc, place.clone())), "an epc arrived twice");
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_committed_arrivals_come_back_as_a_valid_epcis_document_across_a_restart() {
    let broker = start_rumqttd(None).await;
    let store = TestStore::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let truth = store.truth_without("fitting-rooms");
    let config = store_config(dir.path(), &store, broker.v311, false)
        + "\n[epcis]\nsgln = \"0614141.00777\"\n";
    let daemon = Daemon::start(dir.path(), &config, "run1.log");
    poll("stock to equal the ground truth", WAIT, || async {
        let s = daemon.json("stock", &[]).await?;
        (counts(&s) == truth).then_some(())
    })
    .await;

    let validator = schema();
    let document = daemon
        .json("epcis", &["--since", "1h"])
        .await
        .unwrap_or_else(|| panic!("tagtally epcis failed\n{}", daemon.log()));
    assert_valid(&validator, &document);
    let arrived = arrivals(&document);
    assert_eq!(arrived.len() as u64, truth.values().sum::<u64>());
    let places: BTreeSet<&str> = arrived.iter().map(|(_, place)| place.as_str()).collect();
    assert_eq!(
        places,
        BTreeSet::from([
            "urn:epc:id:sgln:0614141.00777.backroom",
            "urn:epc:id:sgln:0614141.00777.floor",
        ])
    );
    // A range before the store started holds nothing, and is still a valid document.
    let empty = daemon
        .json("epcis", &["--since", "2h", "--until", "1h"])
        .await
        .expect("an empty range");
    assert_valid(&validator, &empty);
    assert_eq!(empty["epcisBody"]["eventList"], Value::Array(Vec::new()));

    daemon.terminate();
    let mut daemon = daemon;
    assert!(daemon.exit_status(Duration::from_secs(20)).await.success());
    let daemon = Daemon::start(dir.path(), &config, "run2.log");
    let again = poll("epcis after the restart", WAIT, || async {
        daemon.json("epcis", &["--since", "1h"]).await
    })
    .await;
    assert_valid(&validator, &again);
    assert_eq!(
        arrivals(&again),
        arrived,
        "the events survive the restart unchanged"
    );
    assert_eq!(
        again["epcisBody"]["eventList"], document["epcisBody"]["eventList"],
        "same events, same event hashes"
    );
}
