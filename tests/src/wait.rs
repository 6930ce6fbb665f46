//! Bounded waits: poll a condition until it holds or a limit passes; the pause between two polls is
//! a poll interval, never a stand-in for the condition.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Pause between two polls.
pub const POLL: Duration = Duration::from_millis(100);

/// Polls `check` until it returns a value, at most `limit`; panics naming `what` (and the last
/// explanation `check` gave) otherwise.
pub async fn until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(why) if Instant::now() >= deadline => {
                panic!("timed out after {limit:?} waiting for {what}: {why}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}
