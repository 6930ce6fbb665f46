//! What a reload (`SIGHUP`, `systemctl reload`) may change in place, and the refusal of the rest.
//!
//! Readers, zones (their presence keys, and zones added or removed), `sku-map` and
//! `max-candidates` apply in place (all of them are the engine's, rebuilt at a reload);
//! `store`, `state-dir`, `control-socket`, `log-level`, `log-format`, `state-cache-bytes`,
//! `metrics-listen` and anything in `[mqtt]` (broker, identity,
//! credentials, TLS, intervals, outbox bound) are bound into what was opened at start — the
//! database, the socket, the MQTT session — so a change there is refused, located at the key in
//! the new file, and the running config stays in force.

use std::path::Path;

use tagtally_config::{Config, ConfigError, ConfigProblem, KeyLocations, Mqtt, Presence};

/// The refusals of a reload from `running` to `new` (read from `origin`): one per key that only a
/// restart can change; empty when the reload may apply.
pub fn restart_only_changes(running: &Config, new: &Config, origin: &Path) -> Vec<ConfigError> {
    // The password is compared on its own: a rotated password file is not an edit of [mqtt],
    // but the uplink reads it only at start, so it takes a restart too.
    let without_password = |config: &Config| Mqtt {
        password: None,
        ..config.mqtt.clone()
    };
    // (as named in messages, as `KeyLocations` names it, changed)
    let changed: [(&'static str, &str, bool); 9] = [
        ("store", "store", running.store != new.store),
        ("state-dir", "state-dir", running.state_dir != new.state_dir),
        (
            "control-socket",
            "control-socket",
            running.control_socket != new.control_socket,
        ),
        ("log-level", "log-level", running.log_level != new.log_level),
        (
            "log-format",
            "log-format",
            running.log_format != new.log_format,
        ),
        (
            "state-cache-bytes",
            "state-cache-bytes",
            running.state_cache_bytes != new.state_cache_bytes,
        ),
        (
            "metrics-listen",
            "metrics-listen",
            running.metrics_listen != new.metrics_listen,
        ),
        (
            "[mqtt]",
            "mqtt",
            without_password(running) != without_password(new),
        ),
        (
            "password-file",
            "mqtt.password-file",
            running.mqtt.password != new.mqtt.password,
        ),
    ];
    let mut refusals: Vec<ConfigError> = changed
        .into_iter()
        .filter(|(_, _, changed)| *changed)
        .map(|(key, at, _)| ConfigError {
            file: origin.to_path_buf(),
            location: new.locations.get(at),
            problem: ConfigProblem::NeedsRestart { key },
        })
        .collect();
    // A key added to the config later is restart-only until it is handled here: whatever differs
    // beyond what applies in place is refused, even when no line above names it.
    if refusals.is_empty() && beyond_in_place(running) != beyond_in_place(new) {
        refusals.push(ConfigError {
            file: origin.to_path_buf(),
            location: None,
            problem: ConfigProblem::NeedsRestart {
                key: "a setting other than [[reader]], [[zone]], [presence], [[sku-map]] and max-candidates",
            },
        });
    }
    refusals
}

/// `config` without what a reload applies in place (and without where things are written).
fn beyond_in_place(config: &Config) -> Config {
    Config {
        presence: Presence::default(),
        zones: Vec::new(),
        readers: Vec::new(),
        sku_map: Vec::new(),
        max_candidates: None,
        zone_trust: tagtally_config::ZoneTrust {
            suspect_after: tagtally_config::DEFAULT_SUSPECT_AFTER,
        },
        locations: KeyLocations::default(),
        ..config.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "store = \"s1\"\n[[zone]]\nname = \"floor\"\n[[reader]]\nname = \"r1\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\nantennas = { 1 = \"floor\" }\n[mqtt]\nurl = \"mqtt://broker\"\n";

    fn config(text: &str) -> Config {
        Config::from_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn readers_zones_presence_and_sku_map_apply_in_place() {
        let new = format!(
            "{}[presence]\ndepart-after = \"1m\"\n[[zone]]\nname = \"door\"\n[[reader]]\nname = \"r2\"\nkind = \"llrp\"\naddress = \"10.0.0.2\"\nantennas = {{ 1 = \"door\" }}\n[[sku-map]]\nepc-prefix = \"E2\"\nsku = \"x\"\n",
            BASE.replace("[mqtt]\nurl = \"mqtt://broker\"\n", "")
        ) + "[mqtt]\nurl = \"mqtt://broker\"\n";
        assert_eq!(
            restart_only_changes(&config(BASE), &config(&new), Path::new("t.toml")),
            []
        );
    }

    #[test]
    fn store_and_mqtt_changes_are_refused_where_they_are_written() {
        let new = BASE
            .replace("\"s1\"", "\"s2\"")
            .replace("mqtt://broker", "mqtt://other");
        let lines: Vec<String> =
            restart_only_changes(&config(BASE), &config(&new), Path::new("t.toml"))
                .iter()
                .map(ToString::to_string)
                .collect();
        assert_eq!(
            lines,
            [
                "t.toml:1:9: `store` changed; that takes a restart (systemctl restart tagtally), so the running config stays in force",
                "t.toml:9:1: `[mqtt]` changed; that takes a restart (systemctl restart tagtally), so the running config stays in force",
            ]
        );
    }
}
