//! glibc's malloc kept to the daemon's size: `tagtally run` re-executes itself once with
//! [`MALLOC_TUNABLES`] when the environment does not already choose malloc settings.
//!
//! glibc reads its tunables only while a process starts, and setting them from inside (`mallopt`)
//! needs unsafe code; replacing the process image with the same binary and arguments (same pid, same
//! file descriptors, so systemd's notify and watchdog bookkeeping is unaffected) is the safe way.
//! The unit sets the same value in `Environment=` (a test keeps the two equal), so under systemd no
//! re-exec happens, and an operator who writes other values there gets those. Measured effect at
//! full load (docs/PERFORMANCE.md): steady RSS 47 → 34 MB, peak 58 → 48 MB; one arena instead of
//! two then took away the runs whose steady RSS settled ≈ 4 MB higher (the second arena's heap).

/// One arena (not one per thread: the daemon's few threads allocate little outside the engine, and
/// a second arena kept ≈ 4 MB of its own in about half the full-load runs); a fixed mmap threshold,
/// so large tables (a cold start's candidate and tag table shards) are returned to the system when
/// freed; the heap top trimmed past 128 KiB.
pub const MALLOC_TUNABLES: &str =
    "glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072";

/// Re-executes this process with [`MALLOC_TUNABLES`] unless malloc settings are already in the
/// environment. Returns only when no re-exec was needed or it failed (then memory use is higher,
/// nothing else changes).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn apply() {
    use std::os::unix::process::CommandExt;
    let chosen = [
        "GLIBC_TUNABLES",
        "MALLOC_ARENA_MAX",
        "MALLOC_MMAP_THRESHOLD_",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some());
    if chosen {
        return;
    }
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| "tagtally".into());
    let error = std::process::Command::new("/proc/self/exe")
        .arg0(arg0)
        .args(args)
        .env("GLIBC_TUNABLES", MALLOC_TUNABLES)
        .exec();
    eprintln!(
        "tagtally: cannot re-execute with bounded malloc settings ({error}); continuing with glibc's defaults"
    );
}

/// Other C libraries have their own allocators and no such tunables.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn apply() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_sets_the_same_tunables() {
        let unit = include_str!("../../../systemd/tagtally.service");
        let line = format!("Environment=GLIBC_TUNABLES={MALLOC_TUNABLES}\n");
        assert!(unit.contains(&line), "the unit should carry `{line}`");
    }
}
