//! The HQ side of a scenario: one MQTT subscriber to everything the store publishes, recording each
//! message in arrival order with its retain flag. It connects before the daemon starts and straight
//! to the broker (never through the gate), so it sees every delivery, redeliveries included.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::broker::Broker;

/// One message as HQ received it.
#[derive(Debug, Clone)]
pub struct Message {
    /// The topic below `tagtally/v1/{store}/`, e.g. `delta`, `snapshot`, `readers/ceiling`.
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

/// A running recorder; dropping it disconnects.
#[derive(Debug)]
pub struct Recorder {
    messages: Arc<Mutex<Vec<Message>>>,
    client: AsyncClient,
    prefix: String,
    task: AbortHandle,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    /// Subscribes to `tagtally/v1/{store}/#` at QoS 1 and returns once the broker confirmed it.
    pub async fn start(broker: Broker, store: &str) -> Recorder {
        let prefix = format!("tagtally/v1/{store}/");
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut options = MqttOptions::new(
            format!("hq-recorder-{store}-{n}"),
            broker.addr.ip().to_string(),
            broker.addr.port(),
        );
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(8 * 1024 * 1024, 8 * 1024 * 1024);
        let (client, mut events) = AsyncClient::new(options, 1024);
        let messages = Arc::new(Mutex::new(Vec::new()));
        let (subscribed_tx, mut subscribed) = watch::channel(false);
        let sink = Arc::clone(&messages);
        let filter = format!("{prefix}#");
        let publisher = client.clone();
        let topics = prefix.clone();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = client.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        subscribed_tx.send_replace(true);
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let topic = p.topic.strip_prefix(&topics).unwrap_or(&p.topic);
                        sink.lock().unwrap().push(Message {
                            topic: topic.to_owned(),
                            payload: p.payload.to_vec(),
                            retain: p.retain,
                        });
                    }
                    Ok(_) => {}
                    // The recorder's own reconnect pause (the broker never goes away in a scenario).
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(20), subscribed.wait_for(|s| *s))
            .await
            .expect("the recorder's SUBACK within 20 s")
            .expect("recorder task alive");
        Recorder {
            messages,
            client: publisher,
            prefix,
            task: task.abort_handle(),
        }
    }

    /// Publishes `payload` (QoS 1, not retained) on `topic` below `tagtally/v1/{store}/`, as an
    /// HQ consumer sends `cmd/snapshot` or `cmd/replay`; returns once the client queued it.
    pub async fn publish(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(
                format!("{}{topic}", self.prefix),
                QoS::AtLeastOnce,
                false,
                payload.to_vec(),
            )
            .await
            .expect("the recorder's client queues a publish");
    }

    /// Writes the recording as JSON lines (`{"topic","retain","payload"}`) to `path`.
    pub fn dump(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut text = String::new();
        for m in self.messages() {
            let payload = serde_json::from_slice::<serde_json::Value>(&m.payload)
                .unwrap_or_else(|_| String::from_utf8_lossy(&m.payload).into());
            let line =
                serde_json::json!({"topic": m.topic, "retain": m.retain, "payload": payload});
            text.push_str(&line.to_string());
            text.push('\n');
        }
        std::fs::write(path, text)
    }

    /// Everything recorded so far, in arrival order.
    pub fn messages(&self) -> Vec<Message> {
        self.messages.lock().unwrap().clone()
    }

    /// The JSON payloads recorded on `topic` (below the store), in arrival order; empty payloads
    /// (retained values cleared) left out. On `snapshot` that is part 1 of every snapshot, which
    /// carries its `reason`, `seq` and `stale_zones`.
    pub fn payloads(&self, topic: &str) -> Vec<serde_json::Value> {
        self.messages()
            .iter()
            .filter(|m| m.topic == topic && !m.payload.is_empty())
            .map(|m| serde_json::from_slice(&m.payload).expect("a json payload"))
            .collect()
    }
}
