//! Resident memory from `/proc/<pid>/status` (Linux), of this process or another (the daemon under `bench store`): peak (`VmHWM`) and current (`VmRSS`), for the memory budget of SPEC §8.
//!
//! `VmHWM` is the kernel's high-water mark of the resident set since the process started, so it
//! covers everything the run held at its worst moment (engine tables, input bytes, allocator
//! slack, the burst of 200 000 simultaneous arrivals), not a snapshot after the fact. `VmRSS`
//! at the end shows what stays once that burst is over.

use std::fs;

/// The peak and the current resident set in bytes, from one read of `/proc/self/status`.
///
/// Two separate reads can disagree (the set may grow between them, so "current" could exceed
/// the "peak" read a moment earlier); one read is one consistent view: the kernel prints
/// `VmHWM` as at least the `VmRSS` it prints beside it.
pub fn peak_and_current_rss_bytes() -> (Option<u64>, Option<u64>) {
    match fs::read_to_string("/proc/self/status") {
        Ok(status) => (
            parse_kb_line(&status, "VmHWM:"),
            parse_kb_line(&status, "VmRSS:"),
        ),
        Err(_) => (None, None),
    }
}

/// The peak resident set of process `pid` in bytes, or `None` when it is gone or has no `VmHWM` line.
pub fn peak_rss_bytes_of(pid: u32) -> Option<u64> {
    status_bytes_of(pid, "VmHWM:")
}

/// The current resident set of process `pid` in bytes, or `None` when it is gone.
pub fn rss_bytes_of(pid: u32) -> Option<u64> {
    status_bytes_of(pid, "VmRSS:")
}

/// The anonymous part of process `pid`'s resident set (`RssAnon`: heap and stacks, not the mapped binary).
pub fn anon_rss_bytes_of(pid: u32) -> Option<u64> {
    status_bytes_of(pid, "RssAnon:")
}

fn status_bytes_of(pid: u32, key: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_kb_line(&status, key)
}

/// `VmHWM:   12345 kB` → bytes.
fn parse_kb_line(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    let mut fields = line.split_whitespace().skip(1);
    let value: u64 = fields.next()?.parse().ok()?;
    // The kernel always prints kB (KiB); anything else would be a format we do not know.
    match fields.next()? {
        "kB" => value.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kernel_line() {
        let status =
            "Name:\ttagtally\nVmPeak:\t  200000 kB\nVmHWM:\t   13312 kB\nVmRSS:\t   13000 kB\n";
        assert_eq!(parse_kb_line(status, "VmHWM:"), Some(13_312 * 1024));
        assert_eq!(parse_kb_line(status, "VmRSS:"), Some(13_000 * 1024));
        assert_eq!(parse_kb_line("VmHWM:\t12 MB\n", "VmHWM:"), None);
        assert_eq!(parse_kb_line("VmRSS:\t12 kB\n", "VmHWM:"), None);
        assert_eq!(parse_kb_line("VmHWM:\tlots kB\n", "VmHWM:"), None);
    }

    #[test]
    fn this_process_has_a_peak() {
        if cfg!(target_os = "linux") {
            let (peak, now) = peak_and_current_rss_bytes();
            let (peak, now) = (peak.expect("VmHWM"), now.expect("VmRSS"));
            assert!(now > 0 && peak >= now, "{peak} {now}");
            let pid = std::process::id();
            assert!(peak_rss_bytes_of(pid).expect("VmHWM by pid") >= now);
            assert!(rss_bytes_of(pid).expect("VmRSS by pid") > 0);
            assert!(anon_rss_bytes_of(pid).expect("RssAnon by pid") > 0);
        }
    }
}
