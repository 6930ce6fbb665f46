//! What the store-operation commands (`count`, `sale`, `stock --departures`) share: one request to
//! the daemon, and a refusal turned into exit 65 with the daemon's reason.

use super::daemon::fail;
use std::process::ExitCode;
use tagtally::control::protocol::{Reply, Request};
use tagtally::control::ControlClient;
use tagtally::exit;

/// Sends `request`; the reply, or the exit code after saying why there is none (a refusal: 65).
pub fn operate(client: &mut ControlClient, request: &Request) -> Result<Reply, ExitCode> {
    match client.operate(request) {
        Ok(Reply::Refused(reason)) => {
            eprintln!("tagtally: {}", tagtally_protocol::text::Escaped(&reason));
            Err(exit::code(exit::DATA_ERR))
        }
        Ok(reply) => Ok(reply),
        Err(error) => Err(fail(&error)),
    }
}

/// The daemon answered with something else than the command's reply.
pub fn unexpected(reply: &Reply) -> ExitCode {
    eprintln!("tagtally: unexpected reply from the daemon: {reply:?}");
    exit::code(exit::IO_ERR)
}
