//! rustls client configuration for `mqtts://`, one source for the daemon's uplink, `tagtally hq`
//! and the tools that connect to a broker (see [`client_config`]).

mod client;
mod files;
#[cfg(feature = "test-pki")]
pub mod test_pki;

pub use client::{client_config, TlsError};
pub use files::TlsFiles;
