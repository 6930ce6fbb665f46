//! The end of every scenario: the daemon's stock equals the ground truth exactly, and what HQ
//! recorded replays to the same counts at the same seq, in the same epoch.

use std::time::Duration;

use crate::broker::Broker;
use crate::daemon::Daemon;
use crate::recorder::Recorder;
use crate::replay::{replay, Replay};
use crate::{wait, Counts};

/// Lines describing how `got` differs from `want` (at most 12).
pub fn diff(want: &Counts, got: &Counts) -> String {
    let mut lines = Vec::new();
    for (key, w) in want {
        match got.get(key) {
            Some(g) if g == w => {}
            Some(g) => lines.push(format!("{key:?}: {g}, truth {w}")),
            None => lines.push(format!("{key:?}: missing, truth {w}")),
        }
    }
    for (key, g) in got {
        if !want.contains_key(key) {
            lines.push(format!("{key:?}: {g}, a phantom cell"));
        }
    }
    let more = lines.len().saturating_sub(12);
    lines.truncate(12);
    if more > 0 {
        lines.push(format!("... and {more} more"));
    }
    lines.join("; ")
}

/// Waits (bounded by `limit`) until `stock` equals `truth`; returns the seq it was reached at.
pub async fn stock_reaches(daemon: &Daemon, truth: &Counts, limit: Duration) -> u64 {
    wait::until("stock to equal the ground truth", limit, || async {
        let (seq, counts) = daemon.stock().await?;
        if &counts == truth {
            Ok(seq)
        } else {
            Err(diff(truth, &counts))
        }
    })
    .await
}

/// Waits (bounded) until HQ's recording replays to the daemon's current stock at the same seq, checks
/// the epoch against `status`, and that a consumer subscribing now gets a retained snapshot of the
/// same chain. Returns the replay.
pub async fn hq_agrees(
    daemon: &Daemon,
    broker: Broker,
    recorder: &Recorder,
    store: &str,
) -> Replay {
    let status = daemon.cli("status", &[]).await.expect("status");
    let epoch = status["epoch"].as_str().expect("status epoch").to_owned();
    let r = wait::until(
        "HQ's replay to reach the daemon's stock",
        Duration::from_secs(60),
        || async {
            let (seq, counts) = daemon.stock().await?;
            let r = replay(store, &recorder.messages())?;
            if r.seq != seq {
                return Err(format!("HQ at seq {}, the daemon at {seq}", r.seq));
            }
            if r.counts != counts {
                return Err(format!("at seq {seq}: {}", diff(&counts, &r.counts)));
            }
            Ok(r)
        },
    )
    .await;
    assert_eq!(r.epoch, epoch, "HQ's epoch differs from the daemon's");
    late_joiner_agrees(broker, recorder, store).await;
    r
}

/// What an HQ consumer that starts now gets: the retained snapshot (flagged retained), which must
/// be a state of the same chain — `recorder`'s replay checks it at its seq like any other snapshot.
async fn late_joiner_agrees(broker: Broker, recorder: &Recorder, store: &str) {
    let late = Recorder::start(broker, store).await;
    let snapshot = wait::until(
        "the retained snapshot for a late subscriber",
        Duration::from_secs(30),
        || async {
            late.messages()
                .into_iter()
                .find(|m| m.topic == "snapshot")
                .ok_or_else(|| "no snapshot yet".to_owned())
        },
    )
    .await;
    assert!(
        snapshot.retain,
        "the first snapshot a new subscriber gets is the retained one"
    );
    // One copy of the recording for both replays: the daemon may publish another snapshot (an
    // interval or a settled one) meanwhile, which must not count as the late joiner's.
    let mut messages = recorder.messages();
    let without = replay(store, &messages).expect("HQ's chain");
    messages.push(snapshot);
    let with_late = replay(store, &messages).expect("the retained snapshot belongs to HQ's chain");
    assert_eq!(
        with_late.snapshots_checked,
        without.snapshots_checked + 1,
        "the retained snapshot was checked against HQ's chain"
    );
}
