//! A ghost flood against the real `tagtally run` (issue 12): one LLRP peer reports never-repeated EPCs
//! as fast as it can for 20 s while a second reader's real tags keep arriving. Memory stays bounded by
//! the candidate cap, the second reader's tags all count, and `tagtally readers` names the flooder.

mod run_support;
mod uplink_support;

use std::time::Duration;

use run_support::config_text::ConfigText;
use run_support::{counts, poll, Daemon, COMPANY};
use tagtally::engine::DEFAULT_MIN_CANDIDATES;
use tagtally_reader_drivers::Epc;
use tagtally_sim::ghosts::GhostSpec;
use tagtally_sim::llrp::LlrpSim;
use tagtally_sim::scenario::{Scenario, TagSpec};
use tagtally_tooling::demo::sgtin::{gtin_of, sgtin96};
use tokio::time::Instant;

/// How long the flood runs.
const FLOOD: Duration = Duration::from_secs(20);
/// Tags the quiet reader sees.
const REAL_TAGS: u64 = 30;
/// The item they are.
const ITEM: u32 = 300_001;
/// Peak RSS allowed: the candidate table at its default cap (≈ 17 MiB), the engine's bounded input
/// channel full of the largest batches, and the daemon's ordinary working set (87 MiB measured in
/// all). Without the cap, this flood's candidates alone need a table of 2^21 buckets (136 MiB).
const RSS_BOUND_BYTES: u64 = 128 * 1024 * 1024;

/// The daemon's peak resident set so far (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

fn config(dir: &std::path::Path, flooder: &LlrpSim, quiet: &LlrpSim) -> String {
    ConfigText::new("ghost-test", dir, &dir.join("state"))
        .presence("arrive-reads = 2\narrive-window = \"30s\"\ndepart-after = \"10m\"")
        .zone("floor")
        .zone("backroom")
        .llrp("flooder", flooder.addr(), "1 = \"floor\"")
        .llrp("quiet", quiet.addr(), "1 = \"backroom\"")
        .mqtt("mqtt://127.0.0.1:9", "flush-interval = \"250ms\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ghost_flood_from_one_reader_stays_bounded_and_the_other_readers_tags_arrive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ghosts = Scenario::default();
    ghosts.inventory.read_rate = 500.0;
    ghosts.ghosts = Some(GhostSpec {
        per_round: 2_000,
        epc_bytes: 12,
        antenna: 1,
    });
    let flooder = LlrpSim::start("127.0.0.1:0", ghosts)
        .await
        .expect("start the flooding emulator");
    let tags = (1..=REAL_TAGS)
        .map(|serial| {
            let epc = Epc::from_slice(&sgtin96(COMPANY, ITEM, serial)).unwrap();
            TagSpec::fixed(epc, &[1], -55.0)
        })
        .collect();
    let quiet = LlrpSim::start("127.0.0.1:0", Scenario::with_tags(tags))
        .await
        .expect("start the quiet emulator");
    let daemon = Daemon::start(
        dir.path(),
        &config(dir.path(), &flooder, &quiet),
        "ghost.log",
    );
    let pid = daemon.pid();

    let started = Instant::now();
    // The quiet reader's tags arrive while the flood is on.
    let sku = gtin_of(COMPANY, ITEM);
    poll("the quiet reader's tags under the flood", FLOOD, || async {
        let stock = daemon.json("stock", &[]).await?;
        let c = counts(&stock);
        (c.get(&("backroom".to_owned(), sku.clone())) == Some(&REAL_TAGS)).then_some(())
    })
    .await;
    let mut peak = peak_rss(pid);
    while started.elapsed() < FLOOD {
        peak = peak.max(peak_rss(pid));
        assert!(
            peak <= RSS_BOUND_BYTES,
            "peak RSS {peak} bytes after {:?} of flood; log:\n{}",
            started.elapsed(),
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent = flooder.stats().reads_sent;
    let readers = daemon.json("readers", &[]).await.expect("readers answer");
    let stock = daemon.json("stock", &[]).await.expect("stock answers");
    eprintln!(
        "ghost flood: {sent} ghost reads sent in {:?}, daemon peak RSS {:.1} MiB",
        started.elapsed(),
        peak as f64 / 1_048_576.0
    );

    let by_name = |name: &str| {
        readers
            .as_array()
            .or_else(|| readers["readers"].as_array())
            .expect("readers")
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .expect("reader listed")
    };
    let evicted = by_name("flooder")["candidates_evicted"].as_u64().unwrap();
    // Ghosts stay candidates for the 30 s arrival window, so twice the cap sent means it was reached.
    assert!(
        sent > 2 * DEFAULT_MIN_CANDIDATES as u64,
        "the flood must outgrow the cap: {sent} reads sent"
    );
    assert!(evicted > 0, "the cap was reached and counted: {readers}");
    assert_eq!(by_name("quiet")["candidates_evicted"], 0, "{readers}");
    // No ghost became stock, and the real tags are all still there.
    let c = counts(&stock);
    assert_eq!(
        c.get(&("backroom".to_owned(), sku.clone())),
        Some(&REAL_TAGS)
    );
    assert!(
        c.iter().all(|((zone, _), n)| zone != "floor" || *n == 0),
        "{c:?}"
    );
    assert!(
        peak <= RSS_BOUND_BYTES,
        "peak RSS {peak} bytes above {RSS_BOUND_BYTES}"
    );
}
