//! Keeps a repeated complaint (a reader's status frame every second, a broker refusing every
//! attempt) from flooding events or logs: a message is let through when it changes or after a quiet period.

use std::time::{Duration, Instant};

/// Remembers the last complaint let through.
#[derive(Debug)]
pub struct RepeatLimiter {
    /// How long an unchanged complaint stays muted.
    repeat_after: Duration,
    last: Option<(String, Instant)>,
}

impl RepeatLimiter {
    /// A limiter letting an unchanged message through again once `repeat_after` passed.
    pub fn new(repeat_after: Duration) -> Self {
        Self {
            repeat_after,
            last: None,
        }
    }

    /// True when `message` should be reported now.
    pub fn allow(&mut self, message: &str, now: Instant) -> bool {
        let fresh = match &self.last {
            Some((last, at)) => {
                last != message || now.saturating_duration_since(*at) >= self.repeat_after
            }
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

    /// Whether a complaint was let through since the last [`RepeatLimiter::clear`].
    pub fn has_complained(&self) -> bool {
        self.last.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_muted_until_the_message_changes_or_time_passes() {
        const REPEAT_AFTER: Duration = Duration::from_secs(60);
        let t0 = Instant::now();
        let mut limiter = RepeatLimiter::new(REPEAT_AFTER);
        assert!(!limiter.has_complained());
        assert!(limiter.allow("hot", t0));
        assert!(!limiter.allow("hot", t0 + Duration::from_secs(1)));
        assert!(limiter.allow("antenna", t0 + Duration::from_secs(2)));
        assert!(limiter.allow("hot", t0 + Duration::from_secs(3)));
        assert!(limiter.allow("hot", t0 + Duration::from_secs(3) + REPEAT_AFTER));
        assert!(limiter.has_complained());
        limiter.clear();
        assert!(limiter.allow("hot", t0 + Duration::from_secs(3) + REPEAT_AFTER));
    }
}
