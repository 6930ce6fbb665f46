//! One config plan: for every refusal `tagtally run` can make about its config, `tagtally
//! check-config` makes it first, with the same `FILE:LINE:COL: message` line and exit 78 — the
//! real binary on each case of one table, both commands, a bounded wait each (a FIFO named by the
//! config must never block either of them).
//!
//! The table lists the refusals that used to be made only downstream (by the drivers, the engine
//! mapping or the uplink, unlocated) next to the file checks, so a rule that slips out of the plan
//! shows up here as a `run` that starts (and is stopped at the bound) or a `check-config` that
//! says ok.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Longest either command may take to refuse: they read a few small files and exit.
const BOUND: Duration = Duration::from_secs(20);

/// Runs the binary with `args`, killing it if it has not exited within [`BOUND`].
fn tagtally(args: &[&str]) -> Result<Output, String> {
    let child = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(args)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tagtally");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(BOUND) {
        Ok(output) => Ok(output.expect("wait for tagtally")),
        Err(_) => {
            let pid = rustix::process::Pid::from_raw(pid as i32).expect("a child pid");
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            Err(format!("tagtally {args:?} did not exit within {BOUND:?}"))
        }
    }
}

/// One refusal: the parts of the config that provoke it, the files it names, and what must be
/// said where.
struct Case {
    name: &'static str,
    /// The `[[reader]]` table.
    reader: &'static str,
    /// The `[mqtt]` keys (the url included).
    mqtt: &'static str,
    /// Other top-level keys and tables, written after `store`.
    extra: &'static str,
    /// Puts the files the config names into the directory.
    files: fn(&Path),
    /// The text at whose first character the problem is located.
    at: &'static str,
    /// The message, or its start.
    message: &'static str,
}

const LLRP: &str = "[[reader]]\nname = \"r1\"\nkind = \"llrp\"\naddress = \"127.0.0.1:9\"\nantennas = { 1 = \"floor\" }\n";
const PLAIN: &str = "url = \"mqtt://127.0.0.1:9\"\n";

fn no_files(_: &Path) {}

fn private(path: &Path, content: &[u8]) {
    fs::write(path, content).unwrap();
    set_mode(path, 0o600);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn fifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
}

