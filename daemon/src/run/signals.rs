//! Process signals: SIGTERM and SIGINT stop the daemon gracefully; SIGHUP reloads the config;
//! SIGXFSZ only logs.
//!
//! SIGHUP conventionally means "reopen logs, reload config" (`systemctl reload` sends it, see the
//! unit's `ExecReload=`). Logs go to stderr (the journal), which has nothing to reopen; the config
//! is read again and applied where that can be done in place (`reload.rs`). Where nobody takes
//! reload requests (the daemon inside `demo`), SIGHUP is acknowledged in the log and otherwise
//! ignored, rather than killing the process, which is its default action.
//!
//! SIGXFSZ comes with a write that would take a file past the file-size limit (`ulimit -f`, systemd
//! `LimitFSIZE=`). Its default action kills the process with a core dump; handled, the write fails with
//! `EFBIG` instead, which the store treats like a full disk (counts held, retried; see `engine_task.rs`).

use std::io;

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Installed signal handlers; install them before READY so no signal is lost to the default action.
#[derive(Debug)]
pub struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
    xfsz: Signal,
}

impl Signals {
    /// Installs the handlers.
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            xfsz: signal(SignalKind::from_raw(rustix::process::Signal::XFSZ.as_raw()))?,
        })
    }

    /// Resolves at the first SIGTERM or SIGINT. In between, each SIGHUP asks `reload` for a
    /// reload (requests that come while one is waiting are one), and SIGXFSZ is logged.
    pub async fn stop_requested(mut self, reload: Option<mpsc::Sender<()>>) {
        let mut file_size_limit_logged = false;
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
                _ = self.hup.recv() => match &reload {
                    Some(reload) => {
                        info!("SIGHUP: reloading the config");
                        // Full: a reload is already waiting and will read the file as it is now.
                        let _ = reload.try_send(());
                    }
                    None => warn!("SIGHUP: config reload is not supported here; restart to apply a new config"),
                },
                _ = self.xfsz.recv() => {
                    // Once per run: every write past the limit raises it again, and the store's own
                    // error (EFBIG, "File too large") says what is held and retried.
                    if !file_size_limit_logged {
                        warn!("SIGXFSZ: a write went past the file-size limit (ulimit -f, LimitFSIZE=); it fails with EFBIG instead of killing the daemon");
                        file_size_limit_logged = true;
                    }
                }
            }
        }
    }
}
