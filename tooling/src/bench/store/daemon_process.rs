//! The daemon under test as a child process: this very binary's `run -c CONFIG`, its log in a file, stopped with SIGTERM like systemd would.
//!
//! Running the real binary (not the daemon's code on the benchmark's runtime) keeps the
//! emulators, the broker and the subscriber out of what `/proc/<pid>` charges the daemon.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};

/// How often a stopping daemon is checked on.
const POLL: Duration = Duration::from_millis(20);

/// The running daemon. Dropping it kills the process if it still runs.
#[derive(Debug)]
pub struct DaemonProcess {
    child: Child,
    log: PathBuf,
}

impl DaemonProcess {
    /// Starts `exe run -c config`, stderr (its log) to `log`, stdout discarded.
    pub fn spawn(exe: &Path, config: &Path, log: &Path) -> io::Result<DaemonProcess> {
        let log_file = File::create(log)?;
        let child = Command::new(exe)
            .arg("run")
            .arg("-c")
            .arg(config)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()?;
        Ok(DaemonProcess {
            child,
            log: log.to_path_buf(),
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status, if it has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM and waits for the exit, at most `grace`; then kills it. Returns the exit
    /// status, and whether it stopped on its own within `grace`.
    pub fn stop(&mut self, grace: Duration) -> (Option<ExitStatus>, bool) {
        if let Some(status) = self.exited() {
            return (Some(status), true);
        }
        let pid = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw);
        if let Some(pid) = pid {
            let _ = kill_process(pid, Signal::TERM);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return (Some(status), true);
            }
            // A bounded poll of the child's state: std offers no wait with a timeout.
            std::thread::sleep(POLL);
        }
        let _ = self.child.kill();
        (self.child.wait().ok(), false)
    }

    /// The last `bytes` of its log.
    pub fn log_tail(&self, bytes: u64) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let len = file.metadata().map_or(0, |m| m.len());
            let _ = file.seek(SeekFrom::Start(len.saturating_sub(bytes)));
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Where its log is.
    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
