//! Coalescing and rate-limiting of HQ's commands (`cmd/snapshot`, `cmd/replay`): at most one of each per `command-min-interval`, so a fleet of consumers can never cause a storm (SPEC §6.1).
//!
//! The first request after a quiet interval is served at once; requests inside the interval are
//! merged into one served when it ends (the newest `request_id` is echoed; replay ranges are
//! united). Pure state with the time passed in.

use std::time::{Duration, Instant};

/// A command to carry out now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Publish a fresh snapshot.
    Snapshot {
        /// Echoed in the snapshot.
        request_id: Option<String>,
    },
    /// Re-publish deltas `from_seq..=to_seq`.
    Replay {
        /// First seq.
        from_seq: u64,
        /// Last seq.
        to_seq: u64,
        /// Echoed in a resync snapshot it causes.
        request_id: Option<String>,
    },
}

#[derive(Debug, Default)]
struct Slot {
    last_served: Option<Instant>,
    pending: Option<Command>,
}

impl Slot {
    fn due_at(&self, min_interval: Duration) -> Option<Instant> {
        self.pending.as_ref()?;
        Some(
            self.last_served
                .map_or_else(Instant::now, |t| t + min_interval),
        )
    }
}

/// The gate in front of the daemon.
#[derive(Debug)]
pub struct CommandGate {
    min_interval: Duration,
    snapshot: Slot,
    replay: Slot,
    coalesced: u64,
}

impl CommandGate {
    /// A gate serving each kind at most once per `min_interval`.
    pub fn new(min_interval: Duration) -> CommandGate {
        CommandGate {
            min_interval,
            snapshot: Slot::default(),
            replay: Slot::default(),
            coalesced: 0,
        }
    }

    /// Takes a request in.
    pub fn offer(&mut self, command: Command) {
        let slot = match command {
            Command::Snapshot { .. } => &mut self.snapshot,
            Command::Replay { .. } => &mut self.replay,
        };
        let merged = match (slot.pending.take(), command) {
            (
                Some(Command::Replay {
                    from_seq: f0,
                    to_seq: t0,
                    ..
                }),
                Command::Replay {
                    from_seq,
                    to_seq,
                    request_id,
                },
            ) => {
                self.coalesced += 1;
                Command::Replay {
                    from_seq: f0.min(from_seq),
                    to_seq: t0.max(to_seq),
                    request_id,
                }
            }
            (Some(_), newer) => {
                self.coalesced += 1;
                newer
            }
            (None, newer) => newer,
        };
        slot.pending = Some(merged);
    }

    /// The commands to carry out at `now` (marked served).
    pub fn due(&mut self, now: Instant) -> Vec<Command> {
        let mut out = Vec::new();
        for slot in [&mut self.snapshot, &mut self.replay] {
            let ready = slot
                .last_served
                .is_none_or(|t| now.saturating_duration_since(t) >= self.min_interval);
            if ready {
                if let Some(command) = slot.pending.take() {
                    slot.last_served = Some(now);
                    out.push(command);
                }
            }
        }
        out
    }

    /// When the next held-back command becomes due.
    pub fn next_due(&self) -> Option<Instant> {
        [
            self.snapshot.due_at(self.min_interval),
            self.replay.due_at(self.min_interval),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Requests merged into another one so far.
    pub fn coalesced(&self) -> u64 {
        self.coalesced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(id: &str) -> Command {
        Command::Snapshot {
            request_id: Some(id.to_owned()),
        }
    }

    #[test]
    fn a_burst_gives_one_now_and_one_at_the_end_of_the_interval() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut g = CommandGate::new(Duration::from_secs(5));
        let mut served = Vec::new();
        for i in 0..30 {
            g.offer(snap(&format!("r{i}")));
            served.extend(g.due(t0 + ms(i * 7)));
        }
        assert_eq!(served, [snap("r0")]);
        assert_eq!(g.next_due(), Some(t0 + Duration::from_secs(5)));
        assert!(g.due(t0 + ms(4999)).is_empty());
        assert_eq!(g.due(t0 + ms(5000)), [snap("r29")]);
        assert_eq!(g.next_due(), None);
        assert_eq!(g.coalesced(), 28);
    }

    #[test]
    fn replays_unite_their_ranges_and_do_not_wait_for_snapshots() {
        let t0 = Instant::now();
        let mut g = CommandGate::new(Duration::from_secs(5));
        g.offer(snap("s"));
        let replay = |f, t| Command::Replay {
            from_seq: f,
            to_seq: t,
            request_id: None,
        };
        g.offer(replay(10, 12));
        assert_eq!(g.due(t0), [snap("s"), replay(10, 12)]);
        g.offer(replay(20, 25));
        g.offer(replay(3, 4));
        assert!(g.due(t0 + Duration::from_secs(1)).is_empty());
        assert_eq!(g.due(t0 + Duration::from_secs(5)), [replay(3, 25)]);
    }
}
