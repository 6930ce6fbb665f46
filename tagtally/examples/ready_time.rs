//! Measures `tagtally run` from process start to `READY=1` with 200 000 present tags in the state
//! database (SPEC §8: ≤ 1 s), after a clean stop and after `kill -9`, through the real binary and a
//! `NOTIFY_SOCKET` this program listens on — what systemd sees.
//!
//! Run: `cargo build --release -p tagtally && cargo run --release -p tagtally --example ready_time
//! [-- TAGS [RUNS]]`. The broker and the reader in the generated config are unreachable on purpose:
//! readiness must not wait for either.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tagtally::engine::{AntennaZone, Engine, EngineConfig, PresenceParams, ZoneConfig};
use tagtally::store::{Store, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Micros, ReaderId};
use tagtally_tooling::demo::sgtin::sgtin96;

const T0: u64 = 1_776_939_300_000_000;

fn engine_config() -> EngineConfig {
    EngineConfig {
        zones: vec![ZoneConfig {
            name: "floor".into(),
            presence: PresenceParams::default(),
        }],
        antennas: vec![AntennaZone {
            reader: ReaderId(0),
            antenna: 1,
            zone: "floor".into(),
        }],
        sku_map: vec![],
        max_candidates: None,
        suspect_after: None,
        sentinels: Vec::new(),
    }
}

/// Commits `tags` present tags over 5 000 SKUs through the real engine → store path.
fn build(state: &Path, tags: u32) {
    std::fs::create_dir_all(state).expect("state dir");
    let opened = Store::open(
        &state.join(DATABASE_FILE),
        StoreOptions::new("bench", 64 << 20),
    )
    .expect("open store");
    let mut engine = Engine::new(&engine_config().check().expect("engine"));
    engine.reader_up(ReaderId(0), Micros(T0));
    for _ in 0..2 {
        for serial in 0..tags {
            let epc = sgtin96(614_141, 100_000 + serial % 5000, u64::from(serial));
            engine.observe_epc(ReaderId(0), 1, &epc, None, Micros(T0));
        }
    }
    let delta = engine.flush(Micros(T0 + 1)).expect("a delta");
    opened.store.commit(&delta).expect("commit");
}

fn tagtally_binary() -> PathBuf {
    // target/<profile>/examples/ready_time → target/<profile>/tagtally
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("tagtally"))
        .expect("target dir")
}

fn start(config: &Path, notify: &Path) -> Child {
    Command::new(tagtally_binary())
        .args(["run", "-c"])
        .arg(config)
        .env("NOTIFY_SOCKET", notify)
        .env_remove("WATCHDOG_USEC")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tagtally (build it first: cargo build --release -p tagtally)")
}

/// Waits for `READY=1` on the notify socket; returns the time since `started`.
fn wait_ready(socket: &UnixDatagram, started: Instant) -> Duration {
    let mut buf = [0u8; 512];
    loop {
        let n = socket.recv(&mut buf).expect("READY=1 within the timeout");
        if buf[..n].split(|b| *b == b'\n').any(|l| l == b"READY=1") {
            return started.elapsed();
        }
    }
}

fn signal(child: &Child, sig: &str) {
    Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let tags: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let built = Instant::now();
    build(&state, tags);
    eprintln!(
        "built a database of {tags} present tags in {:?} ({} bytes)",
        built.elapsed(),
        std::fs::metadata(state.join(DATABASE_FILE)).map_or(0, |m| m.len())
    );
    let config = dir.path().join("tagtally.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"bench\"\nstate-dir = \"{}\"\ncontrol-socket = \"{}/control.sock\"\n\
             [[zone]]\nname = \"floor\"\n[[reader]]\nname = \"r1\"\nkind = \"llrp\"\n\
             address = \"127.0.0.1:9\"\nantennas = {{ 1 = \"floor\" }}\n[mqtt]\nurl = \"mqtt://127.0.0.1:9\"\n",
            state.display(),
            dir.path().display()
        ),
    )
    .expect("write config");
    let notify_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&notify_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    for (label, stop) in [("after a clean stop", "-TERM"), ("after kill -9", "-KILL")] {
        let mut times = Vec::new();
        // Run 0 only sets the scene (its predecessor stopped the other way); it is not counted.
        for run in 0..=runs {
            let started = Instant::now();
            let mut child = start(&config, &notify_path);
            let ready = wait_ready(&socket, started);
            if run > 0 {
                times.push(ready);
            }
            signal(&child, stop);
            child.wait().expect("wait");
        }
        times.sort();
        println!(
            "ready with {tags} present tags, {label}: min {:?}, median {:?}, max {:?} ({runs} runs)",
            times[0],
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}
