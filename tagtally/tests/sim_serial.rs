//! Black-box: `tagtally sim thingmagic|r2000` announces its port and a real driver reads the
//! scenario's tags through it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tagtally_config::{HostPort, SerialPort};
use tagtally_core::Session;
use tagtally_reader_drivers::driver::run_session;
use tagtally_reader_drivers::r2000::{R2000Session, R2000Settings};
use tagtally_reader_drivers::serial_port::SerialConnector;
use tagtally_reader_drivers::thingmagic::{ThingMagicSession, ThingMagicSettings};
use tagtally_reader_drivers::{DriverOutput, ReaderId};
use tokio::sync::mpsc;

const EPC: &str = "3074257BF7194E4000001A85";

/// The emulator process, killed when the test ends however it ends.
struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the emulator and returns it with its first announced line.
fn start(args: &[&str]) -> (Emulator, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        format!("[inventory]\nread-rate = 20.0\n[[tag]]\nepc = \"{EPC}\"\nrssi = -61.0\n"),
    )
    .expect("scenario written");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .arg("sim")
        .args(args)
        .arg("--scenario")
        .arg(&scenario)
        .stdout(Stdio::piped())
        .spawn()
        .expect("tagtally runs");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("emulator announces itself");
    (Emulator(child), line.trim().to_owned(), dir)
}

/// Runs `session` against the emulator until the scenario's tag is read.
async fn read_through<S: Session + Send + 'static>(session: S, port: SerialPort) {
    let (tx, mut rx) = mpsc::channel(64);
    let driver = tokio::spawn(run_session(
        session,
        SerialConnector::new(port, 115_200),
        tx,
        std::future::pending::<()>(),
        |_| {},
    ));
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(output) = rx.recv().await {
            if let DriverOutput::Reads(reads) = output {
                if let Some(read) = reads.first() {
                    return Some((read.epc.to_string(), read.rssi_cdbm));
                }
            }
        }
        None
    })
    .await
    .expect("a read within 20 s");
    driver.abort();
    assert_eq!(found, Some((EPC.to_owned(), Some(-6100))));
}

#[tokio::test]
async fn thingmagic_on_a_pty_is_read_by_the_driver() {
    let (_emulator, line, _dir) = start(&["thingmagic", "--pty"]);
    let path = line
        .strip_prefix("PTY ")
        .unwrap_or_else(|| panic!("PTY line expected, got {line:?}"));
    read_through(
        ThingMagicSession::new(ThingMagicSettings::new(ReaderId(0), vec![1]), 1),
        SerialPort::Device(PathBuf::from(path)),
    )
    .await;
}

#[tokio::test]
async fn r2000_on_a_tcp_port_is_read_by_the_driver() {
    let (_emulator, line, _dir) = start(&["r2000", "--listen", "127.0.0.1:0"]);
    let address: std::net::SocketAddr = line
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("LISTENING line expected, got {line:?}"))
        .parse()
        .expect("host:port");
    read_through(
        R2000Session::new(R2000Settings::new(ReaderId(0), vec![1]), 1),
        SerialPort::Tcp(HostPort {
            host: address.ip().to_string(),
            port: address.port(),
        }),
    )
    .await;
}

#[test]
fn a_bad_scenario_exits_65() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("bad.toml");
    std::fs::write(&scenario, "bogus = 1\n").expect("written");
    let status = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["sim", "r2000", "--pty", "--scenario"])
        .arg(&scenario)
        .status()
        .expect("tagtally runs");
    assert_eq!(status.code(), Some(65));
}
