//! CPU time of any process (user + system, all its threads) from `/proc/<pid>/stat` (Linux): how `bench store` charges the daemon it runs as a child.
//!
//! The kernel counts in clock ticks (`sysconf(_SC_CLK_TCK)`, 100 per second on Linux), so a
//! reading is exact to 10 ms; over a measuring window of a minute that is 0.02 % of a core.

use std::fs;
use std::time::Duration;

/// The CPU time process `pid` has used since it started, or `None` when it is gone.
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat, rustix::param::clock_ticks_per_second())
}

/// `utime` + `stime` (fields 14 and 15 of `stat`) in ticks of `1/ticks_per_second` s.
fn parse_stat(stat: &str, ticks_per_second: u64) -> Option<Duration> {
    // The command name (field 2) is in parentheses and may itself hold spaces and parentheses:
    // count fields from the last ')'. The state (field 3) is then the first.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    if ticks_per_second == 0 {
        return None;
    }
    let ticks = u128::from(utime + stime);
    let nanos = ticks * 1_000_000_000 / u128::from(ticks_per_second);
    Some(Duration::from_nanos(u64::try_from(nanos).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_a_command_name_with_spaces() {
        let stat = "4242 (tag tally (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 125 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat(stat, 100), Some(Duration::from_millis(3750)));
        assert_eq!(parse_stat("4242 (t) S 1 2", 100), None);
        assert_eq!(parse_stat(stat, 0), None);
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        if cfg!(target_os = "linux") {
            let mut x = 1u64;
            for i in 0..20_000_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
            assert!(process_cpu_time(std::process::id()).is_some(), "{x}");
            assert_eq!(process_cpu_time(u32::MAX), None);
        }
    }
}
