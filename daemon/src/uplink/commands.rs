//! Coalescing and rate-limiting of HQ's commands (`cmd/snapshot`, `cmd/replay`): at most one of each per `command-min-interval`, so a fleet of consumers can never cause a storm (SPEC §6.1).
//!
//! The first request after a quiet interval is served at once; requests inside the interval are
//! merged into one served when it ends (the newest `request_id` is echoed; replay ranges are
//! united). Pure state with the time passed in.
//!
//! Sales (`cmd/sale`, SPEC §10) go through the same gate on their own, shorter interval,
//! [`SALE_MIN_INTERVAL`]: a sale must depart at the next flush, so sales are never held for
//! `command-min-interval`, but a storm of them reaches the engine at most four times a second,
//! merged without loss (the EPCs of every message, up to [`MAX_PENDING_SALE_EPCS`] waiting at
//! once; beyond, EPCs are dropped and counted).

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
    /// Depart these sold tags.
    Sale {
        /// The EPCs, each valid.
        epcs: Vec<Vec<u8>>,
        /// The `request_id`s of the merged messages.
        request_ids: Vec<String>,
    },
}

/// Sales reach the engine at most this often; the ones in between are merged.
pub const SALE_MIN_INTERVAL: Duration = Duration::from_millis(250);
/// Most sold EPCs waiting in the gate at once (20 full `cmd/sale` messages).
pub const MAX_PENDING_SALE_EPCS: usize = 20_000;
/// Most request ids kept for the log of one merged sale.
const MAX_PENDING_SALE_IDS: usize = 64;

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
    sale: Slot,
    coalesced: u64,
    sale_epcs_dropped: u64,
}

impl CommandGate {
    /// A gate serving each kind at most once per `min_interval`.
    pub fn new(min_interval: Duration) -> CommandGate {
        CommandGate {
            min_interval,
            snapshot: Slot::default(),
            replay: Slot::default(),
            sale: Slot::default(),
            coalesced: 0,
            sale_epcs_dropped: 0,
        }
    }

    /// Takes a request in.
    pub fn offer(&mut self, command: Command) {
        let slot = match command {
            Command::Snapshot { .. } => &mut self.snapshot,
            Command::Replay { .. } => &mut self.replay,
            Command::Sale { .. } => &mut self.sale,
        };
        let merged = match (slot.pending.take(), command) {
            (
                Some(Command::Sale {
                    mut epcs,
                    mut request_ids,
                }),
                Command::Sale {
                    epcs: more,
                    request_ids: more_ids,
                },
            ) => {
                self.coalesced += 1;
                let room = MAX_PENDING_SALE_EPCS.saturating_sub(epcs.len());
                self.sale_epcs_dropped += more.len().saturating_sub(room) as u64;
                epcs.extend(more.into_iter().take(room));
                let room = MAX_PENDING_SALE_IDS.saturating_sub(request_ids.len());
                request_ids.extend(more_ids.into_iter().take(room));
                Command::Sale { epcs, request_ids }
            }
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
        for (slot, min_interval) in [
            (&mut self.snapshot, self.min_interval),
            (&mut self.replay, self.min_interval),
            (&mut self.sale, SALE_MIN_INTERVAL),
        ] {
            let ready = slot
                .last_served
                .is_none_or(|t| now.saturating_duration_since(t) >= min_interval);
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
            self.sale.due_at(SALE_MIN_INTERVAL),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Requests merged into another one so far.
    pub fn coalesced(&self) -> u64 {
        self.coalesced
    }

    /// Sold EPCs dropped because [`MAX_PENDING_SALE_EPCS`] were already waiting.
    pub fn sale_epcs_dropped(&self) -> u64 {
        self.sale_epcs_dropped
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

    #[test]
    fn sales_merge_without_loss_and_wait_only_the_sale_interval() {
        let t0 = Instant::now();
        let mut g = CommandGate::new(Duration::from_secs(5));
        let sale = |epcs: &[u8], id: &str| Command::Sale {
            epcs: epcs.iter().map(|&e| vec![0x30, e]).collect(),
            request_ids: vec![id.to_owned()],
        };
        g.offer(sale(&[1], "a"));
        assert_eq!(g.due(t0), [sale(&[1], "a")]);
        g.offer(sale(&[2, 3], "b"));
        g.offer(sale(&[4], "c"));
        assert!(g.due(t0 + Duration::from_millis(100)).is_empty());
        assert_eq!(g.next_due(), Some(t0 + SALE_MIN_INTERVAL));
        assert_eq!(
            g.due(t0 + SALE_MIN_INTERVAL),
            [Command::Sale {
                epcs: vec![vec![0x30, 2], vec![0x30, 3], vec![0x30, 4]],
                request_ids: vec!["b".into(), "c".into()],
            }]
        );
        assert_eq!(g.sale_epcs_dropped(), 0);
    }

    #[test]
    fn waiting_sales_are_bounded_and_the_overflow_counted() {
        let t0 = Instant::now();
        let mut g = CommandGate::new(Duration::from_secs(5));
        let sale = |n: usize| Command::Sale {
            epcs: vec![vec![0x30]; n],
            request_ids: Vec::new(),
        };
        g.offer(sale(1));
        assert_eq!(g.due(t0).len(), 1);
        for _ in 0..25 {
            g.offer(sale(1000));
        }
        assert_eq!(g.sale_epcs_dropped(), 5000);
        match g.due(t0 + SALE_MIN_INTERVAL).as_slice() {
            [Command::Sale { epcs, .. }] => assert_eq!(epcs.len(), MAX_PENDING_SALE_EPCS),
            other => panic!("{other:?}"),
        }
    }
}
