//! The in-flight window: which message got which packet id, and which deltas are acknowledged.
//!
//! rumqttc's `publish` returns no packet id; the id appears later as `Outgoing::Publish(pkid)`, in
//! the order the requests were handed over (one channel, one task). So every handed-over message
//! waits in a FIFO until its `Outgoing::Publish` names its id, and a PUBACK then finds it by id.
//!
//! Acks are *retired* strictly in publish order: a PUBACK for a later message marks it, but the
//! caller only hears `Acked(seq)` once every earlier message is acknowledged too. So the caller
//! sees each delta's seq exactly once, ascending, and may delete every record up to it.
//!
//! The window (`entries`) spans from the oldest unretired message to the newest handed over, so
//! every outstanding packet id lies within the last `capacity` allocations; rumqttc is given a
//! larger id space (see `task.rs`) and never has to stall on an id collision.
//!
//! No I/O here: the task feeds events in, and the tests below drive it with explicit ids.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

/// One QoS 1 message the uplink publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A committed delta; re-sent byte-identical until acknowledged.
    Delta {
        /// Its seq within the epoch.
        seq: u64,
        /// The exact committed JSON.
        payload: Bytes,
    },
    /// A retained message (status, snapshot, reader health): only the latest value matters, so
    /// an unacknowledged one is dropped on disconnect and the latest is published after connect.
    Retained {
        /// Full topic.
        topic: String,
        /// Payload.
        payload: Bytes,
    },
    /// A committed `epcis` message (SPEC §12); like a delta, re-sent byte-identical until
    /// acknowledged.
    Epcis {
        /// Its EPCIS seq.
        seq: u64,
        /// The exact committed JSON.
        payload: Bytes,
    },
    /// A kept delta re-published for `cmd/replay`: not an outbox record, so its PUBACK reports
    /// nothing and a disconnect drops it (HQ asks again).
    Replay {
        /// Its seq.
        seq: u64,
        /// The exact committed JSON.
        payload: Bytes,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Known, but not handed to the client (after a disconnect).
    Unsent,
    /// Handed to the client; packet id not yet known.
    Handed,
    /// On the wire with this packet id.
    Sent(u16),
    /// PUBACKed, waiting for earlier messages to be retired first.
    Acked,
    /// Refused by the broker (MQTT 5 PUBACK reason code), retired like an acked one; a delta
    /// is reported as refused, never as acknowledged.
    Refused,
    /// A retained message abandoned on disconnect; retires like an acked one, reports nothing.
    Dropped,
}

#[derive(Debug)]
struct Entry {
    message: Message,
    state: State,
}

/// Bookkeeping errors: each means the client and we disagree, so the link is reset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InFlightError {
    /// The client reported a publish we never handed over.
    #[error("client reported packet id {0} for a publish that was not handed over")]
    UnexpectedOutgoing(u16),
    /// The client reused a packet id that is still outstanding.
    #[error("packet id {0} reused while still awaiting its puback")]
    PkidInUse(u16),
    /// A PUBACK for an id that is not outstanding.
    #[error("puback for packet id {0} that is not outstanding")]
    UnknownPuback(u16),
}

/// What a PUBACK retired.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Retired {
    /// Delta seqs now acknowledged, ascending.
    pub deltas: Vec<u64>,
    /// Retained messages now acknowledged.
    pub retained: usize,
    /// Delta seqs the broker refused (to be folded into a resync snapshot), ascending.
    pub refused: Vec<u64>,
    /// The newest EPCIS seq now acknowledged: every `epcis` message up to it is retired.
    pub epcis: Option<u64>,
    /// EPCIS seqs the broker refused (to be dropped), ascending.
    pub epcis_refused: Vec<u64>,
}

/// The window of messages between hand-over and retirement.
#[derive(Debug)]
pub struct InFlight {
    capacity: usize,
    /// Oldest first. The id of `entries[i]` is `first_id + i`.
    entries: VecDeque<Entry>,
    first_id: u64,
    /// Ids handed to the client, in hand-over order, awaiting their `Outgoing::Publish(pkid)`.
    awaiting_pkid: VecDeque<u64>,
    by_pkid: HashMap<u16, u64>,
}

