//! Reader emulators: a scenario file drives emulated tags and faults; `llrp` serves them as an LLRP reader over TCP, `thingmagic` and `r2000` as serial modules on a pseudo-terminal or a TCP port.

pub mod fault_schedule;
pub mod ghosts;
pub mod llrp;
pub mod pty;
pub mod r2000;
pub mod rng;
pub mod scenario;
pub mod serial_module;
pub mod serial_server;
pub mod tag_field;
pub mod thingmagic;

pub use llrp::{LlrpSim, SimStats};
pub use scenario::{Fault, FaultSpec, Scenario, ScenarioError, TagSpec};
pub use serial_module::{EmittedFrame, EmulatedModule};
pub use serial_server::{SerialListen, SerialSim, SerialSimOptions, SerialSimStats, SimEndpoint};
pub use tag_field::{SimRead, TagField};
