//! The uplink's settings from `[mqtt]`: the password the loader read, and the TLS client
//! configuration built here once — a certificate or key that TLS cannot use is a config problem
//! located at the key that names the file.

use std::path::Path;

use tagtally_config::{Config, ConfigError, ConfigProblem, MqttProtocol, Secret};

use tagtally_core::BackoffPolicy;

use crate::uplink::{Credentials, Protocol, TlsError, TlsFiles, TlsSetup, UplinkSettings};

/// The uplink's settings for `config`, with `tls` set for an `mqtts://` broker.
pub fn uplink_settings(config: &Config, tls: Option<TlsSetup>) -> UplinkSettings {
    let mqtt = &config.mqtt;
    let mut settings = UplinkSettings::new(&config.store, mqtt.broker.clone(), &mqtt.topic_prefix);
    settings.client_id = mqtt.client_id.clone();
    settings.protocol = match mqtt.protocol {
        MqttProtocol::V3_1_1 => Protocol::V311,
        MqttProtocol::V5 => Protocol::V5,
    };
    settings.keep_alive = mqtt.keep_alive;
    settings.credentials = mqtt.username.as_ref().map(|username| Credentials {
        username: username.clone(),
        // A broker may authenticate by user name alone (or by client certificate).
        password: mqtt
            .password
            .clone()
            .unwrap_or_else(|| Secret::new(String::new())),
    });
    settings.tls = tls;
    settings.max_incoming_packet = crate::uplink::inbound_packet_limit(settings.protocol);
    settings.max_message_bytes = usize::try_from(mqtt.max_message_bytes).unwrap_or(usize::MAX);
    settings.status_interval = mqtt.status_interval;
    settings.command_min_interval = mqtt.command_min_interval;
    let max = mqtt.reconnect_backoff_max;
    settings.backoff = BackoffPolicy {
        initial: BackoffPolicy::STANDARD.initial.min(max),
        max,
    };
    settings
}

/// The TLS setup of an `mqtts://` broker (`None` for `mqtt://`), or the problem located at the
/// key naming the file TLS could not use.
pub fn tls_setup(config: &Config, origin: &Path) -> Result<Option<TlsSetup>, ConfigError> {
    let mqtt = &config.mqtt;
    if !mqtt.broker.tls {
        return Ok(None);
    }
    let files = TlsFiles {
        ca_file: mqtt.ca_file.clone(),
        client_cert: mqtt.client_cert.as_ref().map(|c| c.cert_file.clone()),
        client_key: mqtt.client_cert.as_ref().map(|c| c.key_file.clone()),
    };
    TlsSetup::load(files.clone()).map(Some).map_err(|error| {
        let (key, problem) = tls_problem(&files, error);
        ConfigError {
            file: origin.to_path_buf(),
            location: config.locations.get(key),
            problem,
        }
    })
}

/// The key a TLS error is about (as `KeyLocations` names it) and the problem to report there.
fn tls_problem(files: &TlsFiles, error: TlsError) -> (&'static str, ConfigProblem) {
    let key_of = |path: &Path| {
        if files.client_key.as_deref() == Some(path) {
            ("mqtt.client-key", "client-key")
        } else if files.client_cert.as_deref() == Some(path) {
            ("mqtt.client-cert", "client-cert")
        } else {
            ("mqtt.ca-file", "ca-file")
        }
    };
    let file_problem = |path: &Path, reason: String| {
        let (at, key) = key_of(path);
        (
            at,
            ConfigProblem::BadTlsFile {
                key,
                path: path.to_path_buf(),
                reason,
            },
        )
    };
    match error {
        TlsError::Read { path, source } => file_problem(&path, source.to_string()),
        TlsError::NoCertificate(path) => file_problem(&path, "no pem certificate found".into()),
        TlsError::BadCa {
            path,
            index,
            reason,
        } => file_problem(
            &path,
            format!("certificate {index} is not a usable ca: {reason}"),
        ),
        TlsError::NoKey { path, reason } => {
            file_problem(&path, format!("no pem private key found ({reason})"))
        }
        TlsError::BadClientIdentity { cert, key, reason } => file_problem(
            &cert,
            format!("does not go with client-key {}: {reason}", key.display()),
        ),
        TlsError::NoSystemRoots(reason) => ("mqtt.url", ConfigProblem::NoTrustedRoots { reason }),
        // A build without the crypto provider's defaults: nothing in the config to point at.
        TlsError::Provider(reason) => ("mqtt.url", ConfigProblem::TlsUnavailable { reason }),
    }
}
