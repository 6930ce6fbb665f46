//! The config, translated once for each part of the daemon: engine zones and antennas, store
//! options, uplink settings. Every refusal here names the offending value.

use tagtally_config::{Config, MqttProtocol};
use tagtally_reader_drivers::ReaderId;

use crate::engine::{AntennaZone, EngineConfig, SkuPrefix, ZoneConfig};
use crate::store::{HistoryBounds, StoreOptions};
use crate::uplink::{
    BackoffSettings, Credentials, KeepAlive, Protocol, Secret, SettingsError, TlsFiles,
    UplinkSettings,
};

use super::error::RunError;

/// Most readers one daemon drives: a `ReaderId` is a `u16` index into the config's list.
pub const MAX_READERS: usize = u16::MAX as usize;

/// The engine's view of the store layout; `ReaderId` is the reader's index in the config.
pub fn engine_config(config: &Config) -> Result<EngineConfig, RunError> {
    if config.readers.len() > MAX_READERS {
        return Err(RunError::TooManyReaders {
            count: config.readers.len(),
        });
    }
    let mut zones = Vec::with_capacity(config.zones.len());
    for zone in &config.zones {
        let presence = super::presence::from_config(&zone.presence).map_err(|e| {
            RunError::ArriveReadsTooLarge {
                zone: zone.name.clone(),
                value: e.arrive_reads,
            }
        })?;
        zones.push(ZoneConfig {
            name: zone.name.clone(),
            presence,
        });
    }
    let mut antennas = Vec::new();
    for (index, reader) in config.readers.iter().enumerate() {
        for (&antenna, zone) in &reader.antennas {
            antennas.push(AntennaZone {
                // Cannot truncate: the reader count was checked above.
                reader: ReaderId(index as u16),
                antenna,
                zone: zone.clone(),
            });
        }
    }
    let sku_map = config
        .sku_map
        .iter()
        .map(|m| SkuPrefix {
            epc_prefix: m.epc_prefix.clone(),
            sku: m.sku.clone(),
        })
        .collect();
    Ok(EngineConfig {
        zones,
        antennas,
        sku_map,
    })
}

/// What the store needs.
pub fn store_options(config: &Config) -> StoreOptions {
    StoreOptions {
        store: config.store.clone(),
        max_outbox_bytes: config.mqtt.outbox_max_bytes,
        // Refined once the uplink knows its topics and protocol (see `run/mod.rs`).
        max_delta_payload: usize::try_from(config.mqtt.max_message_bytes).unwrap_or(usize::MAX),
        history: HistoryBounds {
            max_bytes: config.mqtt.history_max_bytes,
            max_age: config.mqtt.history_max_age,
        },
    }
}

/// The uplink's settings from `[mqtt]`; the password file is read here, once per start.
pub fn uplink_settings(config: &Config) -> Result<UplinkSettings, SettingsError> {
    let mqtt = &config.mqtt;
    let scheme = if mqtt.broker.tls { "mqtts" } else { "mqtt" };
    let url = format!("{scheme}://{}", mqtt.broker.address);
    let mut settings = UplinkSettings::new(&config.store, &url, &mqtt.topic_prefix)?;
    settings.client_id = mqtt.client_id.clone();
    settings.protocol = match mqtt.protocol {
        MqttProtocol::V3_1_1 => Protocol::V311,
        MqttProtocol::V5 => Protocol::V5,
    };
    settings.keep_alive = KeepAlive::new(mqtt.keep_alive)?;
    settings.credentials = match (&mqtt.username, &mqtt.password_file) {
        (Some(user), Some(file)) => Some(Credentials::from_password_file(user, file)?),
        // A broker may authenticate by user name alone (or by client certificate).
        (Some(user), None) => Some(Credentials::new(user, Secret::new(String::new()))?),
        (None, _) => None,
    };
    settings.tls = TlsFiles {
        ca_file: mqtt.ca_file.clone(),
        client_cert: mqtt.client_cert.as_ref().map(|c| c.cert_file.clone()),
        client_key: mqtt.client_cert.as_ref().map(|c| c.key_file.clone()),
    };
    settings.max_incoming_packet = crate::uplink::inbound_packet_limit(settings.protocol);
    settings.max_message_bytes = usize::try_from(mqtt.max_message_bytes).unwrap_or(usize::MAX);
    settings.status_interval = mqtt.status_interval;
    settings.command_min_interval = mqtt.command_min_interval;
    let max = mqtt.reconnect_backoff_max;
    settings.backoff = BackoffSettings {
        min: BackoffSettings::default().min.min(max),
        max,
    };
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TEXT: &str = r#"
store = "paris-01"
[presence]
arrive-reads = 3
[[zone]]
name = "floor"
depart-after = "10m"
[[zone]]
name = "backroom"
[[reader]]
name = "r1"
kind = "llrp"
address = "10.0.0.21"
antennas = { 1 = "floor", 3 = "backroom" }
[[reader]]
name = "till"
kind = "thingmagic"
address = "127.0.0.1:7000"
antennas = { 1 = "floor" }
[[sku-map]]
epc-prefix = "E280"
sku = "legacy"
[mqtt]
url = "mqtt://127.0.0.1:1883"
protocol = "5"
keep-alive = "20s"
reconnect-backoff-max = "30s"
"#;

    #[test]
    fn engine_sees_zones_antennas_by_reader_index_and_prefixes() {
        let config = Config::from_str(TEXT, "t.toml").expect("valid");
        let e = engine_config(&config).expect("engine config");
        assert_eq!(e.zones.len(), 2);
        assert_eq!(e.zones[0].presence.arrive_reads, 3);
        assert_eq!(e.zones[0].presence.depart_after, Duration::from_secs(600));
        let pairs: Vec<(u16, u16, &str)> = e
            .antennas
            .iter()
            .map(|a| (a.reader.0, a.antenna, a.zone.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [(0, 1, "floor"), (0, 3, "backroom"), (1, 1, "floor")]
        );
        assert_eq!(e.sku_map[0].sku, "legacy");
    }

    #[test]
    fn uplink_gets_url_protocol_keep_alive_and_backoff() {
        let config = Config::from_str(TEXT, "t.toml").expect("valid");
        let u = uplink_settings(&config).expect("uplink settings");
        assert_eq!(u.broker.to_string(), "mqtt://127.0.0.1:1883");
        assert_eq!(u.protocol, Protocol::V5);
        assert_eq!(u.keep_alive.get(), Duration::from_secs(20));
        assert_eq!(u.backoff.max, Duration::from_secs(30));
        assert_eq!(u.client_id, "tagtally-paris-01");
        assert!(u.credentials.is_none());
        u.validate().expect("valid settings");
    }
}
