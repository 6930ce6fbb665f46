//! Reader emulators: a scenario file drives emulated tags and faults; `llrp` serves them as an LLRP reader over TCP.

pub mod llrp;
pub mod rng;
pub mod scenario;
pub mod tag_field;

pub use llrp::{LlrpSim, SimStats};
pub use scenario::{Fault, FaultSpec, Scenario, ScenarioError, TagSpec};
pub use tag_field::{SimRead, TagField};