impl InFlight {
    /// An empty window holding at most `capacity` messages.
    pub fn new(capacity: usize) -> InFlight {
        InFlight {
            capacity,
            entries: VecDeque::with_capacity(capacity),
            first_id: 0,
            awaiting_pkid: VecDeque::new(),
            by_pkid: HashMap::new(),
        }
    }

    /// Messages in the window (including acked ones waiting for an earlier one).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether fewer than `limit` messages are in the window (the caller applies a smaller limit
    /// to deltas than to retained messages, which must never starve behind a full window).
    pub fn has_room(&self, limit: usize) -> bool {
        self.entries.len() < limit.min(self.capacity)
    }

    /// Messages handed over or on the wire without a PUBACK yet.
    pub fn outstanding(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.state, State::Handed | State::Sent(_)))
            .count()
    }

    /// Adds a message that the caller hands to the client right now. Returns false (and adds
    /// nothing) when the window is full.
    pub fn push(&mut self, message: Message) -> bool {
        if self.entries.len() >= self.capacity {
            return false;
        }
        let id = self.first_id + self.entries.len() as u64;
        self.entries.push_back(Entry {
            message,
            state: State::Handed,
        });
        self.awaiting_pkid.push_back(id);
        true
    }

    /// The client wrote the next handed-over message with this packet id.
    pub fn on_outgoing(&mut self, pkid: u16) -> Result<(), InFlightError> {
        if self.by_pkid.contains_key(&pkid) {
            return Err(InFlightError::PkidInUse(pkid));
        }
        let id = self
            .awaiting_pkid
            .pop_front()
            .ok_or(InFlightError::UnexpectedOutgoing(pkid))?;
        let entry = self
            .entry_mut(id)
            .ok_or(InFlightError::UnexpectedOutgoing(pkid))?;
        entry.state = State::Sent(pkid);
        self.by_pkid.insert(pkid, id);
        Ok(())
    }

    /// The broker acknowledged this packet id; returns what became retired, in order.
    pub fn on_puback(&mut self, pkid: u16) -> Result<Retired, InFlightError> {
        self.settle(pkid, State::Acked)
    }

    /// The broker refused this packet id (MQTT 5 PUBACK with a failure reason): it is retired
    /// all the same, so it never blocks the messages after it; a delta comes back in
    /// [`Retired::refused`].
    pub fn on_puback_refused(&mut self, pkid: u16) -> Result<Retired, InFlightError> {
        self.settle(pkid, State::Refused)
    }

    fn settle(&mut self, pkid: u16, state: State) -> Result<Retired, InFlightError> {
        let id = self
            .by_pkid
            .remove(&pkid)
            .ok_or(InFlightError::UnknownPuback(pkid))?;
        if let Some(entry) = self.entry_mut(id) {
            entry.state = state;
        }
        let mut retired = Retired::default();
        while let Some(front) = self.entries.front() {
            if !matches!(front.state, State::Acked | State::Refused | State::Dropped) {
                break;
            }
            let Some(entry) = self.entries.pop_front() else {
                break;
            };
            self.first_id += 1;
            match (entry.state, entry.message) {
                (State::Acked, Message::Delta { seq, .. }) => retired.deltas.push(seq),
                (State::Refused, Message::Delta { seq, .. }) => retired.refused.push(seq),
                (State::Acked, Message::Retained { .. }) => retired.retained += 1,
                (State::Acked, Message::Epcis { seq, .. }) => retired.epcis = Some(seq),
                (State::Refused, Message::Epcis { seq, .. }) => retired.epcis_refused.push(seq),
                _ => {}
            }
        }
        Ok(retired)
    }

    /// The connection is gone: nothing is on the wire any more. Unacknowledged deltas become
    /// unsent (to go out again, byte-identical); unacknowledged retained messages are abandoned
    /// because the latest value is published afresh after the next connect.
    ///
    /// Returns what became retired because abandoned messages no longer hold it back.
    pub fn on_disconnect(&mut self) -> Retired {
        self.awaiting_pkid.clear();
        self.by_pkid.clear();
        for entry in &mut self.entries {
            if matches!(entry.state, State::Handed | State::Sent(_)) {
                entry.state = match entry.message {
                    Message::Delta { .. } | Message::Epcis { .. } => State::Unsent,
                    Message::Retained { .. } | Message::Replay { .. } => State::Dropped,
                };
            }
        }
        let mut retired = Retired::default();
        while let Some(front) = self.entries.front() {
            match front.state {
                State::Dropped => {}
                State::Acked => match front.message {
                    Message::Delta { seq, .. } => retired.deltas.push(seq),
                    Message::Retained { .. } => retired.retained += 1,
                    Message::Epcis { seq, .. } => retired.epcis = Some(seq),
                    Message::Replay { .. } => {}
                },
                State::Refused => match front.message {
                    Message::Delta { seq, .. } => retired.refused.push(seq),
                    Message::Epcis { seq, .. } => retired.epcis_refused.push(seq),
                    Message::Retained { .. } | Message::Replay { .. } => {}
                },
                _ => break,
            }
            self.entries.pop_front();
            self.first_id += 1;
        }
        retired
    }

    /// Marks every unsent delta and `epcis` message as handed over again and returns them, oldest first, for the
    /// caller to publish in exactly this order.
    pub fn resend(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        for (i, entry) in self.entries.iter_mut().enumerate() {
            if entry.state == State::Unsent {
                entry.state = State::Handed;
                self.awaiting_pkid.push_back(self.first_id + i as u64);
                out.push(entry.message.clone());
            }
        }
        out
    }

    /// Names the message on the wire with this packet id, for log lines.
    pub fn describe(&self, pkid: u16) -> String {
        let entry = self
            .by_pkid
            .get(&pkid)
            .and_then(|id| id.checked_sub(self.first_id))
            .and_then(|i| self.entries.get(usize::try_from(i).ok()?));
        match entry.map(|e| &e.message) {
            Some(Message::Delta { seq, .. }) => format!("delta seq {seq}"),
            Some(Message::Retained { topic, .. }) => topic.clone(),
            Some(Message::Replay { seq, .. }) => format!("replayed delta seq {seq}"),
            Some(Message::Epcis { seq, .. }) => format!("epcis seq {seq}"),
            None => format!("packet id {pkid}"),
        }
    }

    fn entry_mut(&mut self, id: u64) -> Option<&mut Entry> {
        let index = id.checked_sub(self.first_id)?;
        self.entries.get_mut(usize::try_from(index).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn delta(seq: u64) -> Message {
        Message::Delta {
            seq,
            payload: Bytes::from(format!("{{\"seq\":{seq}}}")),
        }
    }

    fn retained(topic: &str) -> Message {
        Message::Retained {
            topic: topic.to_owned(),
            payload: Bytes::from_static(b"{}"),
        }
    }

    fn epcis(seq: u64) -> Message {
        Message::Epcis {
            seq,
            payload: Bytes::from(format!("{{\"tagtally:seq\":{seq}}}")),
        }
    }

    #[test]
    fn epcis_messages_retire_in_order_with_deltas_and_survive_a_disconnect() {
        let mut w = InFlight::new(8);
        for m in [delta(1), epcis(1), epcis(2), delta(2)] {
            assert!(w.push(m));
        }
        for pkid in 1..=4 {
            w.on_outgoing(pkid).unwrap();
        }
        // epcis 2 is acknowledged first: held back until epcis 1 (and delta 1) are.
        let r = w.on_puback(3).unwrap();
        assert_eq!((r.deltas.len(), r.epcis), (0, None));
        assert_eq!(w.on_puback(1).unwrap().deltas, [1]);
        let r = w.on_puback_refused(2).unwrap();
        assert_eq!((r.epcis_refused, r.epcis), (vec![1], Some(2)));
        // The link dies with delta 2 unacknowledged; an epcis message after it goes out again.
        assert!(w.push(epcis(3)));
        w.on_outgoing(5).unwrap();
        let retired = w.on_disconnect();
        assert!(retired.deltas.is_empty() && retired.epcis.is_none());
        assert_eq!(w.resend(), vec![delta(2), epcis(3)]);
        w.on_outgoing(1).unwrap();
        w.on_outgoing(2).unwrap();
        assert_eq!(w.on_puback(2).unwrap().epcis, None);
        let r = w.on_puback(1).unwrap();
        assert_eq!((r.deltas, r.epcis), (vec![2], Some(3)));
        assert!(w.is_empty());
    }

    #[test]
    fn in_order_acks_retire_one_by_one() {
        let mut w = InFlight::new(4);
        for seq in 1..=3 {
            assert!(w.push(delta(seq)));
        }
        for pkid in 1..=3 {
            w.on_outgoing(pkid).unwrap();
        }
        assert_eq!(w.on_puback(1).unwrap().deltas, [1]);
        assert_eq!(w.on_puback(2).unwrap().deltas, [2]);
        assert_eq!(w.on_puback(3).unwrap().deltas, [3]);
        assert!(w.is_empty());
    }

    #[test]
    fn out_of_order_acks_are_held_until_the_gap_closes() {
        let mut w = InFlight::new(8);
        for seq in 10..=13 {
            w.push(delta(seq));
        }
        for pkid in [7, 8, 9, 10] {
            w.on_outgoing(pkid).unwrap();
        }
        assert_eq!(w.on_puback(9).unwrap(), Retired::default());
        assert_eq!(w.on_puback(8).unwrap(), Retired::default());
        assert_eq!(w.on_puback(7).unwrap().deltas, [10, 11, 12]);
        assert_eq!(w.on_puback(10).unwrap().deltas, [13]);
    }

    #[test]
    fn window_is_bounded() {
        let mut w = InFlight::new(2);
        assert!(w.push(delta(1)));
        assert!(w.push(delta(2)));
        assert!(!w.has_room(2));
        assert!(!w.push(delta(3)));
        assert!(w.has_room(usize::MAX) == w.has_room(2));
    }

    #[test]
    fn disconnect_resends_unacked_deltas_in_order_and_drops_retained() {
        let mut w = InFlight::new(8);
        w.push(retained("status"));
        w.push(delta(1));
        w.push(delta(2));
        w.push(delta(3));
        for pkid in 1..=4 {
            w.on_outgoing(pkid).unwrap();
        }
        // Delta 2 acked, then the link dies.
        assert_eq!(w.on_puback(3).unwrap(), Retired::default());
        assert_eq!(w.on_disconnect(), Retired::default());
        assert_eq!(w.resend(), [delta(1), delta(3)]);
        // The new connection hands out fresh ids.
        w.on_outgoing(1).unwrap();
        w.on_outgoing(2).unwrap();
        assert_eq!(w.on_puback(1).unwrap().deltas, [1, 2]);
        assert_eq!(w.on_puback(2).unwrap().deltas, [3]);
        assert!(w.is_empty());
    }

    #[test]
    fn disconnect_retires_acked_behind_abandoned_retained() {
        let mut w = InFlight::new(8);
        w.push(retained("snapshot"));
        w.push(delta(5));
        w.on_outgoing(1).unwrap();
        w.on_outgoing(2).unwrap();
        assert_eq!(w.on_puback(2).unwrap(), Retired::default());
        assert_eq!(w.on_disconnect().deltas, [5]);
        assert!(w.is_empty());
        assert!(w.resend().is_empty());
    }

    #[test]
    fn a_refused_delta_never_blocks_the_ones_after_it() {
        let mut w = InFlight::new(8);
        for seq in 1..=3 {
            w.push(delta(seq));
        }
        for pkid in 1..=3 {
            w.on_outgoing(pkid).unwrap();
        }
        assert_eq!(w.on_puback(3).unwrap(), Retired::default());
        let r = w.on_puback_refused(2).unwrap();
        assert_eq!(r, Retired::default());
        let r = w.on_puback(1).unwrap();
        assert_eq!(r.deltas, [1, 3]);
        assert_eq!(r.refused, [2]);
        assert!(w.is_empty());
    }

    #[test]
    fn protocol_disagreements_are_errors() {
        let mut w = InFlight::new(4);
        assert_eq!(w.on_outgoing(1), Err(InFlightError::UnexpectedOutgoing(1)));
        assert_eq!(w.on_puback(1), Err(InFlightError::UnknownPuback(1)));
        w.push(delta(1));
        w.push(delta(2));
        w.on_outgoing(1).unwrap();
        assert_eq!(w.on_outgoing(1), Err(InFlightError::PkidInUse(1)));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push,
        /// Ack the n-th outstanding packet (mod count).
        Ack(usize),
        Disconnect,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Push),
            4 => any::<usize>().prop_map(Op::Ack),
            1 => Just(Op::Disconnect),
        ]
    }

    proptest! {
        /// Model: a broker that acks in any order and a link that drops at any time. Every delta
        /// is reported exactly once, ascending, and only after its own PUBACK.
        #[test]
        fn acks_are_reported_once_in_order(ops in proptest::collection::vec(op(), 1..300), cap in 1usize..8) {
            let mut w = InFlight::new(cap);
            let mut next_seq = 1u64;
            let mut next_pkid = 1u16;
            let mut wire: Vec<(u16, Message)> = Vec::new();
            let mut acked_by_broker: std::collections::HashSet<u64> = Default::default();
            let mut reported: Vec<u64> = Vec::new();
            let handle = |w: &mut InFlight, msgs: Vec<Message>, wire: &mut Vec<(u16, Message)>, next_pkid: &mut u16| {
                for m in msgs {
                    w.on_outgoing(*next_pkid).unwrap();
                    wire.push((*next_pkid, m));
                    *next_pkid = next_pkid.wrapping_add(1).max(1);
                }
            };
            for op in ops {
                match op {
                    Op::Push => {
                        let m = delta(next_seq);
                        if w.push(m.clone()) {
                            next_seq += 1;
                            handle(&mut w, vec![m], &mut wire, &mut next_pkid);
                        }
                    }
                    Op::Ack(n) if !wire.is_empty() => {
                        let (pkid, m) = wire.remove(n % wire.len());
                        if let Message::Delta { seq, .. } = m { acked_by_broker.insert(seq); }
                        reported.extend(w.on_puback(pkid).unwrap().deltas);
                    }
                    Op::Ack(_) => {}
                    Op::Disconnect => {
                        wire.clear();
                        reported.extend(w.on_disconnect().deltas);
                        let again = w.resend();
                        for m in &again {
                            if let Message::Delta { seq, payload } = m {
                                prop_assert_eq!(payload.clone(), Bytes::from(format!("{{\"seq\":{seq}}}")));
                                prop_assert!(!acked_by_broker.contains(seq));
                            }
                        }
                        handle(&mut w, again, &mut wire, &mut next_pkid);
                    }
                }
                prop_assert!(w.len() <= cap);
            }
            // Drain: ack everything still on the wire.
            while let Some((pkid, m)) = wire.pop() {
                if let Message::Delta { seq, .. } = m { acked_by_broker.insert(seq); }
                reported.extend(w.on_puback(pkid).unwrap().deltas);
            }
            let expected: Vec<u64> = (1..next_seq).collect();
            prop_assert_eq!(&reported, &expected);
            for seq in &reported { prop_assert!(acked_by_broker.contains(seq)); }
            prop_assert!(w.is_empty());
        }
    }
}
