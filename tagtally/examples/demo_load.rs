//! CPU and memory of the daemon alone under the demo store's load: the demo's emulated readers and
//! broker run in this process, `tagtally run` (release binary) in its own, sampled from /proc.
//!
//! Run: `cargo build --release -p tagtally && cargo run --release -p tagtally --example demo_load
//! [-- SECONDS [ITEMS]]`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tagtally_sim::r2000::R2000Module;
use tagtally_sim::thingmagic::ThingMagicModule;
use tagtally_sim::{LlrpSim, SerialListen, SerialSim, SerialSimOptions};
use tagtally_tooling::demo::broker;
use tagtally_tooling::demo::runner::demo_config;
use tagtally_tooling::demo::store_model::{generate, StoreSpec};

fn tagtally_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("tagtally"))
        .expect("target dir")
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// A `/proc/PID/status` value in kB.
fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn reads_per_sec(socket: &Path) -> f64 {
    let out = Command::new(tagtally_binary())
        .args(["status", "--json", "--socket"])
        .arg(socket)
        .output()
        .expect("tagtally status");
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| v["reads_per_sec"].as_f64())
        .unwrap_or(0.0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let items: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3000);
    let store = generate(&StoreSpec {
        items,
        ..StoreSpec::default()
    });
    let broker = tokio::task::spawn_blocking(broker::start)
        .await
        .expect("join")
        .expect("broker");
    let llrp = LlrpSim::start("127.0.0.1:0", store.llrp.clone())
        .await
        .expect("llrp emulator");
    let loopback: SocketAddr = ([127, 0, 0, 1], 0).into();
    let tm = SerialSim::start(
        ThingMagicModule::new(&store.thingmagic),
        &store.thingmagic,
        SerialListen::Tcp(loopback),
        SerialSimOptions::default(),
    )
    .await
    .expect("thingmagic emulator");
    let r2k = SerialSim::start(
        R2000Module::new(&store.r2000),
        &store.r2000,
        SerialListen::Tcp(loopback),
        SerialSimOptions::default(),
    )
    .await
    .expect("r2000 emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("tagtally.toml");
    let addr = |s: &SerialSim| s.endpoint().tcp.expect("tcp");
    std::fs::write(
        &config,
        demo_config(dir.path(), broker, llrp.addr(), addr(&tm), addr(&r2k)),
    )
    .expect("config");
    let mut child = Command::new(tagtally_binary())
        .args(["run", "-c"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tagtally run (build it first)");
    let pid = child.id();
    let socket = dir.path().join("control.sock");
    // The opening count (thousands of arrivals at once) is not the steady state: measure after it.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (t0, c0) = (Instant::now(), cpu_ticks(pid));
    let mut rates = Vec::new();
    for _ in 0..seconds / 5 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        rates.push(reads_per_sec(&socket));
    }
    let (elapsed, ticks) = (t0.elapsed().as_secs_f64(), cpu_ticks(pid) - c0);
    // Linux USER_HZ is 100 on every architecture tagtally targets.
    let cpu = ticks as f64 / 100.0 / elapsed * 100.0;
    let mean_rate = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    println!(
        "daemon under the demo load ({} items, {mean_rate:.0} reads/s): {cpu:.1} % of one core over {elapsed:.0}s; RSS {} kB (peak {} kB)",
        store.items.len(),
        status_kb(pid, "VmRSS:"),
        status_kb(pid, "VmHWM:")
    );
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
}
