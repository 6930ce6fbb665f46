//! Control-socket slots under hostile clients (issue 12): `tail` clients that never read cannot take
//! every connection, and a CLI the daemon refuses exits 69 with the daemon's reason (SPEC §5).

mod control_support;

use control_support::*;
use serde_json::json;
use std::process::Command;
use tagtally::control::{ControlClient, ServerLimits};

fn limits() -> ServerLimits {
    ServerLimits {
        max_clients: 4,
        max_tails: 2,
        ..ServerLimits::default()
    }
}

/// A `tail` client that subscribes and then never reads another byte.
fn stalled_tail(daemon: &TestDaemon) -> Raw {
    let mut raw = Raw::connect(daemon);
    raw.send(b"{\"version\":1,\"command\":\"tail\"}\n").unwrap();
    let subscribed = raw.line().expect("an answer");
    assert!(subscribed.get("subscribed").is_some(), "{subscribed}");
    raw
}

fn cli_status(daemon: &TestDaemon) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["status", "--json", "--socket"])
        .arg(&daemon.path)
        .output()
        .expect("run tagtally")
}

#[test]
fn tails_that_never_read_leave_slots_for_requests() {
    let daemon = TestDaemon::start_with(sample_backend(64), limits());
    let _tails = [stalled_tail(&daemon), stalled_tail(&daemon)];
    let mut third = Raw::connect(&daemon);
    third
        .send(b"{\"version\":1,\"command\":\"tail\"}\n")
        .unwrap();
    assert_eq!(
        third.line(),
        Some(json!({"version":1,"error":"too many tail clients (at most 2); try again later"}))
    );
    drop(third);
    // The CLI still gets its answer.
    let out = cli_status(&daemon);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_refused_cli_exits_69_with_the_daemons_reason() {
    let daemon = TestDaemon::start_with(sample_backend(64), limits());
    // Four clients that each hold a slot (an answered request proves it) and then sit idle.
    let mut holders: Vec<ControlClient> = (0..4)
        .map(|_| ControlClient::connect(&daemon.path).unwrap())
        .collect();
    for holder in &mut holders {
        holder.status().unwrap();
    }
    // Refused connections are closed at once, before or after the CLI writes its request: every
    // timing must end the same way.
    for _ in 0..20 {
        let out = cli_status(&daemon);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(69), "{stderr}");
        assert!(
            stderr.contains("too many control clients (at most 4)"),
            "{stderr}"
        );
    }
}
