//! Scenario: readers fail in the four ways stores see — an LLRP link dropped, a half-open LLRP
//! reader that stops its keepalives, an LLRP reader refusing our ROSpec, a serial module unplugged
//! and replugged. Each time the reader is marked down, its zone goes stale and its counts stay exactly
//! as they were — for longer than `depart-after`, so a drain would show — and when the reader is back
//! the zone is fresh and the store still equals the ground truth. HQ's replay agrees at the end.

use std::time::{Duration, Instant};

use serde_json::Value;
use tagtally_sim::Fault;
use tagtally_tests::broker::Broker;
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::population_prefix;
use tagtally_tests::recorder::Recorder;
use tagtally_tests::store::{Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::verdict::{diff, hq_agrees, stock_reaches};
use tagtally_tests::{wait, Counts, ScenarioDir};

use tagtally_sim::scenario::Scenario;

const STORE: &str = "faulty-store";
/// Longer than `depart-after` (3 s) by a margin: a zone that drained would have drained by then.
const STALE_FOR: Duration = Duration::from_secs(7);

fn shelf(item: u32, count: u32, read_rate: f64) -> Scenario {
    let text = format!(
        "[inventory]\nread-rate = {read_rate}\n\n[[population]]\ncount = {count}\n\
         epc-prefix = \"{}\"\nfirst-serial = 1\nrssi = -55.0\n",
        population_prefix(item, 7)
    );
    Scenario::parse(&text).expect("scenario")
}

fn plan() -> StorePlan {
    StorePlan {
        store: STORE.to_owned(),
        readers: vec![
            ReaderPlan::new(
                "ceiling",
                Kind::Llrp,
                &[(1, "floor")],
                shelf(600_000, 150, 4.0),
            ),
            ReaderPlan::new(
                "stockroom",
                Kind::Llrp,
                &[(1, "stockroom")],
                shelf(600_004, 120, 4.0),
            ),
            ReaderPlan {
                // Unplugged for longer than depart-after.
                replug_after: STALE_FOR * 2,
                ..ReaderPlan::new(
                    "till",
                    Kind::ThingMagic,
                    &[(1, "fitting-rooms")],
                    shelf(600_008, 40, 4.0),
                )
            },
        ],
        sku_map: Vec::new(),
        presence: "arrive-reads = 2\narrive-window = \"2s\"\ndepart-after = \"3s\"\n".to_owned(),
        mqtt: "flush-interval = \"250ms\"\nreconnect-backoff-max = \"1s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    }
}

/// `readers --json` entry of `name`.
async fn reader(daemon: &Daemon, name: &str) -> Result<Value, String> {
    let readers = daemon.cli("readers", &[]).await?;
    readers
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == name).cloned())
        .ok_or_else(|| format!("{name} not listed"))
}

fn is_stale(status: &Value, zone: &str) -> bool {
    status["stale_zones"]
        .as_array()
        .is_some_and(|zs| zs.iter().any(|z| z == zone))
}

/// Waits until `reader` is down and `zone` stale, then keeps checking for `STALE_FOR` that the
/// counts are exactly `truth` at every poll. Returns every reason the link gave for being down.
async fn stale_but_intact(
    daemon: &Daemon,
    reader_name: &str,
    zone: &str,
    truth: &Counts,
) -> String {
    let reason = wait::until(
        &format!("{reader_name} down, {zone} stale"),
        Duration::from_secs(30),
        || async {
            let r = reader(daemon, reader_name).await?;
            let status = daemon.cli("status", &[]).await?;
            if r["link"]["state"] == "down" && is_stale(&status, zone) {
                Ok(r["link"]["reason"].as_str().unwrap_or_default().to_owned())
            } else {
                Err(format!(
                    "link {}, stale {}",
                    r["link"], status["stale_zones"]
                ))
            }
        },
    )
    .await;
    let since = Instant::now();
    let reasons = std::sync::Mutex::new(vec![reason]);
    wait::until(
        &format!("{zone} to stay stale for {STALE_FOR:?}"),
        STALE_FOR * 4,
        || async {
            if let Some(reason) = reader(daemon, reader_name).await?["link"]["reason"].as_str() {
                let mut reasons = reasons.lock().unwrap();
                if !reasons.iter().any(|r| r == reason) {
                    reasons.push(reason.to_owned());
                }
            }
            let (_, counts) = daemon.stock().await?;
            assert!(
                &counts == truth,
                "{zone} stale, but counts moved: {}",
                diff(truth, &counts)
            );
            let status = daemon.cli("status", &[]).await?;
            if !is_stale(&status, zone) {
                // It came back early: the check is void, say so.
                panic!("{zone} was stale for only {:?}", since.elapsed());
            }
            if since.elapsed() >= STALE_FOR {
                Ok(())
            } else {
                Err(format!("stale for {:?}", since.elapsed()))
            }
        },
    )
    .await;
    reasons.into_inner().unwrap().join(" | ")
}

