//! Cross-field rules: names unique, antennas mapped to declared zones, keys that fit the reader's
//! kind and the url's scheme, and defaults filled in. Works on the parsed sections only; the
//! file system is [`crate::file_checks`]' business.

use crate::config::{
    Config, KeyLocations, DEFAULT_CONTROL_SOCKET, DEFAULT_STATE_DIR, MAX_SOCKET_PATH_BYTES,
};
use crate::epcis::{EpcisSpec, StoreGln};
use crate::error::{ConfigProblem, ErrorSink};
use crate::paths::{base_dir, resolve, FileRef, FileRole};
use crate::presence::Presence;
use crate::replenish::Replenish;
use crate::sections::Sections;
use crate::sku_map::{check_sku, normalize_epc_prefix, SkuMapping};
use crate::state_cache::DEFAULT_STATE_CACHE_BYTES;
use crate::zone::Zone;
use crate::zone_role::ZoneRole;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Builds the [`Config`] from `sections`, reporting every cross-field problem into `sink`, and
/// lists the files the config names. The config is `None` when any part is missing or invalid.
pub(crate) fn build(
    sections: Sections,
    origin: &Path,
    sink: &mut ErrorSink,
) -> (Option<Config>, Vec<FileRef>) {
    let mut files = Vec::new();
    if sections.syntax_broken {
        return (None, files);
    }
    let base = base_dir(origin);

    let store = sections
        .store
        .as_ref()
        .map(|store| store.get_ref().0.clone());
    if store.is_none() && !sections.written.contains("store") {
        sink.at(0..0, ConfigProblem::MissingKey { key: "store" });
    }

    let presence = sections
        .presence
        .as_ref()
        .map_or_else(Presence::default, |spec| spec.apply_to(Presence::default()));

    let mut first_zone = FirstSeen::new("zone");
    let mut zones: Vec<Zone> = Vec::with_capacity(sections.zones.len());
    for zone in &sections.zones {
        if first_zone.is_new(&zone.name.get_ref().0, zone.name.span(), sink) {
            zones.push(zone.resolve(presence));
        }
    }
    let mut zone_names: HashSet<String> = zones.iter().map(|zone| zone.name.clone()).collect();
    zone_names.extend(sections.names_of_invalid_zones.iter().cloned());

    let mut first_reader = FirstSeen::new("reader");
    let mut readers = Vec::with_capacity(sections.readers.len());
    for reader in &sections.readers {
        let unique = first_reader.is_new(&reader.name.get_ref().0, reader.name.span(), sink);
        // A duplicate's own keys are still checked: the technician fixes both in one go.
        if let Some(built) = reader.build(&zone_names, sink) {
            if unique {
                readers.push(built);
            }
        }
    }

    check_count(
        "zones",
        zones.len(),
        MAX_ZONES,
        &sections.zones,
        |zone| zone.name.span(),
        sink,
    );
    check_count(
        "readers",
        readers.len(),
        MAX_READERS,
        &sections.readers,
        |reader| reader.name.span(),
        sink,
    );

    let sku_map = build_sku_map(&sections, sink);
    let epcis = sections.epcis.as_ref().map(EpcisSpec::build);
    if let Some(gln) = epcis.as_ref().and_then(|e| e.gln.as_ref()) {
        check_zones_fit_sgln(gln, &sections, sink);
    }
    let mut first_sentinel = FirstSeen::new("sentinel epc");
    for written in sections.readers.iter().filter_map(|r| r.sentinels.as_ref()) {
        // Sentinels are never stock, wherever they are read: one tag vouches for one antenna.
        for epc in written.get_ref().values().flatten() {
            first_sentinel.is_new(&epc.get_ref().to_ascii_uppercase(), epc.span(), sink);
        }
    }
    let zone_trust = sections
        .zone_trust
        .clone()
        .unwrap_or_default()
        .build(&zones, sink);

    let replenish = sections
        .replenish
        .as_ref()
        .map_or_else(Replenish::default, |spec| spec.build(&base));
    if sections.replenish.is_some() {
        for role in [ZoneRole::SalesFloor, ZoneRole::Stockroom] {
            if !zones.iter().any(|zone| zone.role == role) {
                sink.at(
                    sections.replenish_span.clone(),
                    ConfigProblem::ReplenishWithoutZone {
                        role: role.as_str(),
                    },
                );
            }
        }
    }

    let mqtt = match &sections.mqtt {
        Some(spec) => spec.build(store.as_deref(), &base, &mut files, sink),
        None => {
            if !sections.written.contains("mqtt") {
                sink.at(0..0, ConfigProblem::MissingSection { section: "mqtt" });
            }
            None
        }
    };

    let state_dir = resolve_or_default(&base, sections.state_dir.as_ref(), DEFAULT_STATE_DIR);
    let control_socket = resolve_or_default(
        &base,
        sections.control_socket.as_ref(),
        DEFAULT_CONTROL_SOCKET,
    );
    files.push(FileRef {
        key: "control-socket",
        path: control_socket.clone(),
        span: sections
            .control_socket
            .as_ref()
            .map_or(0..0, toml::Spanned::span),
        role: FileRole::Socket,
    });
    let socket_len = control_socket.as_os_str().len();
    if socket_len > MAX_SOCKET_PATH_BYTES {
        let span = sections
            .control_socket
            .as_ref()
            .map_or(0..0, toml::Spanned::span);
        sink.at(
            span,
            ConfigProblem::SocketPathTooLong {
                path: control_socket.clone(),
                len: socket_len,
                max: MAX_SOCKET_PATH_BYTES,
            },
        );
    }

    let config = (|| {
        Some(Config {
            store: store?,
            state_dir,
            control_socket,
            log_level: sections.log_level.unwrap_or_default(),
            log_format: sections.log_format.unwrap_or_default(),
            state_cache_bytes: sections
                .state_cache_bytes
                .map_or(DEFAULT_STATE_CACHE_BYTES, |b| b.0),
            metrics_listen: sections.metrics_listen.map(|m| m.0),
            max_candidates: sections.max_candidates.map(|n| n.0),
            count_max_duration: sections
                .count_max_duration
                .map_or(crate::config::DEFAULT_COUNT_MAX_DURATION, |d| d.0),
            presence,
            zones,
            readers,
            sku_map,
            zone_trust: zone_trust?,
            replenish,
            mqtt: mqtt?,
            epcis,
            locations: KeyLocations(sections.locations),
        })
    })();
    (config, files)
}

