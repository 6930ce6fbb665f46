//! Read → broker latency of the probe tags: from the emulator writing the read that completes a probe's arrival to the subscriber receiving the delta that carries it.
//!
//! A probe is a tag never seen before, read in every inventory round by one antenna of the door
//! zone; it arrives in the daemon on its `arrive-reads`-th read (2), and nothing else can make it
//! arrive earlier or later. The emulator stamps each of its reads when the report carrying it has
//! been written to the daemon's socket (the probe tap); the subscriber stamps the first delta whose
//! changes hold `+1` for the probe's own (door, GTIN) cell. The difference is the daemon's whole
//! path — socket, LLRP session, engine, waiting for the flush, the store's commit (with fsync),
//! publishing, the broker — plus the subscriber's receive. One monotonic clock takes both stamps
//! (emulator and subscriber share the benchmark's process).
//!
//! With a 1 s flush interval the wait for the next flush is spread evenly over 0..1 s, so expect a
//! median of about half the interval and a p99 just under the whole interval plus the commit.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use tagtally_reader_drivers::Epc;
use tagtally_sim::llrp::ProbeRead;

use super::subscriber::ProbeChange;

/// The latency samples of one window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    /// One per probe whose completing read was written inside the window and whose arrival was received.
    pub latencies: Vec<Duration>,
    /// Probes completed inside the window whose arrival never reached the subscriber.
    pub unmatched: usize,
    /// Probes whose arrival was received before their completing read was written (a wrong
    /// measurement: should never happen).
    pub inverted: usize,
}

/// Percentiles of a set of samples, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub samples: usize,
    /// Smallest.
    pub min_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// Matches probe reads to probe arrivals; only probes whose completing read lies in
/// `window` (start inclusive, end exclusive) count.
pub fn samples(
    probes: &[Epc],
    reads: &[ProbeRead],
    changes: &[ProbeChange],
    arrive_reads: usize,
    window: (Instant, Instant),
) -> Samples {
    let index: HashMap<Epc, usize> = probes.iter().enumerate().map(|(i, e)| (*e, i)).collect();
    let mut seen = vec![0usize; probes.len()];
    let mut completed: Vec<Option<Instant>> = vec![None; probes.len()];
    for read in reads {
        let Some(&i) = index.get(&read.epc) else {
            continue;
        };
        seen[i] += 1;
        if seen[i] == arrive_reads {
            completed[i] = Some(read.written);
        }
    }
    let mut arrived: Vec<Option<Instant>> = vec![None; probes.len()];
    for change in changes.iter().filter(|c| c.delta > 0) {
        if let Some(slot) = arrived.get_mut(change.probe) {
            if slot.is_none() {
                *slot = Some(change.received);
            }
        }
    }
    let mut out = Samples::default();
    for (done, arrival) in completed.iter().zip(&arrived) {
        let Some(done) = *done else {
            continue;
        };
        if done < window.0 || done >= window.1 {
            continue;
        }
        match arrival {
            None => out.unmatched += 1,
            Some(at) if *at < done => out.inverted += 1,
            Some(at) => out.latencies.push(*at - done),
        }
    }
    out
}

/// The nearest-rank percentiles of `samples`.
pub fn summary(samples: &[Duration]) -> Summary {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    let rank = |q: f64| {
        let n = sorted.len();
        let r = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
        sorted.get(r - 1).copied().map_or(0.0, ms)
    };
    Summary {
        samples: sorted.len(),
        min_ms: sorted.first().copied().map_or(0.0, ms),
        p50_ms: rank(0.50),
        p90_ms: rank(0.90),
        p99_ms: rank(0.99),
        max_ms: sorted.last().copied().map_or(0.0, ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epc(i: u8) -> Epc {
        Epc::from_slice(&[0x30, i]).unwrap()
    }

    #[test]
    fn the_arrive_reads_th_read_is_matched_to_the_first_arrival() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let probes = [epc(0), epc(1), epc(2), epc(3)];
        let read = |i: u8, ms: u64| ProbeRead {
            epc: epc(i),
            antenna: 2,
            written: at(ms),
        };
        let reads = [
            read(0, 100),
            read(0, 200), // probe 0 completes at 200
            read(1, 150),
            read(1, 250), // probe 1 completes at 250, never arrives
            read(0, 300),
            read(2, 50), // probe 2 never completes
            read(3, 5000),
            read(3, 5100), // probe 3 completes outside the window
        ];
        let change = |probe: usize, delta: i64, ms: u64| ProbeChange {
            probe,
            delta,
            received: at(ms),
            seq: 1,
        };
        let changes = [
            change(0, 1, 900),
            change(0, 1, 950), // a duplicate, later
            change(0, -1, 20_000),
            change(3, 1, 5500),
        ];
        let s = samples(&probes, &reads, &changes, 2, (at(0), at(1000)));
        assert_eq!(s.latencies, vec![Duration::from_millis(700)]);
        assert_eq!((s.unmatched, s.inverted), (1, 0));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = summary(&samples);
        assert_eq!(s.samples, 100);
        assert_eq!(
            (s.min_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(summary(&[]).p99_ms, 0.0);
        assert_eq!(summary(&[Duration::from_micros(1500)]).p50_ms, 1.5);
    }
}
