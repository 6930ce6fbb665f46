//! The LLRP client driver: settings from the config, a sans-IO session, the tokio task that runs it, and a read-only probe.

pub mod error;
pub mod model_name;
pub mod plan;
pub mod probe;
pub mod session;
pub mod settings;
pub mod task;
pub mod timestamps;

pub use error::LinkError;
pub use session::{Action, LlrpSession};
pub use settings::{LlrpSettings, StartTrigger, DEFAULT_PORT, OUR_ROSPEC_ID};
pub use task::{LlrpDriver, TcpConnector};
