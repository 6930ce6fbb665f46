//! The fan-out of live events to `tail` clients: the engine publishes, never waits.
//!
//! Built on a `tokio::sync::broadcast` ring of [`TailHub::new`]'s capacity, shared by all
//! subscribers: publishing is a short lock and a slot overwrite, whatever the clients do. A
//! subscriber that falls more than `capacity` events behind loses the oldest ones and learns
//! how many from [`TailItem::Dropped`]; memory stays at `capacity` events in all cases.
//!
//! Building a [`TailEvent`] costs allocations (EPC hex, names), so the engine asks
//! [`TailHub::is_watched`] (one atomic load) first and builds nothing while nobody tails.

use super::model::TailEvent;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events kept for subscribers by default: a few seconds of a busy store's reads.
pub const DEFAULT_TAIL_CAPACITY: usize = 4096;

/// The publishing side, cheap to clone into every task that produces events.
#[derive(Debug, Clone)]
pub struct TailHub {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    sender: broadcast::Sender<Arc<TailEvent>>,
    watchers: AtomicUsize,
}

/// One client's view of the stream.
#[derive(Debug)]
pub struct TailSubscription {
    receiver: broadcast::Receiver<Arc<TailEvent>>,
    shared: Arc<Shared>,
}

/// What a subscription yields next.
#[derive(Debug, Clone, PartialEq)]
pub enum TailItem {
    /// The next event.
    Event(Arc<TailEvent>),
    /// This many events were skipped because the subscriber fell behind.
    Dropped(u64),
}

impl TailHub {
    /// A hub keeping up to `capacity` (at least 1) events for slow subscribers.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        TailHub {
            shared: Arc::new(Shared {
                sender,
                watchers: AtomicUsize::new(0),
            }),
        }
    }

    /// Whether any client tails right now; the engine skips building events when not.
    pub fn is_watched(&self) -> bool {
        self.shared.watchers.load(Ordering::Relaxed) > 0
    }

    /// Hands `event` to every subscriber. Never blocks; a no-op when nobody tails.
    pub fn publish(&self, event: TailEvent) {
        if self.is_watched() {
            // An error only means the last subscriber left meanwhile: nobody to tell.
            let _ = self.shared.sender.send(Arc::new(event));
        }
    }

    /// A new subscription, seeing events published from now on.
    pub fn subscribe(&self) -> TailSubscription {
        self.shared.watchers.fetch_add(1, Ordering::Relaxed);
        TailSubscription {
            receiver: self.shared.sender.subscribe(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Default for TailHub {
    fn default() -> Self {
        TailHub::new(DEFAULT_TAIL_CAPACITY)
    }
}

impl TailSubscription {
    /// The next item; `None` once every [`TailHub`] is gone (the daemon is stopping).
    pub async fn recv(&mut self) -> Option<TailItem> {
        match self.receiver.recv().await {
            Ok(event) => Some(TailItem::Event(event)),
            Err(broadcast::error::RecvError::Lagged(skipped)) => Some(TailItem::Dropped(skipped)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next item if one is already waiting, without waiting.
    pub fn try_recv(&mut self) -> Option<TailItem> {
        match self.receiver.try_recv() {
            Ok(event) => Some(TailItem::Event(event)),
            Err(broadcast::error::TryRecvError::Lagged(skipped)) => {
                Some(TailItem::Dropped(skipped))
            }
            Err(_) => None,
        }
    }
}

impl Drop for TailSubscription {
    fn drop(&mut self) {
        self.shared.watchers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::timestamp::Timestamp;

    fn event(n: u32) -> TailEvent {
        TailEvent::Arrival {
            time: Timestamp::now(),
            epc: format!("{n:08x}"),
            zone: "floor".into(),
            sku: "x".into(),
        }
    }

    fn epc(item: Option<TailItem>) -> String {
        match item {
            Some(TailItem::Event(event)) => event.epc().to_owned(),
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn a_lagging_subscriber_learns_how_many_it_missed() {
        let hub = TailHub::new(4);
        assert!(!hub.is_watched());
        hub.publish(event(0)); // nobody watches: not kept
        let mut sub = hub.subscribe();
        assert!(hub.is_watched());
        for n in 1..=10 {
            hub.publish(event(n));
        }
        assert_eq!(sub.try_recv(), Some(TailItem::Dropped(6)));
        for n in 7..=10 {
            assert_eq!(epc(sub.try_recv()), format!("{n:08x}"));
        }
        assert_eq!(sub.try_recv(), None);
        drop(sub);
        assert!(!hub.is_watched());
    }
}
