//! Black-box tests of `tagtally status|readers|stock|tail`: the real binary against a control
//! server with known data running inside the test process.

mod control_support;

use control_support::*;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use tagtally::control::{
    BackendError, ControlBackend, EpcisRange, FixedBackend, ReaderStatus, ServerLimits, Status,
    Stock, StockFilter, TailEvent, TailSubscription,
};

fn tagtally(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run tagtally")
}

fn with_socket<'a>(daemon: &'a TestDaemon, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--socket", daemon.path.to_str().unwrap()]);
    all
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn assert_ok(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
}

/// Every row's cells start where the header's columns start (left-aligned columns) or end
/// where they end (right-aligned ones), which is what "aligned" means to a reader.
fn assert_aligned(table: &str, right_aligned: &[&str]) {
    let mut lines = table.lines();
    let header = lines.next().expect("a header");
    // Header names may hold one space ("LAST READ"); columns are two spaces apart.
    let names: Vec<&str> = header
        .split("  ")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let mut starts = Vec::new();
    let mut from = 0;
    for name in &names {
        let start = from + header[from..].find(name).expect("column");
        starts.push(start);
        from = start + name.len();
    }
    for line in lines {
        let at = |i: usize| line.as_bytes().get(i).copied().unwrap_or(b' ');
        for (index, name) in names.iter().enumerate() {
            let start = starts[index];
            let end = start + name.len();
            if right_aligned.contains(name) {
                let blank = (start..end).all(|i| at(i) == b' ');
                assert!(
                    at(end) == b' ' && (blank || at(end - 1) != b' '),
                    "column {name} does not end at {end} in {line:?}"
                );
            } else if index > 0 {
                assert!(
                    at(start - 1) == b' ' && at(start - 2) == b' ',
                    "column {name} does not start at {start} in {line:?}"
                );
            }
        }
    }
}

#[test]
fn without_a_daemon_every_command_exits_69_naming_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("control.sock");
    let missing = missing.to_str().unwrap();
    for command in ["status", "readers", "stock", "tail"] {
        let output = tagtally(&[command, "--socket", missing]);
        assert_eq!(output.status.code(), Some(69), "{command}");
        assert_eq!(
            stderr(&output),
            format!("tagtally: no tagtally daemon answers on {missing}: no such socket file\n")
        );
        assert!(output.stdout.is_empty());
    }
    // A stale socket file: nobody listens any more.
    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let output = tagtally(&["stock", "--json", "--socket", stale.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(69));
    assert_eq!(
        stderr(&output),
        format!(
            "tagtally: no tagtally daemon answers on {}: connection refused\n",
            stale.display()
        )
    );
}

#[test]
fn the_socket_comes_from_the_config_and_config_errors_exit_78() {
    let daemon = TestDaemon::start(sample_backend(64));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tagtally.toml");
    let minimal = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/minimal.toml");
    let text = std::fs::read_to_string(minimal).unwrap().replacen(
        "store = \"paris-01\"",
        &format!(
            "store = \"paris-01\"\ncontrol-socket = \"{}\"",
            daemon.path.display()
        ),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let output = tagtally(&["stock", "--json", "-c", config.to_str().unwrap()]);
    assert_ok(&output);
    assert_eq!(
        serde_json::from_str::<Stock>(&stdout(&output)).unwrap(),
        sample_stock()
    );

    std::fs::write(&config, "store = \"paris-01\"\nbogus = 1\n").unwrap();
    let output = tagtally(&["status", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78));
    let expected = format!("{}:2:1: unknown key `bogus`", config.display());
    assert!(
        stderr(&output)
            .lines()
            .any(|line| line.starts_with(&expected)),
        "{}",
        stderr(&output)
    );
}

#[test]
fn stock_json_is_the_spec_document_followed_by_the_zone_roles() {
    let daemon = TestDaemon::start(sample_backend(64));
    let output = tagtally(&with_socket(&daemon, &["stock", "--json"]));
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        concat!(
            r#"{"store":"paris-01","epoch":"01jnc2x4","seq":1234,"counts":["#,
            r#"{"zone":"backroom","sku":"80614141123458","count":120},"#,
            r#"{"zone":"backroom","sku":"urn:epc:idpat:grai:0614141.12345.*","count":4},"#,
            r#"{"zone":"floor","sku":"80614141123458","count":7},"#,
            r#"{"zone":"floor","sku":"unknown","count":1}],"#,
            r#""zones":[{"zone":"floor","role":"sales-floor"},{"zone":"backroom","role":"stockroom"}]}"#,
            "\n"
        )
    );
    let output = tagtally(&with_socket(
        &daemon,
        &["stock", "--json", "--zone", "floor", "--sku", "unknown"],
    ));
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        r#"{"store":"paris-01","epoch":"01jnc2x4","seq":1234,"counts":[{"zone":"floor","sku":"unknown","count":1}],"zones":[{"zone":"floor","role":"sales-floor"}]}"#
            .to_owned()
            + "\n"
    );
}

