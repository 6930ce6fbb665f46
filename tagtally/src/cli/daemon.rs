//! Reaching the running daemon for `status`, `readers`, `stock` and `tail`: which socket,
//! which exit code when it fails, and how output errors end the command.

use super::ControlArgs;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use tagtally::control::{ClientError, ControlClient};
use tagtally::exit;
use tagtally_config::{Config, FileChecks};

/// Connects to the daemon named by `args`, or says why not and gives the exit code.
pub fn connect(args: &ControlArgs) -> Result<ControlClient, ExitCode> {
    let socket = socket_path(args)?;
    ControlClient::connect(&socket).map_err(|error| fail(&error))
}

/// `--socket`, else the config's `control-socket`. Only the schema is checked: reading the
/// socket path must not need the MQTT secrets that only the daemon's user can read.
fn socket_path(args: &ControlArgs) -> Result<PathBuf, ExitCode> {
    if let Some(socket) = &args.socket {
        return Ok(socket.clone());
    }
    match Config::load_with(&args.config, &FileChecks::Skip) {
        Ok(config) => Ok(config.control_socket),
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            Err(exit::code(exit::CONFIG))
        }
    }
}

/// Prints `error` and gives its exit code: 69 when the daemon is not there or will not
/// answer (a daemon that refuses a client closes it, and the client may see that as a reset or a
/// broken pipe before it reads the refusal), 74 when the conversation itself broke.
pub fn fail(error: &ClientError) -> ExitCode {
    eprintln!("tagtally: {error}");
    let code = match error {
        ClientError::Unavailable { .. }
        | ClientError::Closed { .. }
        | ClientError::Refused { .. } => exit::UNAVAILABLE,
        ClientError::Io { source, .. }
            if matches!(
                source.kind(),
                io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            ) =>
        {
            exit::UNAVAILABLE
        }
        ClientError::Io { .. } | ClientError::BadReply { .. } => exit::IO_ERR,
    };
    exit::code(code)
}

/// Writes `text` to stdout. A closed pipe (`tagtally tail | head`) ends the command quietly
/// with success; any other write error is an I/O error.
pub fn print(text: &str) -> Result<(), ExitCode> {
    use std::io::Write;
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Err(exit::code(exit::OK)),
        Err(error) => {
            eprintln!("tagtally: cannot write to stdout: {error}");
            Err(exit::code(exit::IO_ERR))
        }
    }
}

/// `value` as one JSON document line.
pub fn json_line<T: serde::Serialize>(value: &T) -> String {
    let mut line = serde_json::to_string(value)
        .unwrap_or_else(|error| format!("{{\"error\":\"cannot encode: {error}\"}}"));
    line.push('\n');
    line
}
