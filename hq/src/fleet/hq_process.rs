//! `tagtally hq run` as a child process, as systemd runs it: its own config file, stderr to a
//! log file, stopped with SIGTERM or killed with SIGKILL. What `tagtally bench hq` and the
//! process-level tests run the service as.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Why an instance could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum HqProcessError {
    /// The config or log file could not be written, or the program not started.
    #[error("cannot start `tagtally hq run`: {0}")]
    Start(String),
    /// It exited or never connected to the broker in time.
    #[error("`tagtally hq run` ({log}) {what}")]
    NotReady {
        /// What went wrong.
        what: String,
        /// Its log.
        log: String,
    },
}

/// One running instance.
#[derive(Debug)]
pub struct HqProcess {
    child: Child,
    /// Its HTTP API.
    pub api: SocketAddr,
    /// Its stderr, appended across restarts.
    pub log: PathBuf,
}

/// A free loopback address for an instance's API.
pub fn free_loopback() -> Result<SocketAddr, HqProcessError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|error| HqProcessError::Start(format!("no free port: {error}")))
}

impl HqProcess {
    /// Starts `program hq run -c config`; `api` must be the config's `[http] listen`. Returns
    /// once the process is spawned (see [`HqProcess::connected`]).
    pub fn start(
        program: &Path,
        config: &Path,
        api: SocketAddr,
        log: &Path,
    ) -> Result<HqProcess, HqProcessError> {
        let journal = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|error| HqProcessError::Start(format!("{}: {error}", log.display())))?;
        let child = Command::new(program)
            .args(["hq", "run", "-c"])
            .arg(config)
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(journal)
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| HqProcessError::Start(format!("{}: {error}", program.display())))?;
        Ok(HqProcess {
            child,
            api,
            log: log.to_path_buf(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Its `/metrics` text, when it answers.
    pub async fn metrics(&self) -> Option<String> {
        match crate::client::get(self.api, "/metrics").await {
            Ok((200, body)) => String::from_utf8(body).ok(),
            _ => None,
        }
    }

    /// Waits (at most `limit`) until it reports its broker connection up.
    pub async fn connected(&mut self, limit: Duration) -> Result<(), HqProcessError> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.not_ready(format!("exited before connecting: {status}")));
            }
            if let Some(text) = self.metrics().await {
                if metric(&text, "tagtally_hq_mqtt_connected") == Some(1.0) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(self.not_ready(format!(
                    "did not connect to the broker within {}",
                    humantime::format_duration(limit)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn not_ready(&self, what: String) -> HqProcessError {
        HqProcessError::NotReady {
            what,
            log: self.log.display().to_string(),
        }
    }

    /// `kill -9`: nothing is flushed, acknowledged or closed.
    pub async fn kill(&mut self) -> std::io::Result<ExitStatus> {
        self.child.start_kill()?;
        self.child.wait().await
    }

    /// SIGTERM, as `systemctl stop` does, and waits (SIGKILL after 20 s).
    pub async fn stop(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(pid) = self.child.id() {
            Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await?;
        }
        match tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await {
            Ok(status) => status,
            Err(_) => self.kill().await,
        }
    }
}

/// The value of an unlabelled metric in Prometheus text.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (key, value) = line.split_once(' ')?;
            (key == name).then(|| value.trim().parse().ok())?
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_read_by_exact_name() {
        let text = "# HELP x\ntagtally_hq_mqtt_connected 1\ntagtally_hq_mqtt_connected_total 7\n";
        assert_eq!(metric(text, "tagtally_hq_mqtt_connected"), Some(1.0));
        assert_eq!(metric(text, "tagtally_hq_mqtt_connected_total"), Some(7.0));
        assert_eq!(metric(text, "tagtally_hq_missing"), None);
    }
}
