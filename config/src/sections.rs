//! Splits a TOML document into its top-level sections and deserializes each one on its own, so
//! one bad `[[reader]]` does not hide the problems of the next one or of `[mqtt]`.
//!
//! serde stops at the first error of a value, so within one table only its first problem is
//! reported; across tables, all are.

use crate::duration::Interval;
use crate::epcis::EpcisSpec;
use crate::error::{ConfigProblem, ErrorSink};
use crate::limits::MaxCandidates;
use crate::log_format::LogFormat;
use crate::log_level::LogLevel;
use crate::metrics_listen::MetricsListen;
use crate::mqtt::MqttSpec;
use crate::name::Name;
use crate::presence::PresenceSpec;
use crate::reader::ReaderSpec;
use crate::replenish::ReplenishSpec;
use crate::sku_map::SkuMapSpec;
use crate::span::Location;
use crate::state_cache::StateCacheBytes;
use crate::zone::ZoneSpec;
use crate::zone_trust::ZoneTrustSpec;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

const TOP_LEVEL_KEYS: &str = "`store`, `state-dir`, `state-cache-bytes`, `control-socket`, `log-level`, `log-format`, `metrics-listen`, `max-candidates`, `count-max-duration`, [presence], [[zone]], [[reader]], [[sku-map]], [zone-trust], [replenish], [mqtt], [epcis]";

/// The document's sections as written; `None` or missing entries are absent or invalid ones
/// (invalid ones have been reported).
#[derive(Debug, Default)]
pub(crate) struct Sections {
    pub store: Option<Spanned<Name>>,
    pub state_dir: Option<Spanned<PathBuf>>,
    pub control_socket: Option<Spanned<PathBuf>>,
    pub log_level: Option<LogLevel>,
    pub log_format: Option<LogFormat>,
    pub state_cache_bytes: Option<StateCacheBytes>,
    pub metrics_listen: Option<MetricsListen>,
    pub max_candidates: Option<MaxCandidates>,
    pub count_max_duration: Option<Interval>,
    pub presence: Option<PresenceSpec>,
    pub zones: Vec<ZoneSpec>,
    pub readers: Vec<ReaderSpec>,
    pub sku_map: Vec<SkuMapSpec>,
    pub mqtt: Option<MqttSpec>,
    pub epcis: Option<EpcisSpec>,
    pub zone_trust: Option<ZoneTrustSpec>,
    pub replenish: Option<ReplenishSpec>,
    /// Where `[replenish]` is written, for problems with the section as a whole.
    pub replenish_span: std::ops::Range<usize>,
    /// Top-level keys written, valid or not, so an invalid key is not also reported missing.
    pub written: HashSet<String>,
    /// Names of `[[zone]]` tables that failed to deserialize: antennas naming them are not
    /// reported as naming an undeclared zone on top of the zone's own problem.
    pub names_of_invalid_zones: HashSet<String>,
    /// Whether the TOML syntax itself was broken (nothing else is checked then).
    pub syntax_broken: bool,
    /// Where the values of top-level and `[mqtt]` keys are written.
    pub locations: BTreeMap<String, Location>,
}