/// A CA certificate that TLS accepts, as `ca.pem` and `client.pem`, and the certificate again
/// where a key is expected (`cert-as-key.pem`).
fn pki(dir: &Path) {
    let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    private(&dir.join("ca.pem"), ca.cert.pem().as_bytes());
    private(&dir.join("client.pem"), ca.cert.pem().as_bytes());
    private(&dir.join("cert-as-key.pem"), ca.cert.pem().as_bytes());
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "thingmagic antenna beyond the nibble",
            reader: "[[reader]]\nname = \"till\"\nkind = \"thingmagic\"\naddress = \"127.0.0.1:9\"\nantennas = { 16 = \"floor\" }\n",
            mqtt: PLAIN,
            extra: "",
            files: no_files,
            at: "16 = ",
            message: "reader `till`: antenna 16 does not exist on ThingMagic modules (ports 1 to 15)",
        },
        Case {
            name: "r2000 region without a preset band",
            reader: "[[reader]]\nname = \"gate\"\nkind = \"r2000\"\naddress = \"127.0.0.1:9\"\nregion = \"jp\"\nantennas = { 1 = \"floor\" }\n",
            mqtt: PLAIN,
            extra: "",
            files: no_files,
            at: "\"jp\"",
            message: "reader `gate`: region `jp` has no preset band on R2000 modules",
        },
        Case {
            name: "r2000 antenna beyond the fast-switch slots",
            reader: "[[reader]]\nname = \"gate\"\nkind = \"r2000\"\naddress = \"127.0.0.1:9\"\nantennas = { 1 = \"floor\", 5 = \"floor\" }\n",
            mqtt: PLAIN,
            extra: "",
            files: no_files,
            at: "5 = ",
            message: "reader `gate`: antenna 5 does not exist on R2000 modules (ports 1 to 4",
        },
        Case {
            name: "arrive-reads beyond what the engine counts",
            reader: LLRP,
            mqtt: PLAIN,
            extra: "[presence]\narrive-reads = 70000\n",
            files: no_files,
            at: "70000",
            message: "arrive-reads must be from 1 to 1000, not 70000",
        },
        Case {
            name: "broker url with an ipv6 literal",
            reader: LLRP,
            mqtt: "url = \"mqtt://[::1]:1883\"\n",
            extra: "",
            files: no_files,
            at: "\"mqtt://[",
            message: "invalid mqtt url `mqtt://[::1]:1883`: ipv6 literals are not supported",
        },
        Case {
            name: "password file of whitespace only",
            reader: LLRP,
            mqtt: "url = \"mqtt://127.0.0.1:9\"\nusername = \"u\"\npassword-file = \"pw\"\n",
            extra: "",
            files: |dir| private(&dir.join("pw"), b" \t\n"),
            at: "\"pw\"",
            message: "`password-file` ",
        },
        Case {
            name: "password file missing",
            reader: LLRP,
            mqtt: "url = \"mqtt://127.0.0.1:9\"\nusername = \"u\"\npassword-file = \"pw\"\n",
            extra: "",
            files: no_files,
            at: "\"pw\"",
            message: "`password-file` ",
        },
        Case {
            name: "password file that is a fifo",
            reader: LLRP,
            mqtt: "url = \"mqtt://127.0.0.1:9\"\nusername = \"u\"\npassword-file = \"pw\"\n",
            extra: "",
            files: |dir| fifo(&dir.join("pw")),
            at: "\"pw\"",
            message: "`password-file` ",
        },
        Case {
            name: "ca-file that is a fifo",
            reader: LLRP,
            mqtt: "url = \"mqtts://127.0.0.1:9\"\nca-file = \"ca.pem\"\n",
            extra: "",
            files: |dir| fifo(&dir.join("ca.pem")),
            at: "\"ca.pem\"",
            message: "`ca-file` ",
        },
        Case {
            name: "ca-file without a certificate",
            reader: LLRP,
            mqtt: "url = \"mqtts://127.0.0.1:9\"\nca-file = \"ca.pem\"\n",
            extra: "",
            files: |dir| private(&dir.join("ca.pem"), b"not a certificate\n"),
            at: "\"ca.pem\"",
            message: "`ca-file` ",
        },
        Case {
            name: "client-key that holds no key",
            reader: LLRP,
            mqtt: "url = \"mqtts://127.0.0.1:9\"\nca-file = \"ca.pem\"\nclient-cert = \"client.pem\"\nclient-key = \"cert-as-key.pem\"\n",
            extra: "",
            files: pki,
            at: "\"cert-as-key.pem\"",
            message: "`client-key` ",
        },
        Case {
            name: "something else where the control socket goes",
            reader: LLRP,
            mqtt: PLAIN,
            extra: "control-socket = \"not-a-socket\"\n",
            files: |dir| private(&dir.join("not-a-socket"), b""),
            at: "\"not-a-socket\"",
            message: "`control-socket` ",
        },
    ]
}

/// The config of `case` in `dir` (state inside it; the broker and readers are never reached).
fn config_text(case: &Case, dir: &Path) -> String {
    let socket = if case.extra.contains("control-socket") {
        String::new()
    } else {
        format!("control-socket = \"{}/control.sock\"\n", dir.display())
    };
    format!(
        "store = \"s1\"\nstate-dir = \"{}/state\"\n{socket}{}\n[[zone]]\nname = \"floor\"\n\n{}\n[mqtt]\n{}",
        dir.display(),
        case.extra,
        case.reader,
        case.mqtt
    )
}