#[test]
fn stock_prints_an_aligned_table_without_colour_when_piped() {
    let daemon = TestDaemon::start(sample_backend(64));
    let output = tagtally(&with_socket(&daemon, &["stock"]));
    assert_ok(&output);
    let expected = "\
store paris-01  epoch 01jnc2x4  seq 1234
ZONE      ROLE         SKU                                 COUNT
backroom  stockroom    80614141123458                        120
backroom  stockroom    urn:epc:idpat:grai:0614141.12345.*      4
floor     sales-floor  80614141123458                          7
floor     sales-floor  unknown                                 1
total                                                        132
";
    assert_eq!(stdout(&output), expected);
    let table = expected.split_once('\n').unwrap().1;
    assert_aligned(table, &["COUNT"]);

    let output = tagtally(&with_socket(&daemon, &["stock", "--zone", "attic"]));
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        "store paris-01  epoch 01jnc2x4  seq 1234\nno counts match\n"
    );
}

#[test]
fn status_prints_json_or_aligned_key_values() {
    let daemon = TestDaemon::start(sample_backend(64));
    let output = tagtally(&with_socket(&daemon, &["status", "--json"]));
    assert_ok(&output);
    assert_eq!(
        serde_json::from_str::<Status>(&stdout(&output)).unwrap(),
        sample_status()
    );

    let output = tagtally(&with_socket(&daemon, &["status"]));
    assert_ok(&output);
    let text = stdout(&output);
    assert!(!text.contains('\x1b'), "no colour when piped: {text:?}");
    let lines: Vec<&str> = text.lines().collect();
    // The widest key sets where every value starts.
    let value_column = "last acked seq  ".len();
    for line in &lines {
        assert_eq!(&line[value_column - 2..value_column], "  ", "{line:?}");
        assert_ne!(&line[value_column..value_column + 1], " ", "{line:?}");
    }
    let values: Vec<&str> = lines.iter().map(|line| &line[value_column..]).collect();
    assert_eq!(values[0], "paris-01 (epoch 01jnc2x4)");
    assert_eq!(
        values[1],
        "0.1.0, up 1h 2m (since 2025-03-01T09:30:00.250Z)"
    );
    assert_eq!(values[2], "1 up, 1 down");
    assert_eq!(values[5], "3 records, 1.5 KiB");
    assert_eq!(values[6], "connecting (last error: connection refused)");
    assert!(values[7].ends_with(" ago"), "{}", values[7]);
    assert_eq!(&values[8..], ["1231", "backroom"]);
    let keys: Vec<&str> = lines
        .iter()
        .map(|line| line[..value_column].trim_end())
        .collect();
    assert_eq!(
        keys,
        [
            "store",
            "daemon",
            "readers",
            "reads/s",
            "tags present",
            "outbox",
            "mqtt",
            "last publish",
            "last acked seq",
            "stale zones"
        ]
    );
}

#[test]
fn readers_prints_json_or_an_aligned_table() {
    let daemon = TestDaemon::start(sample_backend(64));
    let output = tagtally(&with_socket(&daemon, &["readers", "--json"]));
    assert_ok(&output);
    assert_eq!(
        serde_json::from_str::<Vec<ReaderStatus>>(&stdout(&output)).unwrap(),
        sample_readers()
    );

    let output = tagtally(&with_socket(&daemon, &["readers"]));
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 3 + 2, "{text}");
    assert!(lines[0].starts_with("READER         KIND        ROLE   ENDPOINT        ANT  ZONE"));
    assert!(lines[1].starts_with("ceiling-1      llrp        fixed  10.0.0.21:5084"));
    assert!(lines[1].ends_with("Impinj R700  8.1.0"), "{:?}", lines[1]);
    assert!(lines[4].contains("down: no keepalive for 30s"));
    assert!(lines[4].contains(" never "));
    assert_aligned(&text, &["ANT", "READS/S", "ERRORS", "RECONNECTS"]);
}

