//! Hostile reader text against the real `tagtally run` (issue 12): a reader whose firmware string and
//! exception message carry newlines, terminal escape sequences and a bidirectional override. The log
//! and `tagtally readers` show them escaped: no forged log line, nothing that drives a terminal.

mod run_support;
mod uplink_support;

use run_support::config_text::ConfigText;
use run_support::{poll, Daemon, WAIT};
use tagtally_sim::llrp::LlrpSim;
use tagtally_sim::scenario::Scenario;
use tokio::process::Command;

/// A forged log line, a screen clear, a window-title change and a right-to-left override.
const SCENARIO: &str = r#"
[reader]
firmware = "8.1\n2026-12-03T00:00:00.000000Z ERROR tagtally: forged\u001b[2J\u202e"

[[fault]]
at = "1s"
kind = "reader-exception"
message = "hot\n2026-12-03T00:00:00.000000Z ERROR tagtally: forged too\u001b]0;pwned\u0007"
"#;

/// What the log and the terminal may never carry.
fn assert_inert(what: &str, text: &str) {
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(
            !text.contains(bad),
            "{what} carries {:?}:\n{text}",
            bad.escape_debug().to_string()
        );
    }
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("2026-12-03T00:00:00.000000Z")),
        "{what} has a forged line:\n{text}"
    );
}

#[tokio::test]
async fn reader_text_reaches_the_log_and_the_terminal_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = LlrpSim::start("127.0.0.1:0", Scenario::parse(SCENARIO).expect("scenario"))
        .await
        .expect("start the emulator");
    let config = ConfigText::new("text-test", dir.path(), &dir.path().join("state"))
        .top("log-level = \"info\"")
        .zone("floor")
        .llrp("hostile", reader.addr(), "1 = \"floor\"")
        .mqtt("mqtt://127.0.0.1:9", "");
    let daemon = Daemon::start(dir.path(), &config, "text.log");
    let escaped_firmware =
        "8.1\\n2026-12-03T00:00:00.000000Z ERROR tagtally: forged\\u{1b}[2J\\u{202e}";
    let readers = poll("the reader's firmware", WAIT, || async {
        let readers = daemon.json("readers", &[]).await?;
        let first = readers
            .as_array()
            .or_else(|| readers["readers"].as_array())?
            .first()?
            .clone();
        first.get("firmware").is_some().then_some(first)
    })
    .await;
    assert_eq!(readers["firmware"], escaped_firmware);
    poll("the reader's exception in the log", WAIT, || async {
        daemon
            .log()
            .contains("reader reported an error")
            .then_some(())
    })
    .await;

    let log = daemon.log();
    assert_inert("the log", &log);
    assert!(log.contains("forged\\u{1b}[2J"), "{log}");
    assert!(log.contains("forged too\\u{1b}]0;pwned\\u{7}"), "{log}");

    let out = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["readers", "--socket"])
        .arg(dir.path().join("control.sock"))
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run tagtally readers");
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert_inert("tagtally readers", &table);
    assert!(table.contains(escaped_firmware), "{table}");
}
