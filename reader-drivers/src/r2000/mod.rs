//! Impinj R2000 "0xA0" module driver: settings, setup sequence and the sans-IO inventory session.

mod session;
#[cfg(test)]
mod session_tests;
mod settings;
mod setup;

pub use session::R2000Session;
pub use settings::{preset_band, Band, R2000Settings, MAX_OUTPUT_POWER_DBM};
pub use setup::{round_command, setup_steps, SetupStep};
