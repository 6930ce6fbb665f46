//! The one config plan: everything `tagtally run` needs to know before it starts, checked in one
//! place and turned into the typed settings each part consumes.
//!
//! [`DaemonPlan::load`] is what `tagtally check-config`, `tagtally run` and the daemon inside
//! `tagtally demo` (and a reload, `SIGHUP`) call. It runs the config loader
//! ([`tagtally_config::Config::load`]: schema, cross-field rules, what each reader's module can
//! do, the file system, the password read once), then what needs the daemon's own libraries
//! (the TLS client configuration from the certificate and key files), and reports every refusal
//! as `FILE:LINE:COL: message`. What it returns cannot be refused downstream:
//!
//! * `engine` — zones, antennas by reader index, SKU prefixes, checked
//!   ([`crate::engine::CheckedEngineConfig`]), so [`crate::engine::Engine::new`] cannot fail;
//! * `readers` — each reader's driver settings (`reader-drivers` takes them as they are);
//! * `uplink` — broker, identity, credentials, TLS, for [`crate::uplink::spawn`];
//! * `store` — what [`crate::store::Store::open`] needs;
//! * `replenish` — the minimums on the sales floor, `[replenish] min-file` read and checked.
//!
//! **Invariant:** a config that loads is valid as a whole; nothing downstream re-validates it.
//! The only refusals left to `run` are about the machine at that moment (the state directory or
//! database, the control socket in use), never about what the config says.

mod engine;
mod presence;
mod readers;
mod reload;
mod replenish;
mod uplink;

use std::path::Path;

use tagtally_config::{Config, ConfigError, ConfigErrors, ConfigProblem, FileChecks};

use crate::engine::CheckedEngineConfig;
use crate::epcis::location::Locations;
use crate::store::{HistoryBounds, StoreOptions};
use crate::uplink::UplinkSettings;

pub use engine::engine_config;
pub use presence::presence_params;
pub use readers::{planned_readers, DriverSettings, PlannedReader};
pub use reload::restart_only_changes;
pub use replenish::{replenish_plan, ReplenishPlan, MAX_MIN_FILE_BYTES};

/// A checked config and the settings made from it (see the module doc).
#[derive(Debug, Clone)]
pub struct DaemonPlan {
    /// The config as loaded.
    pub config: Config,
    /// The engine's view of the store layout, checked.
    pub engine: CheckedEngineConfig,
    /// Every reader, in config order.
    pub readers: Vec<PlannedReader>,
    /// The uplink's settings.
    pub uplink: UplinkSettings,
    /// The state store's options.
    pub store: StoreOptions,
    /// Replenishment minimums (SPEC §10).
    pub replenish: ReplenishPlan,
}

impl DaemonPlan {
    /// Loads and checks the config at `path` the way the daemon runs it.
    pub fn load(path: &Path) -> Result<DaemonPlan, ConfigErrors> {
        DaemonPlan::load_with(path, &FileChecks::Real)
    }

    /// [`DaemonPlan::load`], with the named files looked up as `checks` says. Only
    /// [`FileChecks::Real`] sets TLS up (the files of another machine's image are checked, not
    /// loaded); [`FileChecks::Skip`] reads no file at all, so there is no password either.
    pub fn load_with(path: &Path, checks: &FileChecks) -> Result<DaemonPlan, ConfigErrors> {
        let config = Config::load_with(path, checks)?;
        let tls = match checks {
            FileChecks::Real => {
                uplink::tls_setup(&config, path).map_err(|error| ConfigErrors(vec![error]))?
            }
            FileChecks::Skip | FileChecks::UnderRoot(_) => None,
        };
        let replenish = replenish_plan(&config, path, matches!(checks, FileChecks::Real))
            .map_err(|error| ConfigErrors(vec![error]))?;
        let engine = engine_config(&config).check().map_err(|refusal| {
            ConfigErrors(vec![ConfigError {
                file: path.to_path_buf(),
                location: None,
                problem: ConfigProblem::EngineLayout {
                    reason: refusal.to_string(),
                },
            }])
        })?;
        Ok(DaemonPlan {
            engine,
            readers: planned_readers(&config),
            uplink: uplink::uplink_settings(&config, tls),
            store: StoreOptions {
                store: config.store.clone(),
                max_outbox_bytes: config.mqtt.outbox_max_bytes,
                // Refined once the uplink knows its topics and protocol (see `run/mod.rs`).
                max_delta_payload: usize::try_from(config.mqtt.max_message_bytes)
                    .unwrap_or(usize::MAX),
                history: HistoryBounds {
                    max_bytes: config.mqtt.history_max_bytes,
                    max_age: config.mqtt.history_max_age,
                },
                keep_events: config.epcis.is_some(),
                publish_events: config
                    .epcis
                    .as_ref()
                    .filter(|e| e.publish)
                    .map(|e| Locations::of(&config.store, e.gln.as_ref())),
            },
            replenish,
            config,
        })
    }
}
