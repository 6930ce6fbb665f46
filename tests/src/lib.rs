//! The acceptance rig of tagtally (issue 7): emulated stores with a known ground truth, an MQTT broker
//! that can go down, the real `tagtally` binary as a child process, and an HQ recorder that keeps
//! every message and replays it independently of the daemon's own code.
//!
//! The scenarios live in `tests/` (one file per scenario, so they run one after another and never
//! compete for the machine's two cores). Each asserts the promise of SPEC §3 and §7: `stock` equals
//! the ground truth exactly, the retained snapshot plus later deltas replay to the same counts, no seq
//! gap, any redelivered seq byte-identical, the epoch never changes.
//!
//! | module | what |
//! |---|---|
//! | `binary` | the `tagtally` executable under test (built on first use) |
//! | `wait` | bounded polling of conditions |
//! | `broker` | an embedded rumqttd and a gate to take it "down" |
//! | `mosquitto` | Debian's mosquitto (skipped loudly when missing, required in CI), bridges |
//! | `recorder` | the HQ subscriber recording every message |
//! | `replay` | checks a recording: chain, dedup, replay to counts |
//! | `schemas` | every recorded payload against the published JSON Schemas |
//! | `daemon` | `tagtally run` as a child, its CLI, SIGKILL/SIGTERM |
//! | `store` | the emulated store: readers, zones, tags over time, the ground truth |
//! | `stores` | ready-made stores (shelves and a door that never rests) |
//! | `verdict` | stock = truth, HQ replay = stock |
//! | `gs1` | SGTIN-96 EPCs and their GTIN-14, computed independently of the daemon |

pub mod binary;
pub mod broker;
pub mod daemon;
pub mod gs1;
pub mod mosquitto;
pub mod recorder;
pub mod replay;
pub mod schemas;
pub mod store;
pub mod stores;
pub mod verdict;
pub mod wait;

/// A free loopback address (a port bound and released at once), for a server started later.
pub fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("pick a free port")
}

/// (zone, sku) → count: the shape of every stock comparison.
pub type Counts = std::collections::BTreeMap<(String, String), u64>;

/// A fresh directory for one scenario (state, socket, pty links, the daemon's log), removed at the
/// end; creating it also makes sure the binary under test is built. With `TAGTALLY_KEEP_SCENARIO=1` it is kept and its path printed, for post-mortems.
#[derive(Debug)]
pub struct ScenarioDir {
    path: std::path::PathBuf,
    _removed_on_drop: Option<tempfile::TempDir>,
}

impl ScenarioDir {
    pub fn new(name: &str) -> ScenarioDir {
        // Build (or find) the binary first: scenario clocks start with the emulators, and must not
        // run while cargo compiles.
        binary::tagtally();
        let dir = tempfile::Builder::new()
            .prefix(&format!("tagtally-{name}-"))
            .tempdir()
            .expect("create a scenario dir");
        if std::env::var_os("TAGTALLY_KEEP_SCENARIO").is_some() {
            eprintln!("scenario dir (kept): {}", dir.path().display());
            return ScenarioDir {
                path: dir.keep(),
                _removed_on_drop: None,
            };
        }
        ScenarioDir {
            path: dir.path().to_owned(),
            _removed_on_drop: Some(dir),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}
