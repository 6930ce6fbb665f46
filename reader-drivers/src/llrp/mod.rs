//! The LLRP client: settings from the config, the sans-IO session (run by `crate::driver`), and a read-only probe.

pub mod error;
pub mod model_name;
pub mod plan;
pub mod probe;
pub mod session;
pub mod settings;
pub mod timestamps;

pub use error::LinkError;
pub use session::LlrpSession;
pub use settings::{LlrpSettings, StartTrigger, DEFAULT_PORT, OUR_ROSPEC_ID};
