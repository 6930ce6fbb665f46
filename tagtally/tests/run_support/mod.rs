//! Shared rig for the `tagtally run` suites: a store of emulated readers with known ground truth, the
//! real binary as a child process, CLI calls against its control socket, and bounded polling.
//!
//! Every wait polls a condition with a bounded timeout; the pause between two polls is a poll
//! interval, never a stand-in for the condition.

#![allow(dead_code)] // each suite uses a different part of the rig

pub mod churn;
pub mod config_text;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use config_text::ConfigText;
use serde_json::Value;
use tagtally_reader_drivers::Epc;
use tagtally_sim::llrp::LlrpSim;
use tagtally_sim::scenario::{Scenario, TagSpec};
use tagtally_sim::thingmagic::ThingMagicModule;
use tagtally_sim::{SerialListen, SerialSim, SerialSimOptions};
use tagtally_tooling::demo::sgtin::{gtin_of, sgtin96};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Bound of every wait.
pub const WAIT: Duration = Duration::from_secs(60);
/// Pause between two polls of a condition.
const POLL: Duration = Duration::from_millis(100);

/// Polls `check` until it gives a value, at most `limit`; panics naming `what` otherwise.
pub async fn poll<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// One group of identical items: `count` tags of one SKU in one zone.
#[derive(Debug, Clone)]
pub struct Shelf {
    pub zone: &'static str,
    pub item: u32,
    pub count: u64,
}

/// The company prefix of every test item.
pub const COMPANY: u32 = 614_141;

/// The emulated readers of a small store, and what the daemon should count.
pub struct TestStore {
    pub llrp: LlrpSim,
    pub serial: SerialSim,
    /// (zone, sku) → count, the ground truth once every tag arrived.
    pub truth: BTreeMap<(String, String), u64>,
}

/// Zones: `floor` (LLRP antenna 1), `backroom` (LLRP antenna 2), `fitting-rooms` (ThingMagic antenna 1).
pub const SHELVES: &[Shelf] = &[
    Shelf {
        zone: "floor",
        item: 100_001,
        count: 12,
    },
    Shelf {
        zone: "floor",
        item: 100_002,
        count: 9,
    },
    Shelf {
        zone: "floor",
        item: 100_003,
        count: 5,
    },
    Shelf {
        zone: "backroom",
        item: 100_001,
        count: 20,
    },
    Shelf {
        zone: "backroom",
        item: 100_004,
        count: 7,
    },
    Shelf {
        zone: "fitting-rooms",
        item: 100_002,
        count: 3,
    },
    Shelf {
        zone: "fitting-rooms",
        item: 100_005,
        count: 2,
    },
];

impl TestStore {
    /// Starts both emulators on loopback ports with the tags of `SHELVES`.
    pub async fn start() -> TestStore {
        let mut llrp_tags = Vec::new();
        let mut serial_tags = Vec::new();
        let mut truth = BTreeMap::new();
        let mut serial = 1u64;
        for shelf in SHELVES {
            for _ in 0..shelf.count {
                let epc = Epc::from_slice(&sgtin96(COMPANY, shelf.item, serial)).unwrap();
                serial += 1;
                match shelf.zone {
                    "floor" => llrp_tags.push(TagSpec::fixed(epc, &[1], -55.0)),
                    "backroom" => llrp_tags.push(TagSpec::fixed(epc, &[2], -60.0)),
                    _ => serial_tags.push(TagSpec::fixed(epc, &[1], -50.0)),
                }
            }
            *truth
                .entry((shelf.zone.to_owned(), gtin_of(COMPANY, shelf.item)))
                .or_insert(0) += shelf.count;
        }
        let llrp = LlrpSim::start("127.0.0.1:0", Scenario::with_tags(llrp_tags))
            .await
            .expect("start the llrp emulator");
        let scenario = Scenario::with_tags(serial_tags);
        let serial = SerialSim::start(
            ThingMagicModule::new(&scenario),
            &scenario,
            SerialListen::Tcp("127.0.0.1:0".parse().unwrap()),
            SerialSimOptions::default(),
        )
        .await
        .expect("start the thingmagic emulator");
        TestStore {
            llrp,
            serial,
            truth,
        }
    }

    /// The ThingMagic bridge's address.
    pub fn serial_addr(&self) -> SocketAddr {
        self.serial.endpoint().tcp.expect("tcp endpoint")
    }

    /// Total tags.
    pub fn tags(&self) -> u64 {
        self.truth.values().sum()
    }

