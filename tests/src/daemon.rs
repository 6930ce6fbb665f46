//! `tagtally run` as a child process, as systemd would run it (stderr to a log file), and the
//! technician's CLI against its control socket.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::binary::tagtally;
use crate::{wait, Counts};

/// A running daemon.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    pub socket: PathBuf,
    pub log: PathBuf,
}

impl Daemon {
    /// Writes `config` to `dir/tagtally.toml` and starts `tagtally run` on it, its stderr appended
    /// to `dir/daemon.log` (one log across restarts, like the journal). The log goes through a pipe,
    /// as to journald, so a file-size limit on the daemon hits only its database.
    pub fn start(dir: &Path, config: &str) -> Daemon {
        let path = dir.join("tagtally.toml");
        std::fs::write(&path, config).expect("write config");
        let log = dir.join("daemon.log");
        let mut journal = tokio::fs::File::from_std(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .expect("open the daemon log"),
        );
        let mut child = Command::new(tagtally())
            .args(["run", "-c"])
            .arg(&path)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn tagtally run");
        let mut stderr = child.stderr.take().expect("piped stderr");
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut stderr, &mut journal).await;
        });
        Daemon {
            child,
            socket: dir.join("control.sock"),
            log,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("daemon running")
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `tagtally <command> --json --socket S [extra]`: the document, or why there is none.
    pub async fn cli(&self, command: &str, extra: &[&str]) -> Result<Value, String> {
        let mut args = vec![command];
        args.extend_from_slice(extra);
        self.cli_args(&args).await
    }

    /// `tagtally ARGS --json --socket S`, for commands with subcommands (`count start --zone Z`):
    /// the document, or why there is none (the exit status and stderr of a refusal).
    pub async fn cli_args(&self, args: &[&str]) -> Result<Value, String> {
        let out = Command::new(tagtally())
            .args(args)
            .arg("--json")
            .arg("--socket")
            .arg(&self.socket)
            .output()
            .await
            .expect("run the tagtally cli");
        let shown = args.join(" ");
        if !out.status.success() {
            return Err(format!(
                "`tagtally {shown}` exited {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("`{shown} --json`: {e}"))
    }

    /// The value of the unlabelled metric `name` in `tagtally metrics` (Prometheus text).
    pub async fn metric(&self, name: &str) -> Result<f64, String> {
        let out = Command::new(tagtally())
            .arg("metrics")
            .arg("--socket")
            .arg(&self.socket)
            .output()
            .await
            .expect("run the tagtally cli");
        if !out.status.success() {
            return Err(format!("`tagtally metrics` exited {}", out.status));
        }
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .ok_or_else(|| format!("no metric {name}"))
    }

    /// `stock --json`: (seq, counts without zero cells).
    pub async fn stock(&self) -> Result<(u64, Counts), String> {
        let v = self.cli("stock", &[]).await?;
        let mut counts = Counts::new();
        for c in v["counts"].as_array().ok_or("no counts")? {
            let key = (
                c["zone"].as_str().ok_or("zone")?.to_owned(),
                c["sku"].as_str().ok_or("sku")?.to_owned(),
            );
            let n = c["count"].as_u64().ok_or("count")?;
            assert_ne!(n, 0, "stock lists an empty cell {key:?}");
            assert!(counts.insert(key, n).is_none(), "stock lists a cell twice");
        }
        Ok((v["seq"].as_u64().ok_or("seq")?, counts))
    }

    /// Waits (bounded) until the control socket answers `status`: the daemon is ready.
    pub async fn ready(&self) -> Value {
        wait::until(
            "the daemon to answer status",
            Duration::from_secs(60),
            || self.cli("status", &[]),
        )
        .await
    }

    /// SIGKILL, as `kill -9` or a power cut would stop it; returns once the process is reaped.
    pub async fn kill(&mut self) -> ExitStatus {
        self.child.kill().await.expect("kill -9 tagtally");
        self.child.wait().await.expect("reap tagtally")
    }

    /// SIGTERM, as `systemctl stop` does, then a bounded wait for the exit.
    pub async fn stop(&mut self) -> ExitStatus {
        let pid = self.child.id().expect("daemon running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(status) => status.expect("wait for tagtally"),
            Err(_) => panic!("tagtally ignored SIGTERM for 60 s; log:\n{}", self.log()),
        }
    }

    /// The exit status if the process has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }
}
