//! The control server behind a real socket: requests, filters, bad input, tail, the socket file.

mod control_support;

use control_support::*;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::time::Duration;
use tagtally::control::{
    BindError, ClientError, ControlClient, ControlServer, ServerLimits, StockFilter, TailFilter,
    TailKind, TailLine,
};

fn filter(zone: Option<&str>, sku: Option<&str>) -> StockFilter {
    StockFilter {
        zone: zone.map(str::to_owned),
        sku: sku.map(str::to_owned),
    }
}

#[test]
fn every_request_round_trips_on_one_connection() {
    let daemon = TestDaemon::start(sample_backend(64));
    let mut client = ControlClient::connect(&daemon.path).unwrap();
    assert_eq!(client.status().unwrap(), sample_status());
    assert_eq!(client.readers().unwrap(), sample_readers());
    assert_eq!(
        client.stock(&StockFilter::default()).unwrap(),
        sample_stock()
    );
    // And again, to show the connection stays usable.
    assert_eq!(client.status().unwrap(), sample_status());
}

#[test]
fn replies_are_versioned_json_lines() {
    let daemon = TestDaemon::start(sample_backend(64));
    let mut raw = Raw::connect(&daemon);
    let reply = raw.ask(r#"{"version":1,"command":"stock","sku":"unknown"}"#);
    assert_eq!(
        reply,
        json!({"version":1,"stock":{"store":"paris-01","epoch":"01jnc2x4","seq":1234,
               "counts":[{"zone":"floor","sku":"unknown","count":1}],
               "zones":[{"zone":"floor","role":"sales-floor"},{"zone":"backroom","role":"stockroom"}]}})
    );
    let reply = raw.ask(r#"{"version":1,"command":"status"}"#);
    assert_eq!(reply["version"], 1);
    assert_eq!(reply["status"]["mqtt"]["state"], "connecting");
    assert_eq!(reply["status"]["started_at"], "2025-03-01T09:30:00.250Z");
}

#[test]
fn stock_filters_by_zone_sku_or_both() {
    let daemon = TestDaemon::start(sample_backend(64));
    let mut client = ControlClient::connect(&daemon.path).unwrap();
    let counts = |client: &mut ControlClient, zone, sku| {
        let stock = client.stock(&filter(zone, sku)).unwrap();
        assert_eq!((stock.store.as_str(), stock.seq), ("paris-01", 1234));
        stock.counts
    };
    assert_eq!(
        counts(&mut client, Some("floor"), None),
        vec![
            count("floor", "80614141123458", 7),
            count("floor", "unknown", 1)
        ]
    );
    assert_eq!(
        counts(&mut client, None, Some("80614141123458")),
        vec![
            count("backroom", "80614141123458", 120),
            count("floor", "80614141123458", 7)
        ]
    );
    assert_eq!(
        counts(&mut client, Some("backroom"), Some("80614141123458")),
        vec![count("backroom", "80614141123458", 120)]
    );
    assert_eq!(counts(&mut client, Some("attic"), None), vec![]);
}

#[test]
fn an_oversize_request_gets_an_error_and_the_connection_closes() {
    let daemon = TestDaemon::start(sample_backend(64));
    let mut raw = Raw::connect(&daemon);
    let huge = format!(
        "{{\"version\":1,\"command\":\"stock\",\"zone\":\"{}\"}}\n",
        "z".repeat(64 * 1024)
    );
    // The server stops reading after 4 KiB, so the tail of the write may meet a closed socket.
    let _ = raw.send(huge.as_bytes());
    assert_eq!(
        raw.line(),
        Some(json!({"version":1,"error":"request longer than 4096 bytes"}))
    );
    assert!(raw.closed(), "connection closed after the error");
    // The server still serves others.
    let mut client = ControlClient::connect(&daemon.path).unwrap();
    assert_eq!(client.status().unwrap(), sample_status());
}

#[test]
fn a_request_of_exactly_the_limit_is_served() {
    let daemon = TestDaemon::start(sample_backend(64));
    let mut raw = Raw::connect(&daemon);
    let prefix = r#"{"version":1,"command":"stock","zone":""#;
    let pad = 4096 - prefix.len() - 2;
    let request = format!("{prefix}{}\"}}", "z".repeat(pad));
    assert_eq!(request.len(), 4096);
    let reply = raw.ask(&request);
    assert_eq!(reply["stock"]["counts"], json!([]));
    // A `\r\n` line end does not count towards the limit either (it once did: such a request
    // was refused as longer than 4096 bytes and the connection closed).
    raw.send(format!("{request}\r\n").as_bytes()).unwrap();
    assert_eq!(raw.line().unwrap()["stock"]["counts"], json!([]));
    // One byte more is refused, whatever the line end.
    raw.send(format!("z{request}\r\n").as_bytes()).unwrap();
    assert_eq!(
        raw.line(),
        Some(json!({"version":1,"error":"request longer than 4096 bytes"}))
    );
    assert!(raw.closed(), "connection closed after the error");
}

#[test]
fn garbage_gets_an_error_reply_and_the_server_keeps_serving() {
    let daemon = TestDaemon::start(sample_backend(64));
    let mut raw = Raw::connect(&daemon);
    let reply = raw.ask("\u{1}\u{2}garbage{{{");
    assert_eq!(reply["version"], 1);
    let error = reply["error"].as_str().unwrap();
    assert!(error.starts_with("malformed request: "), "{error}");
    // Invalid UTF-8 inside a JSON string.
    raw.send(b"{\"version\":1,\"command\":\"st\xffatus\"}\n")
        .unwrap();
    assert!(raw.line().unwrap()["error"].is_string());
    // The same connection still answers a good request...
    let reply = raw.ask(r#"{"version":1,"command":"readers"}"#);
    assert_eq!(reply["readers"][0]["name"], "ceiling-1");
    // ...and so does a new client.
    let mut client = ControlClient::connect(&daemon.path).unwrap();
    assert_eq!(client.status().unwrap(), sample_status());
}

#[test]
fn wrong_version_and_unknown_commands_are_refused() {
    let daemon = TestDaemon::start(sample_backend(64));
    let mut raw = Raw::connect(&daemon);
    let cases = [
        (
            r#"{"version":2,"command":"status"}"#,
            "unsupported version 2 (this daemon speaks version 1)",
        ),
        (
            r#"{"command":"status"}"#,
            "missing `version` (this daemon speaks version 1)",
        ),
        (
            r#"{"version":1,"command":"reboot"}"#,
            "unknown command `reboot` (one of status, readers, stock, tail, metrics, epcis, count, sale, departures, expected, reconcile, replenish)",
        ),
        (
            r#"{"version":1,"command":"stock","zne":"floor"}"#,
            "bad `stock` arguments: unknown field `zne`, expected `zone` or `sku`",
        ),
    ];
    for (request, error) in cases {
        assert_eq!(
            raw.ask(request),
            json!({"version":1,"error":error}),
            "{request}"
        );
    }
}

#[test]
fn the_client_reports_a_refusal_with_the_daemon_s_words() {
    let daemon = TestDaemon::start(sample_backend(64));
    let client = ControlClient::connect(&daemon.path).unwrap();
    let bad = TailFilter {
        epc: Some("xyz".into()),
        ..TailFilter::default()
    };
    let error = client.tail(&bad).unwrap_err();
    assert!(
        matches!(&error, ClientError::Refused { message, .. } if message == "bad `tail` arguments: epc prefix `xyz` is not hex"),
        "{error}"
    );
}

#[test]
fn tail_delivers_events_in_order_and_filters() {
    let daemon = TestDaemon::start(sample_backend(1024));
    let client = ControlClient::connect(&daemon.path).unwrap();
    let mut stream = client.tail(&TailFilter::default()).unwrap();
    stream.set_timeout(Some(STEP)).unwrap();
    let arrivals_client = ControlClient::connect(&daemon.path).unwrap();
    let arrivals_only = TailFilter {
        kinds: vec![TailKind::Arrival],
        ..TailFilter::default()
    };
    let mut arrivals = arrivals_client.tail(&arrivals_only).unwrap();
    arrivals.set_timeout(Some(STEP)).unwrap();

    // Both subscriptions exist once `tail` returned, so nothing published now is missed.
    for n in 0..200 {
        daemon.tail.publish(numbered_event(n));
    }
    let arrival = tagtally::control::TailEvent::Arrival {
        time: at(0),
        epc: "3074257bf7194e4000001a85".into(),
        zone: "floor".into(),
        sku: "80614141123458".into(),
    };
    daemon.tail.publish(arrival.clone());

    for n in 0..200 {
        match stream.next() {
            Some(Ok(TailLine::Event(event))) => assert_eq!(event, numbered_event(n)),
            other => panic!("expected event {n}, got {other:?}"),
        }
    }
    assert_eq!(
        stream.next().map(Result::ok),
        Some(Some(TailLine::Event(arrival.clone())))
    );
    assert_eq!(
        arrivals.next().map(Result::ok),
        Some(Some(TailLine::Event(arrival)))
    );
}

#[test]
fn a_slow_tail_client_loses_events_not_the_daemon() {
    const EVENTS: u64 = 50_000;
    let daemon = TestDaemon::start(sample_backend(64));
    let mut slow = Raw::connect(&daemon);
    let subscribed = slow.ask(r#"{"version":1,"command":"tail"}"#);
    assert_eq!(subscribed, json!({"version":1,"subscribed":{}}));

    // The slow client reads nothing while everything is published: its socket buffer fills,
    // its session blocks on the write, and its ring laps. Publishing never waits.
    for n in 0..EVENTS {
        daemon.tail.publish(numbered_event(n));
    }
    // Meanwhile the daemon answers others.
    let mut other = ControlClient::connect(&daemon.path).unwrap();
    assert_eq!(other.status().unwrap(), sample_status());

    let (mut received, mut dropped, mut next) = (0u64, 0u64, 0u64);
    while received + dropped < EVENTS {
        let line = slow.line().expect("stream open");
        assert_eq!(line["version"], 1, "{line}");
        if let Some(count) = line["dropped"].as_u64() {
            assert!(count > 0);
            dropped += count;
            next += count;
        } else {
            let event: tagtally::control::TailEvent =
                serde_json::from_value(line["event"].clone()).expect("an event line");
            assert_eq!(
                event_number(&event),
                next,
                "events in order, gaps only as dropped"
            );
            next += 1;
            received += 1;
        }
    }
    assert_eq!(received + dropped, EVENTS);
    assert!(
        dropped > 0,
        "a client that did not read must have lost events"
    );
    assert!(received > 0);
}

#[test]
fn the_socket_file_has_mode_0660_and_goes_away_on_shutdown() {
    let mut daemon = TestDaemon::start(sample_backend(64));
    let mode = std::fs::metadata(&daemon.path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660, "mode {mode:o}");
    daemon.stop();
    assert!(!daemon.path.exists(), "socket file removed on shutdown");
}

#[test]
fn shutdown_closes_a_tail_stream() {
    let mut daemon = TestDaemon::start(sample_backend(64));
    let mut raw = Raw::connect(&daemon);
    raw.ask(r#"{"version":1,"command":"tail"}"#);
    daemon.stop();
    assert_eq!(raw.line(), None);
}

#[test]
fn a_stale_socket_file_is_replaced_and_a_live_one_refused() {
    let daemon = TestDaemon::start(sample_backend(64));
    // Live: another server on the same path is refused and leaves the file alone.
    match ControlServer::bind(&daemon.path, ServerLimits::default()) {
        Err(BindError::InUse { path }) => assert_eq!(path, daemon.path),
        other => panic!("expected InUse, got {other:?}"),
    }
    let mut client = ControlClient::connect(&daemon.path).unwrap();
    assert_eq!(client.status().unwrap(), sample_status());

    // Stale: a socket file nobody listens on (a crashed daemon's).
    let stale = daemon.dir().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let server = ControlServer::bind(&stale, ServerLimits::default()).expect("replaces stale");
    assert_eq!(server.path(), stale);

    // Not a socket: never deleted.
    let file = daemon.dir().join("notes.txt");
    std::fs::write(&file, "keep me").unwrap();
    let error = ControlServer::bind(&file, ServerLimits::default()).unwrap_err();
    assert!(matches!(error, BindError::NotASocket { .. }), "{error}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn clients_beyond_the_limit_are_told_and_closed() {
    let limits = ServerLimits {
        max_clients: 2,
        ..ServerLimits::default()
    };
    let daemon = TestDaemon::start_with(sample_backend(64), limits);
    let mut first = ControlClient::connect(&daemon.path).unwrap();
    let mut second = ControlClient::connect(&daemon.path).unwrap();
    // Answered requests prove both hold a slot.
    first.status().unwrap();
    second.status().unwrap();
    let mut third = Raw::connect(&daemon);
    assert_eq!(
        third.line(),
        Some(json!({"version":1,"error":"too many control clients (at most 2); try again later"}))
    );
    assert_eq!(third.line(), None);
    // A slot freed is a slot available again.
    drop(first);
    let deadline = std::time::Instant::now() + STEP;
    let reply: Value = loop {
        assert!(std::time::Instant::now() < deadline, "slot never freed");
        let mut again = Raw::connect(&daemon);
        // Refused connections get the error line and are closed, possibly before our request
        // is written (broken pipe) or read (reset): both mean "not yet".
        if let Some(reply) = again.try_ask(r#"{"version":1,"command":"status"}"#) {
            if reply.get("error").is_none() {
                break reply;
            }
        }
        // The server may not have noticed the first client leaving yet; its EOF is queued,
        // so retrying converges without waiting on a clock.
        std::thread::yield_now();
    };
    assert!(reply["status"].is_object());
}

#[test]
fn an_idle_connection_is_closed() {
    let limits = ServerLimits {
        idle_timeout: Duration::from_millis(100),
        ..ServerLimits::default()
    };
    let daemon = TestDaemon::start_with(sample_backend(64), limits);
    let mut raw = Raw::connect(&daemon);
    // The read returns end-of-stream once the server gives up on us (bounded by STEP).
    assert_eq!(raw.line(), None);
}
