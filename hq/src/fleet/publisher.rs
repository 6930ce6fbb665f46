//! A fleet of emulated stores on one publishing MQTT connection (and one for commands): publishes what each store publishes and
//! answers `cmd/replay` and `cmd/snapshot` as a store does (replay from history, or a resync
//! snapshot when history lacks some seqs), so the HQ service's gap repair runs for real.

use crate::fleet::{EmulatedStore, Publication};
use crate::outbound::{Outbound, Outgoing};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, Incoming, MqttOptions};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tagtally_contract::{ReplayCommand, SnapshotCommand, SnapshotReason, StoreTopic, Topics};
use tokio::task::JoinHandle;

/// The stores, shared between the driver and the command answerer.
type Stores = Arc<Mutex<BTreeMap<String, EmulatedStore>>>;

/// Emulated stores publishing through one connection.
#[derive(Debug)]
pub struct Fleet {
    stores: Stores,
    outbound: Outbound,
    prefix: String,
    max_payload: usize,
    replays: Arc<AtomicU64>,
    snapshots: Arc<AtomicU64>,
    poller: JoinHandle<()>,
    sender: JoinHandle<()>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.poller.abort();
        self.sender.abort();
    }
}

fn lock(stores: &Stores) -> MutexGuard<'_, BTreeMap<String, EmulatedStore>> {
    // A panic while holding the lock would already have failed the test or bench.
    stores
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Fleet {
    /// Connects to `broker` and answers commands to any store of the fleet.
    pub fn connect(broker: SocketAddr, prefix: &str, client_id: &str, max_payload: usize) -> Fleet {
        let mut options = MqttOptions::new(
            format!("{client_id}-commands"),
            broker.ip().to_string(),
            broker.port(),
        );
        options.set_keep_alive(Duration::from_secs(10));
        let (subscriber, mut event_loop) = AsyncClient::new(options, 64);
        let (outbound, sender) = Outbound::start_to(broker, client_id);
        let stores: Stores = Arc::default();
        let replays = Arc::new(AtomicU64::new(0));
        let snapshots = Arc::new(AtomicU64::new(0));
        let (commands, mut command_rx) = tokio::sync::mpsc::unbounded_channel();
        let filter = format!("{prefix}/+/cmd/#");
        let poll = async move {
            loop {
                match event_loop.poll().await {
                    Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                        let _ = subscriber.subscribe(filter.clone(), QoS::AtLeastOnce).await;
                    }
                    Ok(Event::Incoming(Incoming::Publish(publish))) => {
                        let _ = commands.send((publish.topic.to_vec(), publish.payload.to_vec()));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        };
        let answerer = {
            let stores = Arc::clone(&stores);
            let outbound = outbound.clone();
            let prefix = prefix.to_owned();
            let replays = Arc::clone(&replays);
            let snapshots = Arc::clone(&snapshots);
            async move {
                while let Some((topic, payload)) = command_rx.recv().await {
                    let Ok(topic) = String::from_utf8(topic) else {
                        continue;
                    };
                    let Some((name, kind)) = Topics::classify(&prefix, &topic) else {
                        continue;
                    };
                    let publications = {
                        let mut stores = lock(&stores);
                        let Some(store) = stores.get_mut(&name) else {
                            continue;
                        };
                        match kind {
                            StoreTopic::CmdReplay => match ReplayCommand::parse(&payload) {
                                Ok(command) => {
                                    replays.fetch_add(1, Ordering::Relaxed);
                                    store
                                        .replay(command.from_seq, command.to_seq)
                                        .unwrap_or_else(|| {
                                            store.snapshot(max_payload, SnapshotReason::Resync)
                                        })
                                }
                                Err(_) => continue,
                            },
                            StoreTopic::CmdSnapshot if SnapshotCommand::parse(&payload).is_ok() => {
                                snapshots.fetch_add(1, Ordering::Relaxed);
                                store.snapshot(max_payload, SnapshotReason::Request)
                            }
                            _ => continue,
                        }
                    };
                    for publication in publications {
                        send(&outbound, &prefix, &name, publication);
                    }
                }
            }
        };
        let poller = tokio::spawn(async move {
            tokio::join!(poll, answerer);
        });
        Fleet {
            stores,
            outbound,
            prefix: prefix.to_owned(),
            max_payload,
            replays,
            snapshots,
            poller,
            sender,
        }
    }

    /// Adds a freshly installed store.
    pub fn add_store(&self, name: &str) {
        lock(&self.stores).insert(name.to_owned(), EmulatedStore::new(name));
    }

    /// Runs `change` on a store and publishes what it returns.
    pub async fn act(
        &self,
        name: &str,
        change: impl FnOnce(&mut EmulatedStore, usize) -> Vec<Publication>,
    ) {
        let publications = {
            let mut stores = lock(&self.stores);
            match stores.get_mut(name) {
                Some(store) => change(store, self.max_payload),
                None => Vec::new(),
            }
        };
        for publication in publications {
            send(&self.outbound, &self.prefix, name, publication);
        }
    }

    /// Publishes raw bytes on a raw topic (for malformed input).
    pub fn publish_raw(&self, topic: &str, payload: &[u8]) {
        self.outbound.send(Outgoing {
            topic: topic.to_owned(),
            payload: payload.to_vec(),
            retain: false,
        });
    }

    /// A copy of every store's state.
    pub fn stores(&self) -> BTreeMap<String, EmulatedStore> {
        lock(&self.stores).clone()
    }

    /// Replays and snapshots answered so far.
    pub fn commands_answered(&self) -> (u64, u64) {
        (
            self.replays.load(Ordering::Relaxed),
            self.snapshots.load(Ordering::Relaxed),
        )
    }
}

fn send(outbound: &Outbound, prefix: &str, store: &str, publication: Publication) {
    outbound.send(Outgoing {
        topic: format!("{prefix}/{store}/{}", publication.suffix),
        payload: publication.payload,
        retain: publication.retained,
    });
}
