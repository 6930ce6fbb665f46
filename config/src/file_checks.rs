//! Checks of the files a config names (secrets, certificates) and of the config file itself.
//!
//! Kept apart from parsing so the schema and cross-field rules can be tested without a file
//! system, and so a config written for another machine can be checked against a copy of that
//! machine's files ([`FileChecks::UnderRoot`]).

use crate::error::{ConfigProblem, ErrorSink};
use crate::paths::{FileRef, FileRole};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest secret file accepted: a password or a PEM private key is far smaller.
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Whether and where the files a config names are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChecks {
    /// Check the files at the paths written (what the daemon and `check-config` do).
    Real,
    /// Check each absolute path under this directory instead of `/` (e.g. an image of the
    /// gateway's file system, or a test's temporary directory).
    UnderRoot(PathBuf),
    /// Do not touch the file system: schema and cross-field rules only.
    Skip,
}

impl FileChecks {
    /// Where `path` is looked at; `None` when checks are skipped.
    fn locate(&self, path: &Path) -> Option<PathBuf> {
        match self {
            FileChecks::Real => Some(path.to_path_buf()),
            FileChecks::UnderRoot(root) => Some(root.join(path.strip_prefix("/").unwrap_or(path))),
            FileChecks::Skip => None,
        }
    }
}

/// Checks every named file, reporting each problem at the key that names the file.
pub(crate) fn check_named_files(files: &[FileRef], checks: &FileChecks, sink: &mut ErrorSink) {
    for file in files {
        if let Some(on_disk) = checks.locate(&file.path) {
            if let Some(problem) = named_file_problem(file, &on_disk) {
                sink.at(file.span.clone(), problem);
            }
        }
    }
}

fn named_file_problem(file: &FileRef, on_disk: &Path) -> Option<ConfigProblem> {
    let key = file.key;
    let path = file.path.clone();
    let unreadable = |error: std::io::Error| ConfigProblem::FileUnreadable {
        key,
        path: path.clone(),
        reason: error.to_string(),
    };
    // Opening (not just stat-ing) proves the daemon's user can read it.
    let mut opened = match File::open(on_disk) {
        Ok(opened) => opened,
        Err(error) => return Some(unreadable(error)),
    };
    let metadata = match opened.metadata() {
        Ok(metadata) => metadata,
        Err(error) => return Some(unreadable(error)),
    };
    if !metadata.is_file() {
        return Some(ConfigProblem::NotAFile { key, path });
    }
    if file.role == FileRole::Public {
        return None;
    }
    let mode = permission_bits(&metadata);
    if mode & 0o004 != 0 {
        return Some(ConfigProblem::SecretWorldReadable { key, path, mode });
    }
    if metadata.len() > MAX_SECRET_BYTES {
        return Some(ConfigProblem::SecretTooLarge {
            key,
            path,
            len: metadata.len(),
            max: MAX_SECRET_BYTES,
        });
    }
    let mut content = Vec::new();
    if let Err(error) = opened.read_to_end(&mut content) {
        return Some(unreadable(error));
    }
    if content.iter().all(u8::is_ascii_whitespace) {
        return Some(ConfigProblem::EmptySecret { key, path });
    }
    None
}

/// A problem with the config file's own permissions: anyone able to write it controls the
/// daemon, so a world-writable config is refused.
pub(crate) fn config_file_problem(path: &Path) -> Option<ConfigProblem> {
    let metadata = fs::metadata(path).ok()?;
    let mode = permission_bits(&metadata);
    (mode & 0o002 != 0).then_some(ConfigProblem::ConfigWorldWritable { mode })
}

#[cfg(unix)]
fn permission_bits(metadata: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

// Elsewhere there are no mode bits to judge; nothing is refused for them.
#[cfg(not(unix))]
fn permission_bits(_metadata: &fs::Metadata) -> u32 {
    0
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write(dir: &Path, name: &str, content: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn problem(path: &Path, role: FileRole) -> Option<ConfigProblem> {
        let file = FileRef {
            key: "password-file",
            path: path.to_path_buf(),
            span: 0..1,
            role,
        };
        named_file_problem(&file, path)
    }

    #[test]
    fn a_private_non_empty_secret_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", "s3cret\n", 0o600);
        assert_eq!(problem(&path, FileRole::Secret), None);
    }

    #[test]
    fn a_missing_file_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            problem(&dir.path().join("absent"), FileRole::Public),
            Some(ConfigProblem::FileUnreadable { .. })
        ));
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            problem(dir.path(), FileRole::Public),
            Some(ConfigProblem::NotAFile { .. })
        ));
    }

    #[test]
    fn a_world_readable_secret_is_refused_but_a_certificate_may_be() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", "s3cret", 0o644);
        assert!(matches!(
            problem(&path, FileRole::Secret),
            Some(ConfigProblem::SecretWorldReadable { mode: 0o644, .. })
        ));
        assert_eq!(problem(&path, FileRole::Public), None);
    }

    #[test]
    fn an_empty_or_blank_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", " \n", 0o600);
        assert!(matches!(
            problem(&path, FileRole::Secret),
            Some(ConfigProblem::EmptySecret { .. })
        ));
    }

    #[test]
    fn an_oversized_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", &"x".repeat(64 * 1024 + 1), 0o600);
        assert!(matches!(
            problem(&path, FileRole::Secret),
            Some(ConfigProblem::SecretTooLarge { .. })
        ));
    }

    #[test]
    fn a_world_writable_config_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "t.toml", "", 0o666);
        assert_eq!(
            config_file_problem(&path),
            Some(ConfigProblem::ConfigWorldWritable { mode: 0o666 })
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(config_file_problem(&path), None);
    }

    #[test]
    fn under_root_rebases_absolute_paths() {
        let checks = FileChecks::UnderRoot(PathBuf::from("/tmp/image"));
        assert_eq!(
            checks.locate(Path::new("/etc/tagtally/ca.pem")),
            Some(PathBuf::from("/tmp/image/etc/tagtally/ca.pem"))
        );
        assert_eq!(FileChecks::Skip.locate(Path::new("/etc/x")), None);
    }
}
