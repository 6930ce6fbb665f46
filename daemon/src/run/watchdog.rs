//! systemd supervision while running: `WATCHDOG=1` at half of `WATCHDOG_USEC`, sent only while the
//! engine loop and the uplink make progress, and a `STATUS=` line whenever the summary changes.
//!
//! A full state disk is not a stall: the engine keeps counting (holding what it cannot commit) and
//! beating, so pings go on and a restart, which would not make room, is not forced; the `STATUS=` line
//! says the disk is full instead.
//!
//! Progress means: the engine loop beat within `engine_limit` (it beats every flush tick), and the
//! uplink is not wedged — online with messages in flight yet no PUBACK for `uplink_limit` (a dead broker
//! is not a stall: keep-alive notices it and the uplink reconnects, which is progress). When either
//! stalls, pinging stops and systemd restarts the daemon after `WatchdogSec`; restarting is safe, since
//! everything committed is on disk.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{error, info, warn};

use crate::notify;
use crate::uplink::{LinkState, UplinkStatus};

use super::published::Published;

/// How often the status line is refreshed when no watchdog asks for more.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// The watchdog task's inputs.
#[derive(Debug)]
pub struct Watchdog {
    /// `WATCHDOG_USEC`, when systemd watches us.
    pub period: Option<Duration>,
    pub published: Published,
    pub uplink: watch::Receiver<UplinkStatus>,
    /// The engine loop counts as stalled after this long without a beat.
    pub engine_limit: Duration,
    /// The uplink counts as stalled when online with messages in flight and no PUBACK for this long.
    pub uplink_limit: Duration,
}

/// Watches whether the uplink's acknowledgements move.
#[derive(Debug, Default)]
struct UplinkProgress {
    last: Option<(Option<u64>, Option<std::time::SystemTime>)>,
    stuck_since: Option<Instant>,
}

impl UplinkProgress {
    /// How long the uplink has been online with messages in flight and nothing acknowledged.
    fn stuck_for(&mut self, status: &UplinkStatus, now: Instant) -> Duration {
        let marker = (status.acked_through, status.last_ack);
        let waiting = matches!(status.state, LinkState::Online) && status.in_flight > 0;
        let moved = self.last != Some(marker);
        self.last = Some(marker);
        if !waiting {
            self.stuck_since = None;
            return Duration::ZERO;
        }
        match self.stuck_since {
            Some(since) if !moved => now.saturating_duration_since(since),
            _ => {
                self.stuck_since = Some(now);
                Duration::ZERO
            }
        }
    }
}

impl Watchdog {
    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let every = self
            .period
            .map_or(STATUS_EVERY, |p| (p / 2).max(Duration::from_millis(100)));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut uplink = UplinkProgress::default();
        let mut last_status = String::new();
        let mut stalled = false;
        let mut notify_failed = false;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            let status = self.uplink.borrow().clone();
            let line = self.status_line(&status);
            if line != last_status {
                send(&format!("STATUS={line}"), &mut notify_failed);
                last_status = line;
            }
            let Some(_) = self.period else { continue };
            let engine_age = self.published.progress.engine_age();
            let uplink_stuck = uplink.stuck_for(&status, Instant::now());
            let healthy = engine_age <= self.engine_limit && uplink_stuck <= self.uplink_limit;
            if healthy {
                if stalled {
                    info!("progress again: watchdog pings resume");
                    stalled = false;
                }
                send("WATCHDOG=1", &mut notify_failed);
            } else if !stalled {
                error!(
                    engine_idle_ms = engine_age.as_millis() as u64,
                    uplink_stuck_ms = uplink_stuck.as_millis() as u64,
                    "no progress: watchdog pings stop, systemd will restart the daemon"
                );
                stalled = true;
            }
        }
    }

    fn status_line(&self, uplink: &UplinkStatus) -> String {
        let health = self.published.health.borrow();
        let total = health.readers_up + health.readers_down;
        let mqtt = match uplink.state {
            LinkState::Online => "online",
            LinkState::Connecting => "connecting",
            LinkState::Down { .. } => "down",
            LinkState::Stopped => "stopped",
        };
        let mut line = format!(
            "readers up {}/{total}, {} tags present, mqtt {mqtt}, outbox {}",
            health.readers_up, health.tags_present, health.outbox.deltas
        );
        if health.disk_full.is_some() {
            line.push_str(&format!(
                "; STATE DISK FULL: committed up to seq {}, newer counts held in memory",
                health.last_seq
            ));
        }
        line
    }
}

/// Sends one notification; a failure is logged once (the daemon runs on without systemd's view).
fn send(state: &str, failed: &mut bool) {
    match notify::notify(state) {
        Ok(_) => *failed = false,
        Err(e) if !*failed => {
            warn!(error = %e, "cannot notify systemd");
            *failed = true;
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uplink_counts_as_stuck_only_online_with_nothing_acknowledged() {
        let t0 = Instant::now();
        let mut p = UplinkProgress::default();
        let mut s = UplinkStatus {
            state: LinkState::Online,
            in_flight: 3,
            ..UplinkStatus::default()
        };
        assert_eq!(p.stuck_for(&s, t0), Duration::ZERO);
        assert_eq!(
            p.stuck_for(&s, t0 + Duration::from_secs(9)),
            Duration::from_secs(9)
        );
        s.acked_through = Some(7);
        assert_eq!(
            p.stuck_for(&s, t0 + Duration::from_secs(10)),
            Duration::ZERO
        );
        s.in_flight = 0;
        assert_eq!(
            p.stuck_for(&s, t0 + Duration::from_secs(20)),
            Duration::ZERO
        );
        s.in_flight = 1;
        assert_eq!(
            p.stuck_for(&s, t0 + Duration::from_secs(21)),
            Duration::ZERO
        );
        assert_eq!(
            p.stuck_for(&s, t0 + Duration::from_secs(25)),
            Duration::from_secs(4)
        );
        s.state = LinkState::Connecting;
        assert_eq!(
            p.stuck_for(&s, t0 + Duration::from_secs(99)),
            Duration::ZERO
        );
    }
}
