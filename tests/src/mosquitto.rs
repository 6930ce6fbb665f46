//! Debian's `mosquitto` as a test broker: found on the PATH (or in the sbin directories), skipped
//! loudly when missing, and a failure instead of a skip when `TAGTALLY_REQUIRE_MOSQUITTO` is set (as
//! `.ci/run` does). A started broker listens on one free loopback port, writes its log into its own
//! temp directory, and can carry extra config lines (a bridge to another broker, packet limits).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::broker::Broker;
use crate::{free_addr, wait};

/// The `mosquitto` executable, if installed.
fn find() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
}

/// The `mosquitto` executable; `None` (with a notice on stderr) when it is not installed and the
/// suite may skip, a panic when `TAGTALLY_REQUIRE_MOSQUITTO` says it must not.
pub fn binary_or_skip() -> Option<PathBuf> {
    match find() {
        Some(bin) => Some(bin),
        None if std::env::var_os("TAGTALLY_REQUIRE_MOSQUITTO").is_some() => {
            panic!("TAGTALLY_REQUIRE_MOSQUITTO is set but mosquitto is not installed")
        }
        None => {
            eprintln!("skipping: mosquitto is not installed (apt-get install mosquitto)");
            None
        }
    }
}

/// One running mosquitto with one anonymous listener on loopback; killed when dropped.
#[derive(Debug)]
pub struct Mosquitto {
    pub addr: SocketAddr,
    dir: PathBuf,
    _child: Child,
}

impl Mosquitto {
    /// Starts `bin` in `dir` (created) with `extra` config lines appended (e.g. a `connection`
    /// bridge section) and waits until it accepts connections.
    pub async fn start(bin: &Path, dir: &Path, extra: &str) -> Mosquitto {
        std::fs::create_dir_all(dir).expect("mosquitto dir");
        let addr = free_addr();
        // `user root` keeps a root-started mosquitto from switching to the `mosquitto` user,
        // which could not write its log into our temp dir (ignored when not root).
        let conf = format!(
            "user root\npersistence false\nlog_dest file {dir}/mosquitto.log\nlog_type all\n\
             listener {port} 127.0.0.1\nallow_anonymous true\n{extra}\n",
            dir = dir.display(),
            port = addr.port(),
        );
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, conf).expect("write mosquitto.conf");
        let child = Command::new(bin)
            .arg("-c")
            .arg(&path)
            // Its log goes to mosquitto.log; stderr only has the "running as root" warning.
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto starts");
        wait::until("mosquitto to listen", Duration::from_secs(20), || async {
            TcpStream::connect(addr)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await;
        Mosquitto {
            addr,
            dir: dir.to_owned(),
            _child: child,
        }
    }

    /// The broker as the rest of the rig addresses one.
    pub fn broker(&self) -> Broker {
        Broker { addr: self.addr }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }
}
