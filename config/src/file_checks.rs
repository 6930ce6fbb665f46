//! Checks of the files a config names (secrets, certificates) and of the config file itself.
//!
//! Kept apart from parsing so the schema and cross-field rules can be tested without a file
//! system, and so a config written for another machine can be checked against a copy of that
//! machine's files ([`FileChecks::UnderRoot`]).

use crate::error::{ConfigProblem, ErrorSink};
use crate::file_read::{read_regular_file, FileReadError};
use crate::paths::{FileRef, FileRole};
use crate::secret::{secret_from_bytes, SecretContentError, MAX_SECRET_BYTES};
use crate::Secret;
use std::fs;
use std::path::{Path, PathBuf};

/// Largest certificate file accepted: a CA bundle of every public root is well under 1 MiB.
pub const MAX_CERTIFICATE_BYTES: u64 = 4 * 1024 * 1024;

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
    pub fn locate(&self, path: &Path) -> Option<PathBuf> {
        match self {
            FileChecks::Real => Some(path.to_path_buf()),
            FileChecks::UnderRoot(root) => Some(root.join(path.strip_prefix("/").unwrap_or(path))),
            FileChecks::Skip => None,
        }
    }
}

/// The passwords read while checking, each with the path that named it.
#[derive(Debug, Default)]
pub(crate) struct ReadSecrets(Vec<(PathBuf, Secret)>);

impl ReadSecrets {
    /// The password read from `path`, if it was read and usable.
    pub(crate) fn take(&self, path: Option<&Path>) -> Option<Secret> {
        let path = path?;
        self.0
            .iter()
            .find(|(read, _)| read == path)
            .map(|(_, secret)| secret.clone())
    }
}

/// Checks every named file, reporting each problem at the key that names the file, and
/// returns the passwords read from the `password-file`s (those that are usable).
pub(crate) fn check_named_files(
    files: &[FileRef],
    checks: &FileChecks,
    sink: &mut ErrorSink,
) -> ReadSecrets {
    let mut secrets = ReadSecrets::default();
    for file in files {
        let Some(on_disk) = checks.locate(&file.path) else {
            continue;
        };
        match named_file(file, &on_disk) {
            Ok(Some(secret)) => secrets.0.push((file.path.clone(), secret)),
            Ok(None) => {}
            Err(problem) => sink.at(file.span.clone(), problem),
        }
    }
    secrets
}

/// Checks one named file; a `password-file` yields its password.
fn named_file(file: &FileRef, on_disk: &Path) -> Result<Option<Secret>, ConfigProblem> {
    let key = file.key;
    let path = file.path.clone();
    if file.role == FileRole::Socket {
        return socket_path_problem(key, &path, on_disk).map_or(Ok(None), Err);
    }
    let max = match file.role {
        FileRole::Certificate => MAX_CERTIFICATE_BYTES,
        FileRole::Password | FileRole::PrivateKey | FileRole::Socket => MAX_SECRET_BYTES,
    };
    // Reading (not just stat-ing) proves the daemon's user can read it.
    let bytes = read_regular_file(on_disk, max).map_err(|error| match error {
        FileReadError::Io(error) => ConfigProblem::FileUnreadable {
            key,
            path: path.clone(),
            reason: error.to_string(),
        },
        FileReadError::NotRegular { kind } => ConfigProblem::NotAFile {
            key,
            path: path.clone(),
            kind,
        },
        FileReadError::TooLarge { len, max } => ConfigProblem::FileTooLarge {
            key,
            path: path.clone(),
            len,
            max,
        },
    })?;
    if file.role == FileRole::Certificate {
        return Ok(None);
    }
    let mode = fs::metadata(on_disk).map_or(0, |metadata| permission_bits(&metadata));
    if mode & 0o004 != 0 {
        return Err(ConfigProblem::SecretWorldReadable { key, path, mode });
    }
    match secret_from_bytes(bytes) {
        Ok(secret) if file.role == FileRole::Password => Ok(Some(secret)),
        Ok(_) => Ok(None),
        // A PEM key is ASCII; only its emptiness is this module's business (the TLS setup
        // judges the content).
        Err(SecretContentError::NotUtf8) if file.role == FileRole::PrivateKey => Ok(None),
        Err(SecretContentError::Empty) => Err(ConfigProblem::EmptySecret { key, path }),
        Err(SecretContentError::NotUtf8) => Err(ConfigProblem::SecretNotText { key, path }),
    }
}

/// Something other than a socket where the control socket goes would be refused by the
/// daemon at bind time (it is not ours to delete); say so before it starts.
fn socket_path_problem(key: &'static str, path: &Path, on_disk: &Path) -> Option<ConfigProblem> {
    let metadata = fs::symlink_metadata(on_disk).ok()?;
    (!is_socket(&metadata.file_type())).then(|| ConfigProblem::NotASocket {
        key,
        path: path.to_path_buf(),
    })
}

#[cfg(unix)]
fn is_socket(file_type: &fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    file_type.is_socket()
}

#[cfg(not(unix))]
fn is_socket(_file_type: &fs::FileType) -> bool {
    true
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
        named_file(&file, path).err()
    }

    #[test]
    fn a_private_non_empty_password_passes_and_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", "s3cret\n", 0o600);
        let file = FileRef {
            key: "password-file",
            path: path.clone(),
            span: 0..1,
            role: FileRole::Password,
        };
        assert_eq!(
            named_file(&file, &path),
            Ok(Some(Secret::new("s3cret".into())))
        );
    }

    #[test]
    fn a_missing_file_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            problem(&dir.path().join("absent"), FileRole::Certificate),
            Some(ConfigProblem::FileUnreadable { .. })
        ));
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            problem(dir.path(), FileRole::Certificate),
            Some(ConfigProblem::NotAFile {
                kind: "directory",
                ..
            })
        ));
    }

    #[test]
    fn a_world_readable_secret_is_refused_but_a_certificate_may_be() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", "s3cret", 0o644);
        assert!(matches!(
            problem(&path, FileRole::Password),
            Some(ConfigProblem::SecretWorldReadable { mode: 0o644, .. })
        ));
        assert!(matches!(
            problem(&path, FileRole::PrivateKey),
            Some(ConfigProblem::SecretWorldReadable { mode: 0o644, .. })
        ));
        assert_eq!(problem(&path, FileRole::Certificate), None);
    }

    #[test]
    fn an_empty_or_blank_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", " \n", 0o600);
        for role in [FileRole::Password, FileRole::PrivateKey] {
            assert!(matches!(
                problem(&path, role),
                Some(ConfigProblem::EmptySecret { .. })
            ));
        }
    }

    #[test]
    fn an_oversized_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", &"x".repeat(64 * 1024 + 1), 0o600);
        assert!(matches!(
            problem(&path, FileRole::Password),
            Some(ConfigProblem::FileTooLarge { .. })
        ));
    }

    #[test]
    fn something_other_than_a_socket_at_the_socket_path_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "control.sock", "", 0o600);
        assert!(matches!(
            problem(&path, FileRole::Socket),
            Some(ConfigProblem::NotASocket { .. })
        ));
        assert_eq!(
            problem(&dir.path().join("absent.sock"), FileRole::Socket),
            None
        );
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
