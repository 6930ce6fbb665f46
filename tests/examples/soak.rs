//! The soak variant of the scenario suite, run on demand (it is not part of `cargo test`):
//!
//! ```text
//! cargo run --release -p tagtally-tests --example soak -- 30m
//! ```
//!
//! A store with fixed shelves, a door where stock comes and goes forever and a noisy serial till runs
//! for the given time (default 10m) while, every 20 s, one fault strikes at random: the daemon
//! SIGKILLed and restarted, the broker down for 15 s, a reader link dropped, or the till unplugged.
//! After each fault it checks HQ's recording (epoch, byte-identical redelivery, no uncovered gap,
//! every snapshot equal to the replay) and that the seq never went back. At the end the door is
//! retired and the store must settle at the ground truth with HQ agreeing. Prints a summary.

use std::time::{Duration, Instant};

use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{Scenario, TagSpec};
use tagtally_sim::Fault;
use tagtally_tests::broker::{Broker, Gate};
use tagtally_tests::daemon::Daemon;
use tagtally_tests::gs1::sgtin96;
use tagtally_tests::recorder::Recorder;
use tagtally_tests::replay::replay;
use tagtally_tests::store::{Kind, ReaderPlan, RunningStore, StorePlan};
use tagtally_tests::stores::Door;
use tagtally_tests::verdict::{hq_agrees, stock_reaches};
use tagtally_tests::ScenarioDir;

const STORE: &str = "soak-store";
const ROUND: Duration = Duration::from_secs(20);

fn epc(item: u32, serial: u64) -> Epc {
    Epc::from_slice(&sgtin96(item, serial)).expect("96-bit epc")
}

fn shelves() -> Scenario {
    let tags = (0..2000u64)
        .map(|s| {
            TagSpec::fixed(
                epc(700_000 + 4 * (s % 50) as u32, s),
                &[1 + (s % 2) as u16],
                -55.0,
            )
        })
        .collect();
    let mut s = Scenario::with_tags(tags);
    s.inventory.read_rate = 2.0;
    s.reader.antennas = 2;
    s
}

fn door() -> Scenario {
    Door {
        first_item: 710_000,
        tags: 200,
        skus: 40,
        step: Duration::from_millis(50),
        dwell: Duration::from_secs(5),
        period: Duration::from_secs(10),
        read_rate: 4.0,
    }
    .scenario()
}

fn till() -> Scenario {
    let text = "[inventory]\nread-rate = 2.0\n\n[[population]]\ncount = 150\n\
                epc-prefix = \"3034257BF461AE\"\nfirst-serial = 9001\n\n\
                [[fault]]\nat = \"0s\"\nkind = \"line-noise\"\nprobability = 0.03\n";
    Scenario::parse(text).expect("till scenario")
}

#[tokio::main]
async fn main() {
    let duration = std::env::args()
        .nth(1)
        .map(|d| humantime_secs(&d))
        .unwrap_or(Duration::from_secs(600));
    let dir = ScenarioDir::new("soak");
    let broker = Broker::start().await;
    let gate = Gate::start(broker).await;
    let recorder = Recorder::start(broker, STORE).await;
    let plan = StorePlan {
        store: STORE.to_owned(),
        readers: vec![
            ReaderPlan::new(
                "shelves",
                Kind::Llrp,
                &[(1, "floor"), (2, "backroom")],
                shelves(),
            ),
            ReaderPlan::new("door", Kind::Llrp, &[(1, "door")], door()),
            ReaderPlan::new("till", Kind::ThingMagic, &[(1, "fitting-rooms")], till()),
        ],
        sku_map: Vec::new(),
        presence: "arrive-reads = 2\narrive-window = \"3s\"\ndepart-after = \"4s\"\n\
                   move-hysteresis = \"1s\"\n"
            .to_owned(),
        mqtt: "flush-interval = \"500ms\"\nreconnect-backoff-max = \"2s\"\n".to_owned(),
        bleed_margin_db: 10.0,
    };
    let store = RunningStore::start(plan, dir.path()).await;
    let config = store.config(&gate.url(), &["shelves", "door", "till"]);
    let mut daemon = Daemon::start(dir.path(), &config);
    daemon.ready().await;
    let started = Instant::now();
    let mut round = 0u64;
    let mut faults = [0u32; 4];
    let mut last_seq = 0;
    while started.elapsed() < duration {
        round += 1;
        tokio::time::sleep(ROUND).await; // the soak's pace, not a wait for a condition
        let kind = (round * 7919 % 4) as usize;
        faults[kind] += 1;
        match kind {
            0 => {
                daemon.kill().await;
                daemon = Daemon::start(dir.path(), &config);
                daemon.ready().await;
            }
            1 => {
                gate.down();
                tokio::time::sleep(Duration::from_secs(15)).await;
                gate.up();
            }
            2 => {
                store.llrp("door").inject(Fault::DropConnection);
            }
            _ => store.serial("till").inject(Fault::DropConnection),
        }
        let (seq, _) = daemon.stock().await.expect("stock");
        assert!(
            seq >= last_seq,
            "round {round}: seq went back from {last_seq} to {seq}"
        );
        last_seq = seq;
        let r = replay(STORE, &recorder.messages());
        println!(
            "{:>6.0}s round {round}: fault {kind}, daemon seq {seq}, HQ {}",
            started.elapsed().as_secs_f64(),
            match &r {
                Ok(r) => format!(
                    "seq {} ({} deltas, {} redelivered)",
                    r.seq, r.deltas, r.redeliveries
                ),
                Err(e) => format!("catching up: {e}"),
            }
        );
    }
    daemon.stop().await;
    let daemon = Daemon::start(dir.path(), &store.config(&gate.url(), &["shelves", "till"]));
    daemon.ready().await;
    let truth = store.plan.truth_where(|zone| zone != "door");
    stock_reaches(&daemon, &truth, Duration::from_secs(120)).await;
    let hq = hq_agrees(&daemon, broker, &recorder, STORE).await;
    println!(
        "soak passed: {:?}, {round} rounds (kills {}, broker outages {}, link drops {}, unplugs {}), \
         {} deltas, {} redeliveries, {} snapshots checked, {} folded",
        started.elapsed(),
        faults[0],
        faults[1],
        faults[2],
        faults[3],
        hq.deltas,
        hq.redeliveries,
        hq.snapshots_checked,
        hq.folded
    );
}

/// "90s", "10m", "2h" → a duration.
fn humantime_secs(text: &str) -> Duration {
    let (number, unit) = text.split_at(text.trim_end_matches(char::is_alphabetic).len());
    let n: u64 = number.parse().expect("a duration like 90s, 10m or 2h");
    Duration::from_secs(match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        other => panic!("unknown unit {other}"),
    })
}
