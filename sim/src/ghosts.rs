//! `[ghosts]`: a reader that reports never-repeated EPCs, the flood a faulty or hostile peer sends.
//!
//! ```toml
//! [ghosts]
//! per-round = 2000     # ghost reads added to every inventory round (1..=50000)
//! epc-bytes = 12       # length of each ghost EPC, 2..=62 (default 12: 96 bits)
//! antenna = 1          # the port they are reported on (default 1)
//! ```
//!
//! Each ghost EPC is `30 FF`, then a counter (big-endian, in the last bytes) that never repeats
//! within 2^64 reads for 10 bytes or more: every read is a first sighting for the client.

use serde::Deserialize;

use super::scenario::ScenarioError;
use super::tag_field::SimRead;
use tagtally_core::{Epc, MAX_EPC_BYTES};

/// Most ghost reads per round: one wake-up of an emulator evaluates about this many tags at most.
pub const MAX_GHOSTS_PER_ROUND: u32 = 50_000;

/// The `[ghosts]` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GhostSpec {
    /// Ghost reads added to every round.
    pub per_round: u32,
    /// Bytes of each ghost EPC.
    #[serde(default = "default_epc_bytes")]
    pub epc_bytes: u8,
    /// The antenna port they are reported on.
    #[serde(default = "default_antenna")]
    pub antenna: u16,
}

fn default_epc_bytes() -> u8 {
    12
}

fn default_antenna() -> u16 {
    1
}

impl GhostSpec {
    /// Checks the ranges against a reader of `max_antenna` ports.
    pub fn validate(&self, max_antenna: u16) -> Result<(), ScenarioError> {
        if !(1..=MAX_GHOSTS_PER_ROUND).contains(&self.per_round) {
            return Err(ScenarioError::OutOfRange {
                what: "ghosts per-round",
                value: f64::from(self.per_round),
                range: "1..=50000",
            });
        }
        if !(2..=MAX_EPC_BYTES).contains(&usize::from(self.epc_bytes)) {
            return Err(ScenarioError::OutOfRange {
                what: "ghosts epc-bytes",
                value: f64::from(self.epc_bytes),
                range: "2..=62",
            });
        }
        if !(1..=max_antenna).contains(&self.antenna) {
            return Err(ScenarioError::AntennaOutOfRange {
                antenna: self.antenna,
                max: max_antenna,
            });
        }
        Ok(())
    }
}

/// Makes the ghost reads of each round.
#[derive(Debug, Clone)]
pub struct GhostSource {
    spec: GhostSpec,
    sent: u64,
}

impl GhostSource {
    pub fn new(spec: GhostSpec) -> Self {
        GhostSource { spec, sent: 0 }
    }

    /// Ghost reads per round.
    pub fn per_round(&self) -> usize {
        self.spec.per_round as usize
    }

    /// Appends one round's ghosts to `out` when their antenna is active.
    pub fn round(&mut self, active: impl Fn(u16) -> bool, out: &mut Vec<SimRead>) {
        if !active(self.spec.antenna) {
            return;
        }
        let len = usize::from(self.spec.epc_bytes);
        let mut bytes = [0u8; MAX_EPC_BYTES];
        bytes[0] = 0x30;
        bytes[1] = 0xFF;
        let counter_bytes = len.saturating_sub(2).min(8);
        for _ in 0..self.spec.per_round {
            self.sent = self.sent.wrapping_add(1);
            let counter = self.sent.to_be_bytes();
            bytes[len - counter_bytes..len].copy_from_slice(&counter[8 - counter_bytes..]);
            if let Some(epc) = Epc::from_slice(&bytes[..len]) {
                out.push(SimRead {
                    epc,
                    antenna: self.spec.antenna,
                    rssi_cdbm: -7000,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ghosts_never_repeat_and_stay_on_their_antenna() {
        let spec = GhostSpec {
            per_round: 1000,
            epc_bytes: 62,
            antenna: 2,
        };
        let mut source = GhostSource::new(spec);
        let mut out = Vec::new();
        source.round(|a| a == 1, &mut out);
        assert!(out.is_empty(), "antenna 2 is not active");
        for _ in 0..5 {
            source.round(|_| true, &mut out);
        }
        let distinct: std::collections::HashSet<_> = out.iter().map(|r| r.epc).collect();
        assert_eq!((out.len(), distinct.len()), (5000, 5000));
        assert!(out
            .iter()
            .all(|r| r.antenna == 2 && r.epc.as_bytes().len() == 62));
    }
}
