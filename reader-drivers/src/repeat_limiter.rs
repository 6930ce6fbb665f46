//! Keeps a reader's repeated complaint (a status frame every second, an error every round) from
//! flooding the event channel: a message is let through when it changes or after a quiet period.

use std::time::{Duration, Instant};

/// How long an unchanged complaint stays muted.
pub const REPEAT_AFTER: Duration = Duration::from_secs(60);

/// Remembers the last complaint let through.
#[derive(Debug, Default)]
pub struct RepeatLimiter {
    last: Option<(String, Instant)>,
}

impl RepeatLimiter {
    /// True when `message` should be reported now.
    pub fn allow(&mut self, message: &str, now: Instant) -> bool {
        let fresh = match &self.last {
            Some((last, at)) => last != message || now.duration_since(*at) >= REPEAT_AFTER,
            None => true,
        };
        if fresh {
            self.last = Some((message.to_owned(), now));
        }
        fresh
    }

    /// Forgets the last complaint (the condition cleared), so its return is reported at once.
    pub fn clear(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_muted_until_the_message_changes_or_time_passes() {
        let t0 = Instant::now();
        let mut limiter = RepeatLimiter::default();
        assert!(limiter.allow("hot", t0));
        assert!(!limiter.allow("hot", t0 + Duration::from_secs(1)));
        assert!(limiter.allow("antenna", t0 + Duration::from_secs(2)));
        assert!(limiter.allow("hot", t0 + Duration::from_secs(3)));
        assert!(limiter.allow("hot", t0 + Duration::from_secs(3) + REPEAT_AFTER));
        limiter.clear();
        assert!(limiter.allow("hot", t0 + Duration::from_secs(3) + REPEAT_AFTER));
    }
}
