//! `tagtally metrics`: the daemon's Prometheus metrics, printed or written as a node_exporter
//! textfile (`--output`), atomically: a scrape never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use tagtally::exit;

use super::daemon::{connect, fail, print};
use super::ControlArgs;

/// Arguments of `tagtally metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// Write to this file instead of stdout, replacing it atomically (for node_exporter's textfile
    /// collector: a `.prom` file in its `--collector.textfile.directory`).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `metrics`.
pub fn run(args: &MetricsArgs) -> ExitCode {
    let text = match connect(&args.control).and_then(|mut c| c.metrics().map_err(|e| fail(&e))) {
        Ok(text) => text,
        Err(code) => return code,
    };
    let Some(path) = &args.output else {
        return match print(&text) {
            Ok(()) => exit::code(exit::OK),
            Err(code) => code,
        };
    };
    match write_atomically(path, text.as_bytes()) {
        Ok(()) => exit::code(exit::OK),
        Err(error) => {
            eprintln!("tagtally: cannot write {}: {error}", path.display());
            exit::code(exit::IO_ERR)
        }
    }
}

/// Writes `bytes` to a temporary file beside `path` (node_exporter ignores names not ending in
/// `.prom`), syncs it, makes it world-readable and renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temporary = dir.join(format!(".tagtally-metrics-{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&temporary)
        .and_then(|mut file| {
            use std::os::unix::fs::PermissionsExt;
            // Whatever the umask: node_exporter runs as another user.
            file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_textfile_is_replaced_whole_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tagtally.prom");
        std::fs::write(&path, "old\n").unwrap();
        write_atomically(&path, b"tagtally_tags_present 3\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "tagtally_tags_present 3\n"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/tagtally.prom");
        assert!(write_atomically(&path, b"x").is_err());
    }
}
