//! Fuzz target: arbitrary text through the config loader (`Config::from_str`: TOML syntax, every
//! table, every cross-field rule). Every problem is located inside the text and printed as one
//! `FILE:LINE:COL: message` line, a second check of the same text gives the same answer, and an
//! accepted config holds the rules the rest of the daemon relies on.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use tagtally_config::{
    is_valid_name, Config, ConfigErrors, FileChecks, Location, MAX_SOCKET_PATH_BYTES,
};

/// The name the text goes by in messages; relative paths resolve against its directory.
const ORIGIN: &str = "/etc/tagtally/tagtally.toml";

/// Whether `location` points at a character of `text` or just after the end of a line.
fn within(text: &str, location: Location) -> bool {
    let Some(line) = text.split('\n').nth(location.line.wrapping_sub(1)) else {
        return false;
    };
    location.col >= 1 && location.col <= line.chars().count() + 1
}

fn check_errors(text: &str, errors: &ConfigErrors) {
    assert!(!errors.0.is_empty(), "a refused config says why");
    let mut previous = None;
    for error in errors {
        let location = error
            .location
            .unwrap_or_else(|| panic!("no line:col for {error}"));
        assert!(
            within(text, location),
            "{location:?} is outside the text: {error}"
        );
        let line = error.to_string();
        let prefix = format!("{ORIGIN}:{}:{}: ", location.line, location.col);
        assert!(line.starts_with(&prefix), "{line}");
        // One line, and nothing quoted from the text (a key, a name, a value) can break it or
        // rewrite the terminal line: no control characters at all.
        assert!(
            !line.chars().any(char::is_control),
            "a problem line with control characters: {line:?}"
        );
        assert!(line.len() > prefix.len(), "a problem without a message");
        // File order, as `check-config` promises.
        assert!(
            previous <= Some(location),
            "{previous:?} before {location:?}"
        );
        previous = Some(location);
    }
}

fn check_config(config: &Config) {
    assert!(is_valid_name(&config.store), "store {:?}", config.store);
    let mut zones = HashSet::new();
    for zone in &config.zones {
        assert!(is_valid_name(&zone.name), "zone {:?}", zone.name);
        assert!(zones.insert(zone.name.as_str()), "zone {} twice", zone.name);
        assert!(zone.presence.arrive_reads >= 1);
        assert!(!zone.presence.arrive_window.is_zero());
        assert!(!zone.presence.depart_after.is_zero());
    }
    let mut readers = HashSet::new();
    for reader in &config.readers {
        assert!(is_valid_name(&reader.name), "reader {:?}", reader.name);
        assert!(
            readers.insert(reader.name.as_str()),
            "reader {} twice",
            reader.name
        );
        assert!(
            !reader.antennas.is_empty(),
            "reader {} feeds no zone",
            reader.name
        );
        for (antenna, zone) in &reader.antennas {
            assert!(*antenna >= 1);
            assert!(
                zones.contains(zone.as_str()),
                "antenna to undeclared zone {zone}"
            );
        }
    }
    let mut prefixes = HashSet::new();
    for mapping in &config.sku_map {
        let prefix = &mapping.epc_prefix;
        assert!(!prefix.is_empty() && prefix.len() <= 124);
        assert!(prefix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        assert!(prefixes.insert(prefix.as_str()), "sku-map {prefix} twice");
        assert!(!mapping.sku.trim().is_empty());
    }
    assert!(config.control_socket.as_os_str().len() <= MAX_SOCKET_PATH_BYTES);
    assert!(!config.mqtt.client_id.is_empty());
    assert!(!config.mqtt.flush_interval.is_zero());
    assert!(!config.mqtt.snapshot_interval.is_zero());
}

fuzz_target!(|data: &[u8]| {
    // The loader reads the file as UTF-8 text; anything else is refused before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = Config::from_str(text, ORIGIN);
    match &first {
        Ok(config) => check_config(config),
        Err(errors) => check_errors(text, errors),
    }
    // Checking again (the loader keeps hash sets and maps) gives the same config or the same
    // problems in the same order; so does the entry point that takes explicit file checks.
    assert_eq!(
        Config::from_str(text, ORIGIN),
        first,
        "a second check differs"
    );
    assert_eq!(
        Config::from_str_with(text, ORIGIN, &FileChecks::Skip),
        first,
        "from_str_with(Skip) differs from from_str"
    );
});
