//! Build script: stamps the binary with the git commit it was built from and its target, for
//! `tagtally --version`, `status --json` and the MQTT `status` payload (`build_info.rs`).
//!
//! `TAGTALLY_GIT_COMMIT` in the build environment wins (a source tarball or a packaging build has no
//! `.git`); otherwise `git rev-parse` in the source tree; otherwise `unknown`. The script re-runs when
//! HEAD moves (its reflog grows on every commit and checkout), not on every edit: a build from a tree
//! with uncommitted changes carries the commit it started from.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=TAGTALLY_GIT_COMMIT");
    let commit = match std::env::var("TAGTALLY_GIT_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_owned(),
        _ => {
            if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
                let dir = PathBuf::from(dir);
                for file in ["HEAD", "logs/HEAD"] {
                    println!("cargo:rerun-if-changed={}", dir.join(file).display());
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
        }
    };
    // Only hex digits or `unknown` reach the binary: the value ends up in JSON and MQTT payloads.
    let commit = if commit.chars().all(|c| c.is_ascii_hexdigit()) && commit.len() <= 40 {
        commit
    } else {
        "unknown".to_owned()
    };
    println!("cargo:rustc-env=TAGTALLY_GIT_COMMIT={commit}");
    println!(
        "cargo:rustc-env=TAGTALLY_TARGET={}",
        std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned())
    );
}
