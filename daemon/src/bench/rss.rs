//! Peak resident memory of this process: `VmHWM` from `/proc/self/status` (Linux), for the memory budget of SPEC §8.
//!
//! `VmHWM` is the kernel's high-water mark of the resident set since the process started, so it
//! covers everything the run held at its worst moment (engine tables, input bytes, allocator
//! slack), not a snapshot after the fact.

use std::fs;

/// The peak resident set in bytes, or `None` where `/proc/self/status` has no `VmHWM` line.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// `VmHWM:   12345 kB` → bytes.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
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
        assert_eq!(parse_vm_hwm(status), Some(13_312 * 1024));
        assert_eq!(parse_vm_hwm("VmHWM:\t12 MB\n"), None);
        assert_eq!(parse_vm_hwm("VmRSS:\t12 kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\tlots kB\n"), None);
    }

    #[test]
    fn this_process_has_a_peak() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_bytes().is_some_and(|bytes| bytes > 0));
        }
    }
}
