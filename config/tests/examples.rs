//! The shipped example configs stay valid (SPEC §4: "kept valid by a test").

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tagtally_config::{Config, FileChecks, MqttProtocol, ReaderLink, SerialPort};

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// A stand-in for the gateway's /etc/tagtally with the files the example names, so the file
/// checks run for real (under a temporary root) rather than being skipped.
fn gateway_root_with_example_files() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/tagtally");
    fs::create_dir_all(&etc).unwrap();
    for (name, content) in [
        ("mqtt.password", "example-password\n"),
        ("ca.pem", "-----BEGIN CERTIFICATE-----\n"),
        ("client.pem", "-----BEGIN CERTIFICATE-----\n"),
        ("client.key", "-----BEGIN PRIVATE KEY-----\n"),
    ] {
        let path = etc.join(name);
        fs::write(&path, content).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    root
}

#[test]
fn the_full_example_is_valid_with_its_files_in_place() {
    let root = gateway_root_with_example_files();
    let config = Config::load_with(
        shipped("tagtally.example.toml"),
        &FileChecks::UnderRoot(root.path().to_path_buf()),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.store, "paris-01");
    assert_eq!(config.zones.len(), 3);
    let roles: Vec<&str> = config.zones.iter().map(|zone| zone.role.as_str()).collect();
    assert_eq!(roles, ["sales-floor", "stockroom", "fitting-room"]);
    assert_eq!(config.replenish.min_on_floor, 2);
    assert_eq!(config.readers.len(), 3);
    assert_eq!(config.mqtt.protocol, MqttProtocol::V3_1_1);
    let epcis = config.epcis.as_ref().expect("[epcis]");
    assert_eq!(
        epcis.gln.as_ref().map(ToString::to_string).as_deref(),
        Some("0614141.00777")
    );
}

#[test]
fn the_full_example_names_files_that_the_checks_look_for() {
    // An empty root: the example's secret and certificate files are missing there, which
    // proves the test above checked them rather than skipping.
    let empty_root = tempfile::tempdir().unwrap();
    let errors = Config::load_with(
        shipped("tagtally.example.toml"),
        &FileChecks::UnderRoot(empty_root.path().to_path_buf()),
    )
    .unwrap_err();
    let keys: Vec<String> = errors
        .iter()
        .map(|error| error.problem.to_string())
        .collect();
    assert_eq!(keys.len(), 4, "{errors}");
    for key in ["password-file", "ca-file", "client-cert", "client-key"] {
        assert!(
            keys.iter()
                .any(|message| message.starts_with(&format!("`{key}`"))),
            "{errors}"
        );
    }
}

#[test]
fn the_full_example_sets_every_key_to_its_documented_value() {
    let config = Config::load_with(shipped("tagtally.example.toml"), &FileChecks::Skip)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let floor = config.zone("floor").unwrap();
    assert_eq!(floor.presence.arrive_reads, 3);
    assert_eq!(floor.presence.depart_after, Duration::from_secs(600));
    assert_eq!(floor.presence.rssi_margin_db, 4.5);
    let fitting_rooms = config.zone("fitting-rooms").unwrap();
    assert_eq!(
        fitting_rooms.presence.depart_after,
        Duration::from_secs(1200)
    );
    assert_eq!(fitting_rooms.presence.arrive_reads, 2);
    let till = config.reader("till").unwrap();
    assert!(
        matches!(&till.link, ReaderLink::Serial(serial) if serial.port == SerialPort::Device("/dev/ttyUSB0".into()))
    );
    let gate = config.reader("fitting-gate").unwrap();
    assert!(
        matches!(&gate.link, ReaderLink::Serial(serial) if matches!(&serial.port, SerialPort::Tcp(address) if address.port == 4001))
    );
    assert_eq!(config.sku_map[0].epc_prefix, "E2801160");
    assert!(config.mqtt.client_cert.is_some());
}

#[test]
fn the_minimal_example_is_valid_and_takes_the_spec_defaults() {
    let config = Config::load_with(shipped("minimal.toml"), &FileChecks::Real)
        .unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.state_dir, Path::new("/var/lib/tagtally"));
    assert_eq!(
        config.control_socket,
        Path::new("/run/tagtally/control.sock")
    );
    assert_eq!(config.mqtt.client_id, "tagtally-paris-01");
    assert_eq!(config.mqtt.topic_prefix, "tagtally/v1");
    assert_eq!(config.mqtt.broker.address.port, 8883);
    assert_eq!(config.mqtt.flush_interval, Duration::from_secs(1));
    assert_eq!(config.mqtt.snapshot_interval, Duration::from_secs(900));
    let ReaderLink::Llrp(llrp) = &config.readers[0].link else {
        panic!("an llrp reader")
    };
    assert_eq!(llrp.address.port, 5084);
    assert_eq!(llrp.keepalive, Duration::from_secs(10));
}

#[test]
fn the_hq_example_is_valid_with_its_files_in_place() {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/tagtally");
    fs::create_dir_all(&etc).unwrap();
    for name in [
        "hq-db.password",
        "hq-mqtt.password",
        "hq-ca.pem",
        "hq-client.pem",
        "hq-client.key",
    ] {
        let path = etc.join(name);
        fs::write(&path, "example-password\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    let config = tagtally_config::HqConfig::load_with(
        shipped("hq.example.toml"),
        &FileChecks::UnderRoot(root.path().to_path_buf()),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(config.mqtt.group.as_deref(), Some("tagtally-hq"));
    assert!(config.mqtt.broker.tls && config.mqtt.client_cert.is_some());
    assert_eq!(config.apply.gap_timeout, Duration::from_secs(5));
    assert_eq!(config.zone_roles["floor"], "sales-floor");
}
