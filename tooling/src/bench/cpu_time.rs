//! This thread's CPU time (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)` through rustix): rates that leave out the time other processes held the core.
//!
//! The build machine is shared, so wall-clock rates also measure the neighbours. The thread CPU
//! clock is exact to the nanosecond at the moment of the call, unlike the first field of
//! `/proc/thread-self/schedstat`, which only advances at scheduler ticks for a running thread
//! and would be off by up to a tick per measurement.

use std::time::Duration;

use rustix::time::{clock_gettime, ClockId};

/// The CPU time this thread has used since it started.
pub fn thread_cpu_time() -> Duration {
    let now = clock_gettime(ClockId::ThreadCPUTime);
    // A thread's CPU time is never negative; clamp rather than trust that blindly.
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_with_work_and_never_runs_backwards() {
        let start = thread_cpu_time();
        let mut x = 1u64;
        for i in 0..2_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
        }
        let end = thread_cpu_time();
        assert!(end > start, "{start:?} -> {end:?} ({x})");
    }
}