    /// The ground truth without one zone.
    pub fn truth_without(&self, zone: &str) -> BTreeMap<(String, String), u64> {
        self.truth
            .iter()
            .filter(|((z, _), _)| z != zone)
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

/// The config of the test store. `with_fitting` false leaves out the fitting-rooms zone and its reader.
pub fn store_config(
    dir: &Path,
    store: &TestStore,
    broker: SocketAddr,
    with_fitting: bool,
) -> String {
    let mut config = ConfigText::new("test-store", dir, &dir.join("state"))
        .top("log-level = \"debug\"")
        .presence("arrive-reads = 2\narrive-window = \"5s\"\ndepart-after = \"10m\"")
        .zone("floor")
        .zone("backroom")
        .llrp(
            "ceiling",
            store.llrp.addr(),
            "1 = \"floor\", 2 = \"backroom\"",
        );
    if with_fitting {
        config = config.zone("fitting-rooms").table(&format!(
            "[[reader]]\nname = \"fitting-tm\"\nkind = \"thingmagic\"\naddress = \"{}\"\n\
             antennas = {{ 1 = \"fitting-rooms\" }}",
            store.serial_addr()
        ));
    }
    config.mqtt(
        &format!("mqtt://{broker}"),
        "flush-interval = \"250ms\"\nsnapshot-interval = \"10m\"\nkeep-alive = \"5s\"\n\
         reconnect-backoff-max = \"1s\"",
    )
}

/// `tagtally run` as a child process, its stderr in a file.
pub struct Daemon {
    child: Child,
    pub socket: PathBuf,
    pub log: PathBuf,
}

/// How [`Daemon::start_with`] runs the daemon, beyond its config.
#[derive(Debug, Default, Clone)]
pub struct Spawn {
    /// Stderr goes through a pipe that a thread of the test copies into the log file, so the daemon
    /// writes no regular file but its state: a file-size limit put on it hits only the database.
    pub log_through_pipe: bool,
    /// Extra environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, ...); by default systemd's are removed.
    pub env: Vec<(String, String)>,
}

impl Daemon {
    /// Writes `config` to `dir/tagtally.toml` and starts `tagtally run` on it.
    pub fn start(dir: &Path, config: &str, log_name: &str) -> Daemon {
        Daemon::start_with(dir, config, log_name, Spawn::default())
    }

    /// [`Daemon::start`] as `spawn` says.
    pub fn start_with(dir: &Path, config: &str, log_name: &str, spawn: Spawn) -> Daemon {
        let path = dir.join("tagtally.toml");
        std::fs::write(&path, config).expect("write config");
        let log = dir.join(log_name);
        let file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tagtally"));
        command
            .args(["run", "-c"])
            .arg(&path)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("RUST_LOG")
            .envs(spawn.env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        if spawn.log_through_pipe {
            command.stderr(Stdio::piped());
        } else {
            command.stderr(file.try_clone().expect("log file"));
        }
        let mut child = command.spawn().expect("spawn tagtally run");
        if spawn.log_through_pipe {
            let pipe = child.stderr.take().expect("stderr pipe");
            let mut pipe = std::fs::File::from(pipe.into_owned_fd().expect("stderr fd"));
            let mut file = file;
            // Ends when the daemon's last copy of the pipe closes.
            std::thread::spawn(move || std::io::copy(&mut pipe, &mut file));
        }
        Daemon {
            child,
            socket: dir.join("control.sock"),
            log,
        }
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("daemon still running")
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `tagtally <command> --json --socket S [extra]`: the JSON document when it exits 0.
    pub async fn json(&self, command: &str, extra: &[&str]) -> Option<Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_tagtally"))
            .arg(command)
            .arg("--json")
            .arg("--socket")
            .arg(&self.socket)
            .args(extra)
            .output()
            .await
            .expect("run the cli");
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("daemon still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid} failed");
    }

    /// SIGKILL, as `kill -9` or a power cut would stop it: no last flush, no MQTT DISCONNECT, the
    /// control socket left behind. Returns once the process is reaped.
    pub async fn kill(&mut self) -> ExitStatus {
        self.child.kill().await.expect("kill -9 tagtally");
        self.child.wait().await.expect("reap tagtally")
    }

    /// Waits (bounded) for the process to exit.
    pub async fn exit_status(&mut self, limit: Duration) -> ExitStatus {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait for tagtally"),
            Err(_) => panic!(
                "tagtally did not exit within {limit:?}; log:\n{}",
                self.log()
            ),
        }
    }
}

/// `stock --json` counts as (zone, sku) → count.
pub fn counts(stock: &Value) -> BTreeMap<(String, String), u64> {
    stock["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| {
            (
                (
                    c["zone"].as_str().unwrap().to_owned(),
                    c["sku"].as_str().unwrap().to_owned(),
                ),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect()
}
