//! The emulated store of a scenario: zones, readers (LLRP on TCP, ThingMagic and R2000 on
//! pseudo-terminals), their scenario files (tags over time, faults), the daemon config that
//! matches, and the ground truth those files imply.
//!
//! The ground truth of a tag is where it finally is: the zone of the antenna that reads it
//! strongest once every appearance, move and departure of the scenario has happened. A tag two
//! zones read (antenna bleed) must be clearly stronger in one of them — a plan where the truth would
//! be a coin toss is refused. Tags in the field for less than two inventory rounds (ghosts) are
//! never in the truth.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tagtally_sim::r2000::R2000Module;
use tagtally_sim::scenario::Scenario;
use tagtally_sim::thingmagic::ThingMagicModule;
use tagtally_sim::{LlrpSim, SerialListen, SerialSim, SerialSimOptions};

use crate::gs1::expected_sku;
use crate::Counts;

/// The reader families a store can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Llrp,
    ThingMagic,
    R2000,
}

impl Kind {
    fn config_name(self) -> &'static str {
        match self {
            Kind::Llrp => "llrp",
            Kind::ThingMagic => "thingmagic",
            Kind::R2000 => "r2000",
        }
    }
}

/// One reader of the plan.
#[derive(Debug, Clone)]
pub struct ReaderPlan {
    pub name: String,
    pub kind: Kind,
    /// antenna → zone.
    pub antennas: BTreeMap<u16, String>,
    pub scenario: Scenario,
    /// How long an unplugged serial module stays away (serial kinds).
    pub replug_after: Duration,
    /// antenna → EPCs (hex) of its sentinel tags: configured as such, never in the truth.
    pub sentinels: BTreeMap<u16, Vec<String>>,
    /// A handheld (`role = "handheld"`): its reads count only in a count session, and its scenario
    /// is what a count of its zone finds. Its zone has no fixed reader's truth unless another
    /// reader covers it too.
    pub handheld: bool,
}

impl ReaderPlan {
    pub fn new(name: &str, kind: Kind, antennas: &[(u16, &str)], scenario: Scenario) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            antennas: antennas
                .iter()
                .map(|(a, z)| (*a, (*z).to_owned()))
                .collect(),
            scenario,
            replug_after: Duration::from_secs(1),
            sentinels: BTreeMap::new(),
            handheld: false,
        }
    }

    /// The same reader carried by hand: `role = "handheld"`.
    pub fn handheld(self) -> Self {
        Self {
            handheld: true,
            ..self
        }
    }
}

/// A whole store: its readers, zones and the daemon settings of the scenario.
#[derive(Debug, Clone)]
pub struct StorePlan {
    pub store: String,
    pub readers: Vec<ReaderPlan>,
    /// (hex prefix, sku).
    pub sku_map: Vec<(String, String)>,
    /// The `[presence]` table body.
    pub presence: String,
    /// Extra `[mqtt]` keys (url and store are written by the rig).
    pub mqtt: String,
    /// The smallest RSSI lead that makes a bleed tag's zone unambiguous in the truth.
    pub bleed_margin_db: f64,
}

