//! A throw-away mosquitto broker for tests and `tagtally bench hq`: Debian's `mosquitto` on a
//! free loopback port, persistence in a temporary directory (so a restart keeps sessions and
//! their queues, as a production broker does), unlimited queues for offline sessions; with
//! [`TempMosquitto::start_with_tls`] a second listener that demands TLS and a client certificate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Why the broker could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TempMosquittoError {
    /// mosquitto is not installed.
    #[error("mosquitto is not installed (apt-get install mosquitto)")]
    NotInstalled,
    /// A step failed.
    #[error("cannot start mosquitto: {0}")]
    Start(String),
}

/// The PEM files of a TLS listener: its certificate and key, and the CA its clients' certificates
/// must be signed by (every client must present one).
#[derive(Debug, Clone)]
pub struct TlsListener {
    /// CA of the client certificates.
    pub ca_file: PathBuf,
    /// The broker's certificate.
    pub cert_file: PathBuf,
    /// Its key.
    pub key_file: PathBuf,
}

/// A running broker; killed and deleted on drop.
#[derive(Debug)]
pub struct TempMosquitto {
    bin: PathBuf,
    dir: tempfile::TempDir,
    address: SocketAddr,
    tls_address: Option<SocketAddr>,
    child: Option<Child>,
}

fn free_port() -> Result<SocketAddr, TempMosquittoError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|error| TempMosquittoError::Start(error.to_string()))
}

fn mosquitto_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|dir| dir.join("mosquitto"))
        .find(|path| path.is_file())
}

impl TempMosquitto {
    /// Whether mosquitto is installed.
    pub fn installed() -> bool {
        mosquitto_bin().is_some()
    }

    /// Writes a config and starts the broker.
    pub async fn start() -> Result<TempMosquitto, TempMosquittoError> {
        TempMosquitto::start_with(None).await
    }

    /// Starts the broker with a mutual-TLS listener besides the plain one.
    pub async fn start_with_tls(tls: &TlsListener) -> Result<TempMosquitto, TempMosquittoError> {
        TempMosquitto::start_with(Some(tls)).await
    }

    async fn start_with(tls: Option<&TlsListener>) -> Result<TempMosquitto, TempMosquittoError> {
        let bin = mosquitto_bin().ok_or(TempMosquittoError::NotInstalled)?;
        let dir = tempfile::Builder::new()
            .prefix("tagtally-mosquitto-")
            .tempdir()
            .map_err(|error| TempMosquittoError::Start(error.to_string()))?;
        let address = free_port()?;
        let tls_address = tls.map(|_| free_port()).transpose()?;
        // `user root` keeps a root-started broker from switching to a user that could not
        // write the persistence file into the temporary directory (ignored when not root).
        // `allow_anonymous` covers both listeners (`per_listener_settings` is off by default);
        // the TLS one still demands a client certificate signed by its CA.
        let mut config = format!(
            "user root\npersistence true\npersistence_location {dir}/\nlog_dest file {dir}/mosquitto.log\n\
             max_queued_messages 0\nmax_inflight_messages 0\nlistener {port} 127.0.0.1\nallow_anonymous true\n",
            dir = dir.path().display(),
            port = address.port(),
        );
        if let (Some(tls), Some(tls_address)) = (tls, tls_address) {
            config += &format!(
                "listener {port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\nrequire_certificate true\n",
                port = tls_address.port(),
                ca = tls.ca_file.display(),
                cert = tls.cert_file.display(),
                key = tls.key_file.display(),
            );
        }
        std::fs::write(dir.path().join("mosquitto.conf"), config)
            .map_err(|error| TempMosquittoError::Start(error.to_string()))?;
        let mut broker = TempMosquitto {
            bin,
            dir,
            address,
            tls_address,
            child: None,
        };
        broker.run().await?;
        Ok(broker)
    }

    /// Starts the broker process (again) and waits until it accepts connections.
    pub async fn run(&mut self) -> Result<(), TempMosquittoError> {
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| TempMosquittoError::Start(error.to_string()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(self.tls_address.unwrap_or(self.address))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err(TempMosquittoError::Start(
                    "mosquitto did not listen within 10 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Stops the broker as an operator's restart does (SIGTERM: it saves its sessions and
    /// queues) and waits for it to exit.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await;
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }

    /// The plain listener.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The TLS listener, if started with one.
    pub fn tls_address(&self) -> Option<SocketAddr> {
        self.tls_address
    }
}
