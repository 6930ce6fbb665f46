//! Paths in the config: relative ones are resolved against the config file's directory, and the
//! files the daemon will open are listed for the file-system checks.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// `path` as the daemon will open it: absolute paths unchanged, relative ones taken from the
/// directory of the config file, so the daemon never depends on its working directory
/// (systemd starts it in `/`).
pub(crate) fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// The directory relative paths of the config at `origin` are resolved against.
pub(crate) fn base_dir(origin: &Path) -> PathBuf {
    origin.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// What a named file holds, which decides how strictly it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileRole {
    /// `password-file`: private, UTF-8, not empty; its content is the password.
    Password,
    /// A private key: private, not empty.
    PrivateKey,
    /// A certificate: must only be a readable regular file.
    Certificate,
    /// The control socket's path: free, or a socket (a stale one is replaced at start).
    Socket,
}

/// A file the config names, with where it is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRef {
    pub key: &'static str,
    pub path: PathBuf,
    pub span: Range<usize>,
    pub role: FileRole,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_stay_and_relative_ones_follow_the_config() {
        let base = base_dir(Path::new("/etc/tagtally/tagtally.toml"));
        assert_eq!(base, Path::new("/etc/tagtally"));
        assert_eq!(
            resolve(&base, Path::new("/var/lib/tagtally")),
            Path::new("/var/lib/tagtally")
        );
        assert_eq!(
            resolve(&base, Path::new("mqtt.password")),
            Path::new("/etc/tagtally/mqtt.password")
        );
    }

    #[test]
    fn a_bare_file_name_as_origin_leaves_relative_paths_relative() {
        let base = base_dir(Path::new("tagtally.toml"));
        assert_eq!(resolve(&base, Path::new("state")), Path::new("state"));
    }
}
