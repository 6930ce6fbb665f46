//! Process signals: SIGTERM and SIGINT stop the daemon gracefully; SIGHUP only logs.
//!
//! SIGHUP conventionally means "reopen logs, reload config". Logs go to stderr (the journal), which
//! has nothing to reopen, and reloading the config is not supported yet: a changed config takes
//! effect with `systemctl restart tagtally`. So SIGHUP is acknowledged in the log and otherwise ignored
//! (rather than killing the daemon, which is its default action).

use std::io;

use tokio::signal::unix::{signal, Signal, SignalKind};
use tracing::{info, warn};

/// Installed signal handlers; install them before READY so no signal is lost to the default action.
#[derive(Debug)]
pub struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    /// Installs the handlers.
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Resolves at the first SIGTERM or SIGINT, logging any SIGHUP in between.
    pub async fn stop_requested(mut self) {
        loop {
            tokio::select! {
                _ = self.term.recv() => {
                    info!("SIGTERM: stopping");
                    return;
                }
                _ = self.int.recv() => {
                    info!("SIGINT: stopping");
                    return;
                }
                _ = self.hup.recv() => {
                    warn!("SIGHUP: logs go to stderr, nothing to reopen; config reload is not supported, restart the service to apply a new config");
                }
            }
        }
    }
}
