//! Read times: the reader's UTC when sane, uptime anchored to our clock at connect, receive time when the reader's clock is off.

use tagtally_protocol::llrp::Timestamp;

use crate::Micros;

/// Before this (2001-09-09T01:46:40Z) a UTC clock is unset, not merely skewed.
const EARLIEST_SANE_UTC_US: u64 = 1_000_000_000_000_000;

/// Which clock read times come from, decided per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Nothing seen yet.
    Undecided,
    /// The reader's UTC timestamps, trusted.
    ReaderUtc,
    /// Reader uptime plus an offset fixed when the link came up.
    Uptime { offset_us: i64 },
    /// Our receive time: the reader's clock is unset or off by more than the tolerance.
    Receive,
}

/// Turns the reader's timestamps into UTC, per connection.
#[derive(Debug, Clone)]
pub struct ReadClock {
    source: Source,
    tolerance_us: i64,
    /// Slack for reads legitimately older than their report (report interval plus transit).
    report_age_us: i64,
}

impl ReadClock {
    /// `tolerance_us`: the largest accepted clock error; `report_age_us`: how old a read may be
    /// when its report arrives.
    pub fn new(tolerance_us: i64, report_age_us: i64) -> Self {
        ReadClock {
            source: Source::Undecided,
            tolerance_us,
            report_age_us,
        }
    }

    /// Forgets the previous connection's decision (a reader may have been reset in between).
    pub fn reset(&mut self) {
        self.source = Source::Undecided;
    }

    /// Judges the reader's clock by the timestamp of its ConnectionAttemptEvent, received at
    /// `now`. Returns the skew in milliseconds when it is beyond the tolerance.
    pub fn on_connect(&mut self, timestamp: Option<Timestamp>, now: Micros) -> Option<i64> {
        match timestamp {
            Some(Timestamp::Utc(us)) => self.judge_utc(us, now, self.tolerance_us),
            Some(Timestamp::Uptime(us)) => {
                self.source = Source::Uptime {
                    offset_us: signed(now.0).saturating_sub(signed(us)),
                };
                None
            }
            None => None,
        }
    }

    /// The UTC time of a read seen at `first_seen` (`(µs, is_utc)` as the report gives it),
    /// received at `now`; and the skew in milliseconds the first time the clock is found off.
    #[inline]
    pub fn read_time(
        &mut self,
        first_seen: Option<(u64, bool)>,
        now: Micros,
    ) -> (Micros, Option<i64>) {
        let Some((us, is_utc)) = first_seen else {
            return (now, None);
        };
        if is_utc {
            let skew = match self.source {
                Source::Undecided => {
                    self.judge_utc(us, now, self.tolerance_us + self.report_age_us)
                }
                // A reader clock stepping into the future after connect is still caught.
                Source::ReaderUtc if signed(us) - signed(now.0) > self.tolerance_us => {
                    self.judge_utc(us, now, self.tolerance_us)
                }
                _ => None,
            };
            let time = match self.source {
                Source::ReaderUtc => Micros(us),
                _ => now,
            };
            (time, skew)
        } else {
            if let Source::Undecided | Source::ReaderUtc = self.source {
                // No connect-time anchor: the report just arrived, so its reads are about now.
                self.source = Source::Uptime {
                    offset_us: signed(now.0).saturating_sub(signed(us)),
                };
            }
            match self.source {
                Source::Uptime { offset_us } => (
                    Micros(u64::try_from(signed(us).saturating_add(offset_us)).unwrap_or(0)),
                    None,
                ),
                _ => (now, None),
            }
        }
    }

    fn judge_utc(&mut self, us: u64, now: Micros, tolerance_us: i64) -> Option<i64> {
        let skew_us = signed(us).saturating_sub(signed(now.0));
        if us >= EARLIEST_SANE_UTC_US && skew_us.abs() <= tolerance_us {
            self.source = Source::ReaderUtc;
            None
        } else {
            self.source = Source::Receive;
            Some(skew_us / 1000)
        }
    }
}

fn signed(us: u64) -> i64 {
    i64::try_from(us).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Micros = Micros(1_700_000_000_000_000);
    const SEC: u64 = 1_000_000;

    fn clock() -> ReadClock {
        ReadClock::new(2_000_000, 1_000_000)
    }

    #[test]
    fn sane_reader_utc_is_used() {
        let mut c = clock();
        assert_eq!(c.on_connect(Some(Timestamp::Utc(NOW.0 + SEC)), NOW), None);
        let t = NOW.0 - 500_000;
        assert_eq!(c.read_time(Some((t, true)), NOW), (Micros(t), None));
    }

    #[test]
    fn skewed_reader_utc_falls_back_to_receive_time_and_reports_once() {
        let mut c = clock();
        assert_eq!(
            c.on_connect(Some(Timestamp::Utc(NOW.0 + 5 * SEC)), NOW),
            Some(5000)
        );
        assert_eq!(c.read_time(Some((NOW.0 + 5 * SEC, true)), NOW), (NOW, None));
    }

    #[test]
    fn unset_clock_is_skew() {
        let mut c = clock();
        let (time, skew) = c.read_time(Some((12 * SEC, true)), NOW);
        assert_eq!(time, NOW);
        assert!(skew.is_some_and(|ms| ms < -1_000_000));
    }

    #[test]
    fn clock_jumping_ahead_mid_connection_is_caught() {
        let mut c = clock();
        c.on_connect(Some(Timestamp::Utc(NOW.0)), NOW);
        assert_eq!(
            c.read_time(Some((NOW.0 + 3 * SEC, true)), NOW),
            (NOW, Some(3000))
        );
        assert_eq!(c.read_time(Some((NOW.0 + 3 * SEC, true)), NOW), (NOW, None));
    }

    #[test]
    fn uptime_is_anchored_at_connect() {
        let mut c = clock();
        assert_eq!(c.on_connect(Some(Timestamp::Uptime(100 * SEC)), NOW), None);
        let later = Micros(NOW.0 + 10 * SEC);
        assert_eq!(
            c.read_time(Some((105 * SEC, false)), later),
            (Micros(NOW.0 + 5 * SEC), None)
        );
    }

    #[test]
    fn uptime_without_connect_anchor_anchors_on_first_read() {
        let mut c = clock();
        assert_eq!(c.read_time(Some((50 * SEC, false)), NOW), (NOW, None));
        assert_eq!(
            c.read_time(Some((51 * SEC, false)), NOW),
            (Micros(NOW.0 + SEC), None)
        );
    }

    #[test]
    fn no_timestamp_is_receive_time() {
        assert_eq!(clock().read_time(None, NOW), (NOW, None));
    }
}
