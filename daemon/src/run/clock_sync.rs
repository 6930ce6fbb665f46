//! Whether the system clock is synchronised, as far as the daemon can tell without privileges.
//!
//! The kernel's own flag (`adjtimex`, STA_UNSYNC) is not reachable without unsafe code here (rustix
//! does not expose it), so the daemon asks the one NTP client that leaves a public trace:
//! systemd-timesyncd creates `/run/systemd/timesync/synchronized` once it has set the clock. With
//! timesyncd running but that file absent, the clock is not synchronised (yet); without timesyncd
//! (chrony, ntpd-rs, none) the answer is `unknown`, and the unit's `After=time-sync.target` is what
//! holds the daemon back until the NTP client says the time is set.

use std::path::Path;

use crate::control::ClockSync;

/// systemd-timesyncd's run-time directory.
pub const TIMESYNCD_DIR: &str = "/run/systemd/timesync";

/// The system clock's state, from [`TIMESYNCD_DIR`].
pub fn clock_sync() -> ClockSync {
    clock_sync_in(Path::new(TIMESYNCD_DIR))
}

/// The clock's state as timesyncd's directory `dir` says.
pub fn clock_sync_in(dir: &Path) -> ClockSync {
    if dir.join("synchronized").exists() {
        ClockSync::Synchronized
    } else if dir.is_dir() {
        ClockSync::Unsynchronized
    } else {
        ClockSync::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timesyncd_s_flag_file_decides() {
        let dir = tempfile::tempdir().unwrap();
        let timesync = dir.path().join("timesync");
        assert_eq!(clock_sync_in(&timesync), ClockSync::Unknown);
        std::fs::create_dir(&timesync).unwrap();
        assert_eq!(clock_sync_in(&timesync), ClockSync::Unsynchronized);
        std::fs::write(timesync.join("synchronized"), "").unwrap();
        assert_eq!(clock_sync_in(&timesync), ClockSync::Synchronized);
    }
}