/// Parses `text` and deserializes each section, reporting every problem found into `sink`.
pub(crate) fn read_sections(text: &str, sink: &mut ErrorSink) -> Sections {
    let mut sections = Sections::default();
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        // Later checks on a half-parsed document would mostly report echoes of the syntax error.
        for error in &syntax_errors {
            sink.toml(error, 0..0);
        }
        sections.syntax_broken = true;
        return sections;
    }
    for (key, value) in root.into_inner() {
        let name = key.get_ref().as_ref().to_owned();
        let at = sink.location_of(value.span().start);
        sections.locations.insert(name.clone(), at);
        if let (Some(table), "mqtt") = (value.get_ref().as_table(), name.as_str()) {
            for (mqtt_key, mqtt_value) in table.iter() {
                let at = sink.location_of(mqtt_value.span().start);
                let mqtt_key = format!("mqtt.{}", mqtt_key.get_ref().as_ref());
                sections.locations.insert(mqtt_key, at);
            }
        }
        match name.as_str() {
            "store" => sections.store = deserialize(value, sink),
            "state-dir" => sections.state_dir = deserialize(value, sink),
            "control-socket" => sections.control_socket = deserialize(value, sink),
            "log-level" => sections.log_level = deserialize(value, sink),
            "log-format" => sections.log_format = deserialize(value, sink),
            "state-cache-bytes" => sections.state_cache_bytes = deserialize(value, sink),
            "metrics-listen" => sections.metrics_listen = deserialize(value, sink),
            "max-candidates" => sections.max_candidates = deserialize(value, sink),
            "count-max-duration" => sections.count_max_duration = deserialize(value, sink),
            "presence" => sections.presence = table(&name, &key, value, sink),
            "mqtt" => sections.mqtt = table(&name, &key, value, sink),
            "epcis" => sections.epcis = table(&name, &key, value, sink),
            "zone-trust" => sections.zone_trust = table(&name, &key, value, sink),
            "replenish" => {
                sections.replenish_span = key.span();
                sections.replenish = table(&name, &key, value, sink);
            }
            "zone" => {
                let (zones, names_of_invalid) = tables(&name, &key, value, sink);
                sections.zones = zones;
                sections.names_of_invalid_zones.extend(names_of_invalid);
            }
            "reader" => sections.readers = tables(&name, &key, value, sink).0,
            "sku-map" => sections.sku_map = tables(&name, &key, value, sink).0,
            _ => sink.at(
                key.span(),
                ConfigProblem::UnknownKey {
                    key: name.clone(),
                    expected: TOP_LEVEL_KEYS,
                },
            ),
        }
        sections.written.insert(name);
    }
    sections
}

fn deserialize<T: DeserializeOwned>(
    value: Spanned<DeValue<'_>>,
    sink: &mut ErrorSink,
) -> Option<T> {
    let span = value.span();
    T::deserialize(ValueDeserializer::from(value))
        .map_err(|error| sink.toml(&error, span))
        .ok()
}

/// A `[name]` section; anything but a table gets a message naming the section, not a serde type.
fn table<T: DeserializeOwned>(
    name: &str,
    key: &Spanned<toml::de::DeString<'_>>,
    value: Spanned<DeValue<'_>>,
    sink: &mut ErrorSink,
) -> Option<T> {
    if !value.get_ref().is_table() {
        sink.at(
            key.span(),
            ConfigProblem::NotATable {
                key: name.to_owned(),
            },
        );
        return None;
    }
    deserialize(value, sink)
}

/// A `[[name]]` array of tables, and the `name` keys of the tables that failed to deserialize.
fn tables<T: DeserializeOwned>(
    name: &str,
    key: &Spanned<toml::de::DeString<'_>>,
    value: Spanned<DeValue<'_>>,
    sink: &mut ErrorSink,
) -> (Vec<T>, Vec<String>) {
    let not_tables = || ConfigProblem::NotArrayOfTables {
        key: name.to_owned(),
    };
    let items = match value.into_inner() {
        DeValue::Array(items) => items,
        // `[zone]` for `[[zone]]`: its name still counts as declared, so antennas naming it
        // are not reported on top of this.
        other => {
            sink.at(key.span(), not_tables());
            return (Vec::new(), name_key(&other).into_iter().collect());
        }
    };
    let mut parsed = Vec::with_capacity(items.len());
    let mut names_of_invalid = Vec::new();
    for item in items {
        if !item.get_ref().is_table() {
            sink.at(item.span(), not_tables());
            continue;
        }
        let span = item.span();
        let item_name = name_key(item.get_ref());
        match T::deserialize(ValueDeserializer::from(item)) {
            Ok(value) => parsed.push(value),
            Err(error) => {
                sink.toml(&error, span);
                names_of_invalid.extend(item_name);
            }
        }
    }
    (parsed, names_of_invalid)
}

/// The `name` key of a table, if it is a string.
fn name_key(table: &DeValue<'_>) -> Option<String> {
    table
        .get("name")
        .and_then(|name| name.get_ref().as_str())
        .map(str::to_owned)
}
