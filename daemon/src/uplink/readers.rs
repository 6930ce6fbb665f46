//! Reader-health publishing policy: retained, only on change, at most once per interval per reader.
//!
//! A flapping reader or a reads/s figure that changes every second must not flood HQ, yet the last
//! value must always arrive: a change inside the interval is held and published when it ends.
//! Pure state with the time passed in, so the tests need no clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

#[derive(Debug, Default)]
struct Reader {
    latest: Bytes,
    published: Option<Bytes>,
    last_publish: Option<Instant>,
}

/// Latest health payload of each reader and what was last published for it.
#[derive(Debug)]
pub struct ReaderHealth {
    min_interval: Duration,
    readers: BTreeMap<String, Reader>,
}

impl ReaderHealth {
    /// An empty table publishing each reader at most once per `min_interval`.
    pub fn new(min_interval: Duration) -> ReaderHealth {
        ReaderHealth {
            min_interval,
            readers: BTreeMap::new(),
        }
    }

    /// Records a reader's newest payload.
    pub fn update(&mut self, reader: &str, payload: Bytes) {
        self.readers.entry(reader.to_owned()).or_default().latest = payload;
    }

    /// Payloads to publish now: changed since last published and outside the interval.
    /// Marks them published.
    pub fn due(&mut self, now: Instant) -> Vec<(String, Bytes)> {
        let mut out = Vec::new();
        for (name, r) in &mut self.readers {
            let changed = r.published.as_ref() != Some(&r.latest);
            let allowed = r
                .last_publish
                .is_none_or(|t| now.saturating_duration_since(t) >= self.min_interval);
            if changed && allowed {
                r.published = Some(r.latest.clone());
                r.last_publish = Some(now);
                out.push((name.clone(), r.latest.clone()));
            }
        }
        out
    }

    /// When the next held-back change becomes due, if any.
    pub fn next_due(&self) -> Option<Instant> {
        self.readers
            .values()
            .filter(|r| r.published.as_ref() != Some(&r.latest))
            .filter_map(|r| r.last_publish.map(|t| t + self.min_interval))
            .min()
    }

    /// After a (re)connect every reader's latest payload goes out again, because the broker may
    /// have lost its retained messages; this counts as a publish for the interval.
    pub fn all_for_connect(&mut self, now: Instant) -> Vec<(String, Bytes)> {
        self.readers
            .iter_mut()
            .map(|(name, r)| {
                r.published = Some(r.latest.clone());
                r.last_publish = Some(now);
                (name.clone(), r.latest.clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn first_value_goes_out_then_changes_are_rate_limited() {
        let t0 = Instant::now();
        let sec = Duration::from_secs(1);
        let mut h = ReaderHealth::new(5 * sec);
        h.update("r1", b("up"));
        assert_eq!(h.due(t0), [("r1".to_owned(), b("up"))]);
        // Same value again: nothing.
        h.update("r1", b("up"));
        assert!(h.due(t0 + sec).is_empty());
        assert_eq!(h.next_due(), None);
        // Changes inside the interval are held; only the latest goes out when it ends.
        h.update("r1", b("down"));
        h.update("r1", b("up2"));
        assert!(h.due(t0 + 2 * sec).is_empty());
        assert_eq!(h.next_due(), Some(t0 + 5 * sec));
        assert_eq!(h.due(t0 + 5 * sec), [("r1".to_owned(), b("up2"))]);
        assert_eq!(h.next_due(), None);
    }

    #[test]
    fn readers_are_independent_and_connect_republishes_all() {
        let t0 = Instant::now();
        let mut h = ReaderHealth::new(Duration::from_secs(5));
        h.update("a", b("1"));
        h.update("b", b("2"));
        assert_eq!(h.due(t0).len(), 2);
        h.update("a", b("3"));
        let all = h.all_for_connect(t0);
        assert_eq!(all, [("a".to_owned(), b("3")), ("b".to_owned(), b("2"))]);
        assert!(h.due(t0 + Duration::from_secs(60)).is_empty());
    }
}