/// A backend that says when a `tail` subscription has been made, so tests publish only once
/// the CLI is listening.
struct Notifying {
    inner: FixedBackend,
    subscribed: mpsc::Sender<()>,
}

impl ControlBackend for Notifying {
    async fn status(&self) -> Result<Status, BackendError> {
        self.inner.status().await
    }

    async fn readers(&self) -> Result<Vec<ReaderStatus>, BackendError> {
        self.inner.readers().await
    }

    async fn stock(&self, filter: &StockFilter) -> Result<Stock, BackendError> {
        self.inner.stock(filter).await
    }

    async fn metrics(&self) -> Result<String, BackendError> {
        self.inner.metrics().await
    }

    async fn epcis(&self, range: &EpcisRange) -> Result<serde_json::Value, BackendError> {
        self.inner.epcis(range).await
    }

    fn tail(&self) -> Result<TailSubscription, BackendError> {
        let subscription = self.inner.tail();
        let _ = self.subscribed.send(());
        subscription
    }

    async fn operate(
        &self,
        request: tagtally::control::protocol::Request,
    ) -> Result<tagtally::control::protocol::Reply, BackendError> {
        self.inner.operate(request).await
    }
}

fn tail_daemon() -> (TestDaemon, mpsc::Receiver<()>) {
    let inner = sample_backend(1024);
    let tail = inner.tail.clone();
    let (subscribed, on_subscribe) = mpsc::channel();
    let daemon = TestDaemon::start_backend(
        Notifying { inner, subscribed },
        tail,
        ServerLimits::default(),
    );
    (daemon, on_subscribe)
}

fn spawn_tail(
    daemon: &TestDaemon,
    extra: &[&str],
) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut args = vec!["tail", "--socket", daemon.path.to_str().unwrap()];
    args.extend(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tagtally tail");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdout)
}

fn next_line(stdout: &mut BufReader<std::process::ChildStdout>) -> String {
    // The child dies with the test daemon at the latest, so this read ends.
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read tail output");
    line
}

#[test]
fn tail_json_prints_one_event_per_line_in_order() {
    let (mut daemon, on_subscribe) = tail_daemon();
    let (mut child, mut out) = spawn_tail(&daemon, &["--json", "--kind", "read,move"]);
    on_subscribe.recv_timeout(STEP).expect("the cli subscribed");
    for n in 0..50 {
        daemon.tail.publish(numbered_event(n));
    }
    let departure = TailEvent::Departure {
        time: at(9),
        epc: "3074257bf7194e4000001a85".into(),
        zone: "floor".into(),
        sku: "80614141123458".into(),
        reason: "sale".into(),
    };
    daemon.tail.publish(departure); // filtered out by --kind
    let moved = TailEvent::Move {
        time: at(10),
        epc: "3074257bf7194e4000001a85".into(),
        from: "floor".into(),
        to: "backroom".into(),
        sku: "80614141123458".into(),
    };
    daemon.tail.publish(moved.clone());
    for n in 0..50 {
        let line = next_line(&mut out);
        let event: TailEvent = serde_json::from_str(&line).expect(&line);
        assert_eq!(event, numbered_event(n));
    }
    let line = next_line(&mut out);
    assert_eq!(line, moved_json() + "\n");
    assert_eq!(serde_json::from_str::<TailEvent>(&line).unwrap(), moved);
    // The daemon going away ends the stream: exit 69 with a message.
    daemon.stop();
    assert_eq!(next_line(&mut out), "");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(69));
}

/// The SPEC-shaped JSON line of the move event published above.
fn moved_json() -> String {
    r#"{"kind":"move","time":"2025-03-01T09:30:00.260Z","epc":"3074257bf7194e4000001a85","from":"floor","to":"backroom","sku":"80614141123458"}"#.to_owned()
}

#[test]
fn tail_prints_readable_lines() {
    let (daemon, on_subscribe) = tail_daemon();
    let (mut child, mut out) = spawn_tail(&daemon, &[]);
    on_subscribe.recv_timeout(STEP).expect("the cli subscribed");
    daemon.tail.publish(numbered_event(1));
    assert_eq!(
        next_line(&mut out),
        "2025-03-01T09:30:00.251Z  read       ceiling-1/1 floor             307400000000000000000001  sku 80614141123458  -51.5 dBm\n"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
