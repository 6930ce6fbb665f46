//! Black-box tests of `tagtally sim llrp` and `tagtally llrp probe`: the real binary, an emulated reader on a free port.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const SCENARIO: &str = r#"
[reader]
antennas = 2
firmware = "7.6.0"

[[tag]]
epc = "3074257BF7194E4000001A85"
"#;

/// A running `tagtally sim llrp`, killed when dropped.
struct Emulator {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator(scenario: &str) -> Emulator {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, scenario).expect("write scenario");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["sim", "llrp", "--listen", "127.0.0.1:0", "--scenario"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tagtally sim llrp");
    let stdout = child.stdout.take().expect("piped stdout");
    // Read the first line on a thread so the wait for it can be bounded.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("LISTENING line within 30 s");
    let addr = line
        .trim()
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Emulator {
        child,
        addr,
        _dir: dir,
    }
}

fn tagtally(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(args)
        .output()
        .expect("run tagtally")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn probe_prints_what_the_emulated_reader_is() {
    let sim = emulator(SCENARIO);
    let out = tagtally(&["llrp", "probe", &sim.addr]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Impinj R700"), "{stdout}");
    assert!(stdout.contains("firmware     7.6.0"), "{stdout}");
    assert!(stdout.contains("antennas     2"), "{stdout}");
    assert!(
        stdout.contains("power table  91 levels, 10.00 to 32.50 dBm"),
        "{stdout}"
    );
    assert!(stdout.contains("rospecs      0"), "{stdout}");

    let out = tagtally(&["llrp", "probe", &sim.addr, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one json document");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["model"], "Impinj R700");
    assert_eq!(doc["manufacturer"], 25882);
    assert_eq!(doc["llrp_version"], "1.0.1");
    assert_eq!(doc["power_table"][0]["dbm"], 10.0);
    assert_eq!(doc["rospecs"].as_array().map(Vec::len), Some(0));
}

#[test]
fn probe_exits_69_when_another_client_holds_the_reader() {
    let sim = emulator(SCENARIO);
    let mut holder = TcpStream::connect(&sim.addr).expect("first client connects");
    holder
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    // The reader's ConnectionAttemptEvent (32 bytes: header, notification data, timestamp, event)
    // proves the first client holds it before the probe tries.
    let mut event = [0u8; 32];
    holder.read_exact(&mut event).expect("connection event");
    let out = tagtally(&["llrp", "probe", &sim.addr, "--json"]);
    assert_eq!(out.status.code(), Some(69));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("another client holds the reader"),
        "{stderr}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error document");
    assert_eq!(doc["ok"], false);
}

#[test]
fn probe_exits_69_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let out = tagtally(&["llrp", "probe", &format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(69));
    assert!(text(&out.stderr).contains("cannot connect to 127.0.0.1:"));
}

#[test]
fn bad_arguments_and_scenarios_are_refused() {
    let out = tagtally(&["llrp", "probe", "reader:notaport"]);
    assert_eq!(out.status.code(), Some(2));

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[[tag]]\nepc = \"nothex\"\n").expect("write");
    let path = path.to_string_lossy().into_owned();
    let out = tagtally(&[
        "sim",
        "llrp",
        "--listen",
        "127.0.0.1:0",
        "--scenario",
        &path,
    ]);
    assert_eq!(out.status.code(), Some(65));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("not hex"),
        "{stderr}"
    );
}
