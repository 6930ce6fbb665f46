//! The messages read from the broker that the applier has no room for yet, and the decision
//! what to do with a message that finds this queue full.
//!
//! rumqttc answers the broker's PINGREQ-PINGRESP exchange and sends our acknowledgements only
//! while its event loop is polled, and reads the PINGRESP only after every message the broker
//! sent before it. So reading never stops, whatever the applier's pace: what the applier cannot
//! take yet waits here, in order, bounded in messages and bytes (`[apply] read-ahead-bytes`).
//!
//! A message read when the queue is at its bound is *left with the broker*: neither kept nor
//! acknowledged. From then on every later message of the same connection is left too, so what
//! is kept is always a prefix of what the broker sent and what is left its suffix:
//!
//! * a store's seqs stay in order (a kept delta never waits for a left predecessor, so the
//!   suffix opens no gap and asks for no replay);
//! * acknowledgements stay in delivery order with no hole before an acknowledged message. That
//!   matters: mosquitto matches a PUBACK to the *first* in-flight message with its packet id,
//!   and in a backlog of more than 65 535 messages packet ids repeat, so acknowledging past an
//!   unacknowledged message could acknowledge the wrong one (which would then never come again).
//!
//! Once the queue is empty and the applier has finished (committed and acknowledged) everything
//! taken from it, the connection is closed on purpose and opened again on the same session
//! ([`Handover::drained`]); the broker then sends the left suffix again, oldest first. mosquitto
//! (2.0) sends a resumed session's whole backlog at once whatever the receive maximum, so each
//! round keeps up to the bound and leaves the rest for the next round.

use std::collections::VecDeque;

/// A queue bounded in entries and in bytes, with the read-ahead decision of its connection.
#[derive(Debug)]
pub struct Handover<T> {
    queue: VecDeque<(T, usize)>,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    peak: usize,
    /// Whether a message of the current connection found no room: every later one is left too.
    leaving: bool,
    /// Entries taken out since the start, over every connection.
    taken: u64,
}

impl<T> Handover<T> {
    /// An empty queue for at most `max_messages` entries and `max_bytes` bytes.
    pub fn new(max_messages: usize, max_bytes: usize) -> Handover<T> {
        Handover {
            queue: VecDeque::new(),
            bytes: 0,
            max_messages,
            max_bytes,
            peak: 0,
            leaving: false,
            taken: 0,
        }
    }

    /// A new connection came up: its messages are kept again while there is room. What waits
    /// from earlier connections stays (it is applied; whether it is acknowledged is the
    /// caller's business).
    pub fn connected(&mut self) {
        self.leaving = false;
    }

    /// Keeps `entry` of `bytes` bytes at the back if there is room and nothing of this
    /// connection was left yet; otherwise gives it back, to be left with the broker. The bound
    /// is checked before keeping, so one entry may take the queue past `max_bytes`.
    pub fn offer(&mut self, entry: T, bytes: usize) -> Result<(), T> {
        if self.leaving || self.queue.len() >= self.max_messages || self.bytes >= self.max_bytes {
            self.leaving = true;
            return Err(entry);
        }
        self.bytes += bytes;
        self.queue.push_back((entry, bytes));
        self.peak = self.peak.max(self.queue.len());
        Ok(())
    }

    /// Whether messages of the current connection are being left with the broker.
    pub fn leaving(&self) -> bool {
        self.leaving
    }

    /// Entries waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes the oldest entry.
    pub fn pop(&mut self) -> Option<T> {
        let (entry, bytes) = self.queue.pop_front()?;
        self.bytes -= bytes;
        self.taken += 1;
        Some(entry)
    }

    /// Whether the connection should now be closed and opened again so that the broker sends
    /// what was left: something was left, nothing waits here, and the applier has `finished`
    /// (counted from the start, in order) every entry ever taken out.
    pub fn drained(&self, finished: u64) -> bool {
        self.leaving && self.queue.is_empty() && finished >= self.taken
    }

    /// The most entries that waited at once.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_leave_in_order_within_both_bounds() {
        let mut handover = Handover::new(3, 100);
        assert!(handover.is_empty());
        for entry in ['a', 'b', 'c'] {
            assert_eq!(handover.offer(entry, 10), Ok(()));
        }
        assert_eq!(handover.pop(), Some('a'));
        assert_eq!(handover.pop(), Some('b'));
        assert_eq!(
            handover.offer('d', 95),
            Ok(()),
            "room by count and by bytes"
        );
        assert_eq!(
            handover.offer('e', 1),
            Err('e'),
            "115 bytes is past the bound"
        );
        assert_eq!([handover.pop(), handover.pop()], [Some('c'), Some('d')]);
        assert_eq!(handover.pop(), None);
        assert_eq!(handover.peak(), 3);
    }

    #[test]
    fn after_one_message_is_left_the_rest_of_the_connection_is_left_too() {
        let mut handover = Handover::new(2, 1000);
        assert_eq!(handover.offer(1, 10), Ok(()));
        assert_eq!(handover.offer(2, 10), Ok(()));
        assert_eq!(handover.offer(3, 10), Err(3), "two entries is the bound");
        assert!(handover.leaving());
        assert_eq!(handover.pop(), Some(1));
        assert_eq!(
            handover.offer(4, 10),
            Err(4),
            "room again, but keeping 4 after leaving 3 would put a hole in the order"
        );
        handover.connected();
        assert!(!handover.leaving());
        assert_eq!(
            handover.offer(3, 10),
            Ok(()),
            "sent again on the next connection"
        );
        assert_eq!([handover.pop(), handover.pop()], [Some(2), Some(3)]);
    }

    #[test]
    fn drained_only_once_left_emptied_and_finished() {
        let mut handover = Handover::new(1, 1000);
        assert!(!handover.drained(0), "nothing was left");
        assert_eq!(handover.offer('a', 10), Ok(()));
        assert_eq!(handover.offer('b', 10), Err('b'));
        assert!(!handover.drained(0), "'a' still waits");
        assert_eq!(handover.pop(), Some('a'));
        assert!(!handover.drained(0), "the applier has not finished 'a'");
        assert!(handover.drained(1));
        handover.connected();
        assert!(!handover.drained(1), "nothing left on the new connection");
    }
}
