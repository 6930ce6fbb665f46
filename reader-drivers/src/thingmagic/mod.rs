//! ThingMagic (Mercury M6e, M6e Nano, M7e) driver: settings, setup sequence and the sans-IO session.

mod session;
#[cfg(test)]
mod session_tests;
mod settings;
mod setup;

pub use session::ThingMagicSession;
pub use settings::ThingMagicSettings;
pub use setup::{module_region, setup_steps, SetupStep};
