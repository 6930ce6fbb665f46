//! What this binary is: version, git commit, cargo features and target, as `--version`, `status
//! --json` and the MQTT `status` payload report it (the commit and target come from `build.rs`).

use serde::Serialize;

/// The build of the running binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    /// The crate version (`Cargo.toml`).
    pub version: &'static str,
    /// The git commit, 12 hex digits, or `unknown` for a build outside a git tree.
    pub commit: &'static str,
    /// The cargo features compiled in (`demo-broker`; empty for the gateway build).
    pub features: &'static [&'static str],
    /// The target triple, e.g. `aarch64-unknown-linux-gnu`.
    pub target: &'static str,
}

/// The optional features compiled in, in `Cargo.toml` order (one line per feature of the crate).
const FEATURES: &[&str] = &[
    #[cfg(feature = "demo-broker")]
    "demo-broker",
];

/// The build of the running binary.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("TAGTALLY_GIT_COMMIT"),
        features: FEATURES,
        target: env!("TAGTALLY_TARGET"),
    }
}

impl BuildInfo {
    /// One string that names the build, as a SemVer version with build metadata:
    /// `0.1.0+2db8d49a1b2c` (`0.1.0` when the commit is unknown). This is what HQ sees in the
    /// `version` of the MQTT `status` payload: sortable by version, exact to the commit.
    pub fn version_with_commit(&self) -> String {
        if self.commit == "unknown" {
            self.version.to_owned()
        } else {
            format!("{}+{}", self.version, self.commit)
        }
    }

    /// The text after `tagtally ` in `--version`:
    /// `0.1.0 (commit 2db8d49a1b2c, features: demo-broker, x86_64-unknown-linux-gnu)`.
    pub fn long_version(&self) -> String {
        let features = if self.features.is_empty() {
            "none".to_owned()
        } else {
            self.features.join(",")
        };
        format!(
            "{} (commit {}, features: {}, {})",
            self.version, self.commit, features, self.target
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_version_commit_features_and_target() {
        let info = build_info();
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert!(
            info.commit == "unknown"
                || (info.commit.len() == 12 && info.commit.chars().all(|c| c.is_ascii_hexdigit())),
            "{}",
            info.commit
        );
        assert_eq!(
            info.features.contains(&"demo-broker"),
            cfg!(feature = "demo-broker")
        );
        let long = info.long_version();
        assert!(long.starts_with(&format!("{} (commit {}", info.version, info.commit)));
        assert!(long.ends_with(&format!("{})", info.target)));
        let short = info.version_with_commit();
        assert!(short.starts_with(info.version));
    }

    #[test]
    fn version_with_commit_is_semver_build_metadata() {
        let info = BuildInfo {
            version: "1.2.3",
            commit: "2db8d49a1b2c",
            features: &[],
            target: "x86_64-unknown-linux-gnu",
        };
        assert_eq!(info.version_with_commit(), "1.2.3+2db8d49a1b2c");
        assert_eq!(
            info.long_version(),
            "1.2.3 (commit 2db8d49a1b2c, features: none, x86_64-unknown-linux-gnu)"
        );
        let unknown = BuildInfo {
            commit: "unknown",
            ..info
        };
        assert_eq!(unknown.version_with_commit(), "1.2.3");
    }
}
