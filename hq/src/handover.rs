//! The messages read from the broker that the applier has no room for yet.
//!
//! rumqttc answers the broker's PINGREQ-PINGRESP exchange only while its event loop is polled,
//! and reads the PINGRESP only after every message the broker sent before it. Holding back reads
//! while the applier works through a backlog therefore made the keep-alive fail ("last pingreq
//! isn't acked") and dropped the connection. So reading goes on, and what the applier cannot
//! take yet waits here, in order. Bounded in messages and bytes: at the bound reading is held
//! back after all, which is the old behaviour as a last resort instead of unbounded memory (what
//! is then still ahead of the PINGRESP is only what the socket buffers hold).

use std::collections::VecDeque;

/// A queue bounded in entries and in bytes.
#[derive(Debug)]
pub struct Handover<T> {
    queue: VecDeque<(T, usize)>,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    peak: usize,
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
        }
    }

    /// Whether another entry may be read (the bound is checked before reading, so one entry
    /// may take it past `max_bytes`).
    pub fn has_room(&self) -> bool {
        self.queue.len() < self.max_messages && self.bytes < self.max_bytes
    }

    /// Entries waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queues `entry` of `bytes` bytes at the back.
    pub fn push(&mut self, entry: T, bytes: usize) {
        self.bytes += bytes;
        self.queue.push_back((entry, bytes));
        self.peak = self.peak.max(self.queue.len());
    }

    /// Takes the oldest entry.
    pub fn pop(&mut self) -> Option<T> {
        let (entry, bytes) = self.queue.pop_front()?;
        self.bytes -= bytes;
        Some(entry)
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
    fn entries_leave_in_order_and_the_bounds_hold_reading_back() {
        let mut handover = Handover::new(3, 100);
        assert!(handover.has_room() && handover.is_empty());
        handover.push('a', 10);
        handover.push('b', 10);
        handover.push('c', 10);
        assert!(!handover.has_room(), "three entries is the bound");
        assert_eq!(handover.pop(), Some('a'));
        assert!(handover.has_room());
        handover.push('d', 95);
        assert!(!handover.has_room(), "115 bytes is past the bound");
        assert_eq!(
            [handover.pop(), handover.pop(), handover.pop()],
            [Some('b'), Some('c'), Some('d')]
        );
        assert_eq!(handover.pop(), None);
        assert!(handover.has_room() && handover.is_empty());
        assert_eq!(handover.peak(), 3);
    }
}
