//! A throw-away PostgreSQL server for tests and `tagtally bench hq`: Debian's `initdb` and
//! `postgres` from `/usr/lib/postgresql/*/bin`, a data directory in a temporary directory, a
//! free loopback port, trust authentication, never the system instance.
//!
//! PostgreSQL refuses to run as root, so under root it runs as Debian's `postgres` user
//! (`setpriv`), with the temporary directory handed over to that user.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Why the server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TempPostgresError {
    /// No PostgreSQL server binaries on this machine.
    #[error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)")]
    NotInstalled,
    /// A step failed.
    #[error("cannot start a temporary PostgreSQL: {0}")]
    Start(String),
}

/// A running temporary server; stopped (killed) and deleted on drop.
#[derive(Debug)]
pub struct TempPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
    child: Option<Child>,
    /// Extra `-c name=value` settings.
    settings: Vec<String>,
}

fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    // Highest major version last; versions are plain numbers ("15", "16").
    dirs.sort_by_key(|bin| {
        bin.parent()
            .and_then(Path::file_name)
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

fn free_port() -> Result<u16, TempPostgresError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| TempPostgresError::Start(format!("no free port: {error}")))
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|meta| std::os::unix::fs::MetadataExt::uid(&meta) == 0)
        .unwrap_or(false)
}

impl TempPostgres {
    /// Whether the binaries are there (tests skip, loudly, when they are not).
    pub fn installed() -> bool {
        bin_dir().is_some()
    }

    /// Creates a cluster and starts it. `durable = false` turns fsync off (tests); the bench
    /// keeps PostgreSQL's durable defaults.
    pub async fn start(durable: bool) -> Result<TempPostgres, TempPostgresError> {
        TempPostgres::start_with(durable, &[]).await
    }

    /// [`TempPostgres::start`] with extra `name=value` server settings (the bench turns on
    /// `track_commit_timestamp` to time each commit).
    pub async fn start_with(
        durable: bool,
        extra: &[&str],
    ) -> Result<TempPostgres, TempPostgresError> {
        let bin = bin_dir().ok_or(TempPostgresError::NotInstalled)?;
        let start_error = |what: &str, error: &dyn std::fmt::Display| {
            TempPostgresError::Start(format!("{what}: {error}"))
        };
        let dir = tempfile::Builder::new()
            .prefix("tagtally-pg-")
            .tempdir()
            .map_err(|error| start_error("temporary directory", &error))?;
        let as_postgres_user = is_root();
        if as_postgres_user {
            let status = std::process::Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path())
                .status()
                .map_err(|error| start_error("chown", &error))?;
            if !status.success() {
                return Err(TempPostgresError::Start(
                    "chown to the postgres user failed (is Debian's postgres user there?)".into(),
                ));
            }
        }
        let data = dir.path().join("data");
        let output = Self::command_as(as_postgres_user, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "hq",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|error| start_error("initdb", &error))?;
        if !output.status.success() {
            return Err(TempPostgresError::Start(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let mut server = TempPostgres {
            bin,
            dir,
            port: free_port()?,
            as_postgres_user,
            child: None,
            settings: if durable {
                Vec::new()
            } else {
                vec![
                    "fsync=off".into(),
                    "synchronous_commit=off".into(),
                    "full_page_writes=off".into(),
                ]
            },
        };
        server
            .settings
            .extend(extra.iter().map(|setting| (*setting).to_owned()));
        server.run().await?;
        Ok(server)
    }

    fn command_as(as_postgres_user: bool, program: &Path) -> Command {
        if as_postgres_user {
            // setpriv execs in place (runuser would fork), so killing the child kills postgres.
            let mut command = Command::new("setpriv");
            command
                .args([
                    "--reuid=postgres",
                    "--regid=postgres",
                    "--init-groups",
                    "--",
                ])
                .arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// Starts the server process on the existing data directory and waits until it answers.
    pub async fn run(&mut self) -> Result<(), TempPostgresError> {
        let data = self.dir.path().join("data");
        let mut command = Self::command_as(self.as_postgres_user, &self.bin.join("postgres"));
        command
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(self.dir.path())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
            ]);
        for setting in &self.settings {
            command.arg("-c").arg(setting);
        }
        let log = std::fs::File::create(self.dir.path().join("postgres.log"))
            .map_err(|error| TempPostgresError::Start(format!("log file: {error}")))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| TempPostgresError::Start(format!("postgres: {error}")))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls).await {
                Ok(_) => return Ok(()),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => {
                    let log = std::fs::read_to_string(self.dir.path().join("postgres.log"))
                        .unwrap_or_default();
                    return Err(TempPostgresError::Start(format!(
                        "postgres did not answer within 30 s: {error}; its log: {log}"
                    )));
                }
            }
        }
    }

    /// Kills the server at once (`kill -9` of the postmaster).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for database `database` as user `hq`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgresql://hq@127.0.0.1:{}/{database}?connect_timeout=5",
            self.port
        )
    }

    /// Creates database `name` and returns its URL.
    pub async fn create_database(&self, name: &str) -> Result<String, TempPostgresError> {
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .map_err(|error| TempPostgresError::Start(format!("connect: {error}")))?;
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .map_err(|error| TempPostgresError::Start(format!("create database: {error}")))?;
        drop(client);
        let _ = connection.await;
        Ok(self.url(name))
    }
}
