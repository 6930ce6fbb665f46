//! What machine a benchmark ran on, and how busy it was: CPUs, CPU model, kernel and load average from `/proc` (Linux), printed next to every number.

use std::fs;

use serde::Serialize;

/// The machine, as far as `/proc` tells.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Machine {
    /// CPUs this process may run on.
    pub cpus: usize,
    /// The first `model name` of `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: Option<String>,
}

impl Machine {
    /// Reads it now.
    pub fn read() -> Self {
        Self {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model: fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(|text| cpu_model(&text)),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|k| k.trim().to_owned()),
        }
    }
}

/// The 1, 5 and 15 minute load averages, when `/proc/loadavg` is there.
pub fn load_average() -> Option<[f64; 3]> {
    parse_loadavg(&fs::read_to_string("/proc/loadavg").ok()?)
}

fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    Some([
        fields.next()?.ok()?,
        fields.next()?.ok()?,
        fields.next()?.ok()?,
    ])
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_texts() {
        assert_eq!(
            parse_loadavg("0.18 0.10 0.43 1/85 1195\n"),
            Some([0.18, 0.10, 0.43])
        );
        assert_eq!(parse_loadavg("0.18"), None);
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t: fpu\n").as_deref(),
            Some("AMD EPYC")
        );
        assert!(Machine::read().cpus >= 1);
    }
}