/// Loads `tests/scenarios/<name>`.
pub fn scenario_file(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Long after every scheduled event of every scenario.
const THE_END: Duration = Duration::from_secs(365 * 24 * 3600);

impl StorePlan {
    /// The zones in first-use order.
    pub fn zones(&self) -> Vec<String> {
        let mut zones: Vec<String> = Vec::new();
        for z in self.readers.iter().flat_map(|r| r.antennas.values()) {
            if !zones.contains(z) {
                zones.push(z.clone());
            }
        }
        zones
    }

    /// The counts once every scheduled event has happened (see the module doc).
    pub fn truth(&self) -> Counts {
        self.truth_where(|_| true)
    }

    /// The truth restricted to the zones `keep` accepts.
    pub fn truth_where(&self, keep: impl Fn(&str) -> bool) -> Counts {
        // epc → [(zone, rssi)] where it is finally read.
        let mut seen: BTreeMap<Vec<u8>, Vec<(String, f64)>> = BTreeMap::new();
        let sentinels: Vec<String> = self
            .readers
            .iter()
            .flat_map(|r| r.sentinels.values().flatten())
            .map(|epc| epc.to_ascii_uppercase())
            .collect();
        for reader in &self.readers {
            for (epc, presence) in reader.scenario.expanded_tags() {
                if presence.read_probability <= 0.0 {
                    continue;
                }
                let hex: String = epc.as_bytes().iter().map(|b| format!("{b:02X}")).collect();
                if sentinels.contains(&hex) {
                    continue;
                }
                let Some((antennas, rssi)) = presence.at(THE_END) else {
                    continue;
                };
                for antenna in antennas {
                    if let Some(zone) = reader.antennas.get(antenna) {
                        seen.entry(epc.as_bytes().to_vec())
                            .or_default()
                            .push((zone.clone(), rssi));
                    }
                }
            }
        }
        let mut truth = Counts::new();
        for (epc, mut places) in seen {
            places.sort_by(|a, b| b.1.total_cmp(&a.1));
            let (zone, strongest) = places[0].clone();
            if let Some((other, rssi)) = places.iter().find(|(z, _)| *z != zone) {
                assert!(
                    strongest - rssi >= self.bleed_margin_db,
                    "plan error: tag {epc:02X?} is as strong in {other} as in {zone}"
                );
            }
            if keep(&zone) {
                *truth
                    .entry((zone, expected_sku(&epc, &self.sku_map)))
                    .or_insert(0) += 1;
            }
        }
        truth
    }
}

/// A running emulator.
#[derive(Debug)]
pub enum Emulator {
    Llrp(LlrpSim),
    Serial(SerialSim),
}

/// The store's emulators, running.
#[derive(Debug)]
pub struct RunningStore {
    pub plan: StorePlan,
    /// Same order as `plan.readers`.
    pub emulators: Vec<Emulator>,
    /// Where the rig keeps pty links, state and logs.
    pub dir: PathBuf,
}

impl RunningStore {
    /// Starts every reader of `plan` (LLRP on a loopback port, serial modules on a pty behind a
    /// stable symlink in `dir`, which survives unplugging).
    pub async fn start(plan: StorePlan, dir: &Path) -> RunningStore {
        let mut emulators = Vec::new();
        for reader in &plan.readers {
            let emulator = match reader.kind {
                Kind::Llrp => Emulator::Llrp(
                    LlrpSim::start("127.0.0.1:0", reader.scenario.clone())
                        .await
                        .expect("start an llrp emulator"),
                ),
                kind => {
                    let listen = SerialListen::Pty {
                        link: Some(dir.join(format!("tty-{}", reader.name))),
                    };
                    let options = SerialSimOptions {
                        replug_after: reader.replug_after,
                    };
                    let s = &reader.scenario;
                    let sim = if kind == Kind::ThingMagic {
                        SerialSim::start(ThingMagicModule::new(s), s, listen, options).await
                    } else {
                        SerialSim::start(R2000Module::new(s), s, listen, options).await
                    };
                    Emulator::Serial(sim.expect("start a serial emulator"))
                }
            };
            emulators.push(emulator);
        }
        RunningStore {
            plan,
            emulators,
            dir: dir.to_owned(),
        }
    }

    /// The emulator of reader `name`.
    pub fn emulator(&self, name: &str) -> &Emulator {
        let i = self
            .plan
            .readers
            .iter()
            .position(|r| r.name == name)
            .unwrap_or_else(|| panic!("no reader {name}"));
        &self.emulators[i]
    }

    /// The LLRP emulator of reader `name`.
    pub fn llrp(&self, name: &str) -> &LlrpSim {
        match self.emulator(name) {
            Emulator::Llrp(sim) => sim,
            Emulator::Serial(_) => panic!("{name} is a serial reader"),
        }
    }

    /// The serial emulator of reader `name`.
    pub fn serial(&self, name: &str) -> &SerialSim {
        match self.emulator(name) {
            Emulator::Serial(sim) => sim,
            Emulator::Llrp(_) => panic!("{name} is an llrp reader"),
        }
    }

    /// The daemon config for this store, publishing to `mqtt_url`, state under the rig's dir.
    /// `readers` picks which readers it has (a store can be restarted without one).
    pub fn config(&self, mqtt_url: &str, readers: &[&str]) -> String {
        let plan = &self.plan;
        let dir = self.dir.display();
        let mut text = format!(
            "store = \"{store}\"\nstate-dir = \"{dir}/state\"\ncontrol-socket = \"{dir}/control.sock\"\n\
             log-level = \"debug\"\n\n[presence]\n{presence}\n",
            store = plan.store,
            presence = plan.presence,
        );
        // Only the zones of the readers it has: a zone left out is retired, and its tags leave.
        for zone in plan.zones() {
            let covered = plan.readers.iter().any(|r| {
                readers.contains(&r.name.as_str()) && r.antennas.values().any(|z| *z == zone)
            });
            if covered {
                text.push_str(&format!("[[zone]]\nname = \"{zone}\"\n\n"));
            }
        }
        for (reader, emulator) in plan.readers.iter().zip(&self.emulators) {
            if !readers.contains(&reader.name.as_str()) {
                continue;
            }
            let antennas: Vec<String> = reader
                .antennas
                .iter()
                .map(|(a, z)| format!("{a} = \"{z}\""))
                .collect();
            let endpoint = match emulator {
                Emulator::Llrp(sim) => format!("address = \"{}\"\nkeepalive = \"1s\"", sim.addr()),
                Emulator::Serial(sim) => format!(
                    "device = \"{}\"",
                    sim.endpoint().device().expect("a pty device").display()
                ),
            };
            text.push_str(&format!(
                "[[reader]]\nname = \"{}\"\nkind = \"{}\"\n{endpoint}\nantennas = {{ {} }}\n",
                reader.name,
                reader.kind.config_name(),
                antennas.join(", ")
            ));
            let sentinels: Vec<String> = reader
                .sentinels
                .iter()
                .map(|(a, epcs)| format!("{a} = [\"{}\"]", epcs.join("\", \"")))
                .collect();
            if !sentinels.is_empty() {
                text.push_str(&format!("sentinels = {{ {} }}\n", sentinels.join(", ")));
            }
            if reader.handheld {
                text.push_str("role = \"handheld\"\n");
            }
            text.push('\n');
        }
        for (prefix, sku) in &plan.sku_map {
            text.push_str(&format!(
                "[[sku-map]]\nepc-prefix = \"{prefix}\"\nsku = \"{sku}\"\n\n"
            ));
        }
        text.push_str(&format!("[mqtt]\nurl = \"{mqtt_url}\"\n{}\n", plan.mqtt));
        text
    }

    /// Every reader's name.
    pub fn reader_names(&self) -> Vec<&str> {
        self.plan.readers.iter().map(|r| r.name.as_str()).collect()
    }
}
