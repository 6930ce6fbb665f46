//! The `tagtally` executable under test: the workspace's own build of it, in the profile this test
//! binary was built with, (re)built on first use so a scenario never runs a stale daemon.
//!
//! `cargo test --workspace` has usually built it already, and then the build below is a no-op apart
//! from feature differences between test and plain builds. `TAGTALLY_BIN` overrides the path (to
//! run the scenarios against an installed gateway binary).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Path of the binary under test.
pub fn tagtally() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("TAGTALLY_BIN") {
        Some(path) => PathBuf::from(path),
        None => build(),
    })
}

/// `cargo build -p tagtally --bin tagtally` in our profile; returns the executable cargo reports.
fn build() -> PathBuf {
    let release = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            // target/<profile>/deps/<test binary>
            let profile = exe.parent()?.parent()?.file_name()?.to_owned();
            Some(profile == "release")
        })
        .unwrap_or(false);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace).args([
        "build",
        "--quiet",
        "-p",
        "tagtally",
        "--bin",
        "tagtally",
        "--message-format=json",
    ]);
    if release {
        cmd.arg("--release");
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build for the tagtally binary");
    assert!(out.status.success(), "cargo build of tagtally failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "tagtally")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no tagtally executable")
}