/// Waits until `reader` is up again and no zone is stale; the counts are still the truth.
async fn recovered(daemon: &Daemon, reader_name: &str, truth: &Counts) {
    wait::until(
        &format!("{reader_name} back"),
        Duration::from_secs(60),
        || async {
            let r = reader(daemon, reader_name).await?;
            let status = daemon.cli("status", &[]).await?;
            if r["link"]["state"] == "up"
                && status["stale_zones"]
                    .as_array()
                    .is_some_and(|z| z.is_empty())
            {
                Ok(())
            } else {
                Err(format!(
                    "link {}, stale {}",
                    r["link"], status["stale_zones"]
                ))
            }
        },
    )
    .await;
    stock_reaches(daemon, truth, Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_failures_leave_zones_stale_never_drained() {
    let dir = ScenarioDir::new("faults");
    let broker = Broker::start().await;
    let recorder = Recorder::start(broker, STORE).await;
    let store = RunningStore::start(plan(), dir.path()).await;
    let truth = store.plan.truth();
    let mut daemon = Daemon::start(
        dir.path(),
        &store.config(&format!("mqtt://{}", broker.addr), &store.reader_names()),
    );
    daemon.ready().await;
    stock_reaches(&daemon, &truth, Duration::from_secs(60)).await;

    // 1. The ceiling reader's link is dropped: it reconnects by itself, nothing moves.
    let before = store.llrp("ceiling").stats().connections_accepted;
    assert!(store.llrp("ceiling").inject(Fault::DropConnection));
    wait::until(
        "the ceiling reader to reconnect",
        Duration::from_secs(30),
        || async {
            let connections = store.llrp("ceiling").stats().connections_accepted;
            let r = reader(&daemon, "ceiling").await?;
            if connections > before && r["link"]["state"] == "up" {
                Ok(())
            } else {
                Err(format!("{connections} connections, link {}", r["link"]))
            }
        },
    )
    .await;
    recovered(&daemon, "ceiling", &truth).await;

    // 2. Half-open: the stockroom reader goes silent (no reads, no keepalives, socket open).
    let log_before = daemon.log().len();
    assert!(store.llrp("stockroom").inject(Fault::GoSilent {
        duration: STALE_FOR + Duration::from_secs(4),
    }));
    let reasons = stale_but_intact(&daemon, "stockroom", "stockroom", &truth).await;
    // `readers` shows the latest reason: the reconnect after the dead link is refused while the
    // reader still holds the silent connection, and that refusal can replace the keepalive
    // reason (a backoff's full jitter later) before the zone is first seen stale. The journal
    // keeps every link-down.
    let log = daemon.log();
    let keepalive_logged = log
        .get(log_before..)
        .unwrap_or_default()
        .lines()
        .any(|line| {
            line.contains("stockroom") && line.contains("link down") && line.contains("keepalive")
        });
    assert!(
        reasons.contains("keepalive") || keepalive_logged,
        "half-open reasons: {reasons}; log:\n{log}"
    );
    recovered(&daemon, "stockroom", &truth).await;

    // 3. The till's serial module is unplugged, and plugged back in after a while.
    let plugged = store.serial("till").endpoint().plug_count;
    store.serial("till").inject(Fault::DropConnection);
    stale_but_intact(&daemon, "till", "fitting-rooms", &truth).await;
    recovered(&daemon, "till", &truth).await;
    assert!(
        store.serial("till").endpoint().plug_count > plugged,
        "the module was replugged"
    );

    // 4. The ceiling reader refuses our ROSpec for a while after a reconnect.
    assert!(store.llrp("ceiling").inject(Fault::RejectAddRospec {
        status: 100,
        description: "rospec limit reached".to_owned(),
        times: 4,
    }));
    assert!(store.llrp("ceiling").inject(Fault::DropConnection));
    // The outage begins with the dropped connection; the reconnects after it are refused.
    let reasons = stale_but_intact(&daemon, "ceiling", "floor", &truth).await;
    assert!(reasons.contains("ADD_ROSPEC"), "refusal reason: {reasons}");
    recovered(&daemon, "ceiling", &truth).await;

    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    recorder.dump(&dir.path().join("hq.jsonl")).expect("dump");
    // Stale zones were frozen, never emptied: every delta HQ got only ever added stock.
    assert_eq!(hq.counts, truth);
    let status = daemon.stop().await;
    assert!(
        status.success(),
        "SIGTERM exit: {status}; log:\n{}",
        daemon.log()
    );
}
