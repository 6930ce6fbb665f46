//! `tagtally epcis --since T [--until T]`: the committed stock changes of a time range as one GS1
//! EPCIS 2.0 EPCISDocument (JSON-LD, SPEC §12), from the running daemon's event history.
//!
//! `T` is an RFC 3339 instant (`2026-12-03T20:00:00Z`) or a duration ago (`90m`, `2h`, `7d`).

use super::daemon::{connect, fail, print};
use super::EpcisArgs;
use std::process::ExitCode;
use std::time::SystemTime;
use tagtally::control::{EpcisRange, Timestamp};
use tagtally::exit;

/// Runs `epcis`.
pub fn run(args: &EpcisArgs) -> ExitCode {
    let range = EpcisRange {
        since: Timestamp(args.since.0),
        until: args.until.map(|t| Timestamp(t.0)),
    };
    let document = match connect(&args.control)
        .and_then(|mut client| client.epcis(&range).map_err(|e| fail(&e)))
    {
        Ok(document) => document,
        Err(code) => return code,
    };
    let text = if args.control.json {
        document.to_string()
    } else {
        serde_json::to_string_pretty(&document).unwrap_or_else(|_| document.to_string())
    };
    match print(&(text + "\n")) {
        Ok(()) => exit::code(exit::OK),
        Err(code) => code,
    }
}

/// An instant given on the command line: RFC 3339, or a duration before now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(pub SystemTime);

/// Parses `--since`/`--until`.
pub fn parse_instant(text: &str) -> Result<Instant, String> {
    if let Ok(at) = humantime::parse_rfc3339_weak(text) {
        return Ok(Instant(at));
    }
    match humantime::parse_duration(text) {
        Ok(ago) => Ok(Instant(
            SystemTime::now()
                .checked_sub(ago)
                .unwrap_or(SystemTime::UNIX_EPOCH),
        )),
        Err(_) => Err(format!(
            "{text:?} is neither an RFC 3339 time (2026-12-03T20:00:00Z) nor a duration ago (90m, 2h, 7d)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn instants_are_rfc3339_or_durations_ago() {
        let at = parse_instant("2026-12-03T20:00:00Z").expect("rfc 3339");
        assert_eq!(
            at.0.duration_since(SystemTime::UNIX_EPOCH).expect("after"),
            Duration::from_secs(1_796_328_000)
        );
        let ago = parse_instant("2h").expect("duration");
        let age = SystemTime::now().duration_since(ago.0).expect("past");
        assert!(age >= Duration::from_secs(7200) && age < Duration::from_secs(7260));
        assert!(parse_instant("yesterday").is_err());
    }
}