/// `LINE:COL` of the first occurrence of `needle` in `text`, counted as an editor does.
fn location_of(text: &str, needle: &str) -> String {
    let offset = text.find(needle).expect("the needle is in the config");
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |n| n + 1)..]
        .chars()
        .count()
        + 1;
    format!("{line}:{col}")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn config_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("tagtally.toml");
    fs::write(&path, text).unwrap();
    set_mode(&path, 0o640);
    path
}

#[test]
fn every_refusal_of_run_is_made_first_by_check_config_with_the_same_located_line() {
    let mut failures = Vec::new();
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        (case.files)(dir.path());
        let text = config_text(&case, dir.path());
        let path = config_file(dir.path(), &text);
        let expected = format!(
            "{}:{}: {}",
            path.display(),
            location_of(&text, case.at),
            case.message
        );
        let path_arg = path.to_str().unwrap();
        for command in ["check-config", "run"] {
            match tagtally(&[command, "-c", path_arg]) {
                Err(hung) => failures.push(format!("{}: {hung}", case.name)),
                Ok(output) => {
                    let said = stderr(&output);
                    let line = said.lines().find(|line| line.starts_with(&expected));
                    if output.status.code() != Some(78) || line.is_none() {
                        failures.push(format!(
                            "{}: `{command}` exited {:?}, expected 78 with a line starting\n  {expected}\nit said:\n{said}",
                            case.name,
                            output.status.code(),
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Both commands print the same lines for the same config: the plan is one.
#[test]
fn check_config_and_run_print_the_same_problems() {
    let dir = tempfile::tempdir().unwrap();
    let case = &cases()[0];
    let text = config_text(case, dir.path());
    let path = config_file(dir.path(), &text);
    let check = tagtally(&["check-config", "-c", path.to_str().unwrap()]).unwrap();
    let run = tagtally(&["run", "-c", path.to_str().unwrap()]).unwrap();
    assert_eq!(stderr(&check), stderr(&run));
}

#[test]
fn a_config_that_is_a_fifo_is_refused_at_once_by_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagtally.toml");
    fifo(&path);
    for command in ["check-config", "run"] {
        let output = tagtally(&[command, "-c", path.to_str().unwrap()]).unwrap();
        assert_eq!(output.status.code(), Some(78), "{command}");
        assert_eq!(
            stderr(&output).trim_end(),
            format!(
                "{}: cannot read the config file: is not a regular file but a fifo",
                path.display()
            ),
            "{command}"
        );
    }
}

/// 100 MB of config (a string value, or comments) is refused by its size before it is read:
/// quickly, with one bounded line. Timing is left to the bound; the size check reads nothing.
#[test]
fn a_100_mb_config_is_refused_unread_with_a_bounded_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagtally.toml");
    let file = fs::File::create(&path).unwrap();
    // Sparse: the test does not write 100 MB to disk.
    file.set_len(100 * 1024 * 1024).unwrap();
    set_mode(&path, 0o640);
    let started = std::time::Instant::now();
    let output = tagtally(&["check-config", "-c", path.to_str().unwrap()]).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(78));
    assert_eq!(
        stderr(&output).trim_end(),
        format!(
            "{}: cannot read the config file: is 104857600 bytes, more than the 4194304 bytes accepted",
            path.display()
        )
    );
    eprintln!("100 MB config refused in {elapsed:?}");
}

/// A long value inside an accepted size is quoted shortened, so the message stays one short line.
#[test]
fn a_long_quoted_value_is_shortened_in_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(1_000_000);
    let text = format!("store = \"{long}\"\n[[zone]]\nname = \"floor\"\n{LLRP}[mqtt]\n{PLAIN}");
    let path = config_file(dir.path(), &text);
    let output = tagtally(&["check-config", "-c", path.to_str().unwrap()]).unwrap();
    assert_eq!(output.status.code(), Some(78));
    let said = stderr(&output);
    assert!(said.len() < 400, "{} bytes: {said:.400}", said.len());
    assert!(said.contains("… (1000000 characters)"), "{said}");
}