/// Most zones: the engine numbers zones with a `u16` and keeps one value for "no zone".
pub const MAX_ZONES: usize = u16::MAX as usize - 1;
/// Most readers: the daemon numbers readers with a `u16`.
pub const MAX_READERS: usize = u16::MAX as usize;

/// Refuses more than `max` tables, at the first one past the bound.
fn check_count<T>(
    what: &'static str,
    count: usize,
    max: usize,
    tables: &[T],
    span: impl Fn(&T) -> Range<usize>,
    sink: &mut ErrorSink,
) {
    if count > max {
        let at = tables.get(max).map_or(0..0, span);
        sink.at(at, ConfigProblem::TooMany { what, count, max });
    }
}

/// With `sgln`, each zone is an SGLN extension: its name must be one.
fn check_zones_fit_sgln(gln: &StoreGln, sections: &Sections, sink: &mut ErrorSink) {
    for zone in &sections.zones {
        let name = &zone.name.get_ref().0;
        if let Err(reason) = gln.sgln(name) {
            sink.at(
                zone.name.span(),
                ConfigProblem::ZoneNotSgln {
                    zone: name.clone(),
                    reason: format!("{gln}: {reason}"),
                },
            );
        }
    }
}

fn build_sku_map(sections: &Sections, sink: &mut ErrorSink) -> Vec<SkuMapping> {
    let mut first_prefix = FirstSeen::new("sku-map epc-prefix");
    let mut mappings = Vec::with_capacity(sections.sku_map.len());
    for entry in &sections.sku_map {
        let prefix = normalize_epc_prefix(entry.epc_prefix.get_ref())
            .map_err(|problem| sink.at(entry.epc_prefix.span(), problem))
            .ok();
        let sku_ok = check_sku(entry.sku.get_ref())
            .map_err(|problem| sink.at(entry.sku.span(), problem))
            .is_ok();
        if let Some(prefix) = prefix {
            if first_prefix.is_new(&prefix, entry.epc_prefix.span(), sink) && sku_ok {
                mappings.push(SkuMapping {
                    epc_prefix: prefix,
                    sku: entry.sku.get_ref().clone(),
                });
            }
        }
    }
    mappings
}

fn resolve_or_default(
    base: &Path,
    path: Option<&toml::Spanned<PathBuf>>,
    default: &str,
) -> PathBuf {
    path.map_or_else(
        || PathBuf::from(default),
        |path| resolve(base, path.get_ref()),
    )
}

/// Remembers where each name was first declared and reports later repeats.
struct FirstSeen {
    what: &'static str,
    first: HashMap<String, usize>,
}

impl FirstSeen {
    fn new(what: &'static str) -> Self {
        FirstSeen {
            what,
            first: HashMap::new(),
        }
    }

    /// `true` for the first declaration of `name`; a repeat is reported at `span`.
    fn is_new(&mut self, name: &str, span: Range<usize>, sink: &mut ErrorSink) -> bool {
        match self.first.get(name) {
            Some(&first_offset) => {
                sink.at(
                    span,
                    ConfigProblem::Duplicate {
                        what: self.what,
                        name: name.to_owned(),
                        first_line: sink.line_of(first_offset),
                    },
                );
                false
            }
            None => {
                self.first.insert(name.to_owned(), span.start);
                true
            }
        }
    }
}
