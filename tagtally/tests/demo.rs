//! Black-box test of `tagtally demo`: the README's first command runs with nothing installed, shows
//! HQ receiving deltas, the handheld count of the stockroom, the differences from HQ's books and the
//! pick list, and ends cleanly after `--duration`.

#![cfg_attr(not(feature = "demo-broker"), allow(unused_imports))]

use std::process::Command;
use std::time::Instant;

#[cfg(feature = "demo-broker")]
#[test]
fn demo_runs_for_its_duration_prints_deltas_and_exits_0() {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["demo", "--duration", "9s"])
        .env_remove("RUST_LOG")
        .output()
        .expect("run tagtally demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // Not a terminal: plain lines, one per delta as HQ receives it.
    assert!(stdout.contains("delta #1 "), "{stdout}");
    assert!(stdout.contains("reader ceiling-floor up"), "{stdout}");
    assert!(stdout.contains("store online"), "{stdout}");
    // The scripted handheld count (3 s in, 3 s long) finds the stockroom's 47 items, and HQ
    // sees its retained `count` message.
    assert!(stdout.contains("reader sled up"), "{stdout}");
    assert!(
        stdout.contains(
            "count of the stockroom: 47 seen, 47 arrived, 0 moved in, 0 departed (delta #"
        ),
        "{stdout}"
    );
    // HQ's books (retained on `expected`, two planted errors) come back as the store's
    // differences from them; the pick list follows the counts (the stockroom's new product, never
    // on the floor, is on it once counted).
    assert!(stdout.contains(" differ from book demo-book-1"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("replenish: ") && l.contains(" to bring to the floor")),
        "{stdout}"
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("demo over: HQ applied "))
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    assert!(
        summary.contains("(0 duplicates dropped, 0 missing seqs)"),
        "{summary}"
    );
    // The daemon stopped cleanly: HQ saw its retained status turn offline.
    assert!(stdout.contains("store offline"), "{stdout}");
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        elapsed < 60.0,
        "the demo took {elapsed:.1}s for a 9s duration"
    );
    // Its temporary state is gone.
    let dir = stdout
        .split_whitespace()
        .find(|w| w.ends_with("/control.sock"))
        .expect("the control socket path is printed");
    let dir = std::path::Path::new(dir).parent().unwrap();
    assert!(!dir.exists(), "{} left behind", dir.display());
    if let Some(log) = stdout.lines().find_map(|l| l.strip_prefix("daemon log: ")) {
        let _ = std::fs::remove_file(log);
    }
}
