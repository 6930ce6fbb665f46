//! Black-box test of `tagtally bench store` on a small store: the report's fields are there and sane, the seq chain is whole, and impossible settings are refused.
#![cfg(feature = "demo-broker")]

use std::process::{Command, Output};

use serde_json::Value;

fn tagtally(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(args)
        .output()
        .expect("run tagtally")
}

fn number(doc: &Value, path: &str) -> f64 {
    doc.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{path} is not a number in {doc}"))
}

#[test]
fn a_small_store_reports_reads_deltas_latency_and_a_whole_seq_chain() {
    // 2 readers × 1 000 tags, each tag read about 3 times a second: every tag arrives within
    // seconds; the warm-up limit is only a bound.
    let out = tagtally(&[
        "bench",
        "store",
        "--readers",
        "2",
        "--tags",
        "2000",
        "--rate",
        "3000",
        "--duration",
        "3s",
        "--warmup",
        "120s",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["setup"]["readers"], 2);
    assert_eq!(doc["setup"]["tags"], 2000);
    assert_eq!(doc["setup"]["flush_interval_ms"], 1000);
    assert_eq!(doc["warmup"]["all_present"], true, "{doc}");
    assert!(number(&doc, "/warmup/tags_present") >= 2000.0);
    assert!(number(&doc, "/window_secs") > 0.0);
    // Reads flowed, the daemon turned them into deltas, HQ got every seq once or more.
    assert!(number(&doc, "/reads/total") > 0.0, "{doc}");
    assert!(number(&doc, "/reads/per_sec") >= 0.0);
    assert!(number(&doc, "/reads/per_reader_max") >= number(&doc, "/reads/per_reader_min"));
    assert!(number(&doc, "/deltas/total") > 0.0, "{doc}");
    assert_eq!(doc["deltas"]["invalid"], 0);
    assert_eq!(doc["seq"]["first"], 1, "{doc}");
    assert_eq!(doc["seq"]["gaps"], 0, "{doc}");
    assert_eq!(doc["seq"]["epochs"], 1);
    assert!(number(&doc, "/seq/last") >= number(&doc, "/seq/committed_at_window_end"));
    // The daemon was measured and stopped as systemd would stop it.
    assert!(number(&doc, "/daemon/peak_rss_bytes") > 0.0);
    assert!(number(&doc, "/daemon/steady_rss_bytes") > 0.0);
    assert!(number(&doc, "/daemon/peak_rss_bytes") >= number(&doc, "/daemon/steady_rss_bytes"));
    assert!(number(&doc, "/daemon/cpu_percent_of_one_core") >= 0.0);
    assert_eq!(doc["daemon"]["exit"], "stopped cleanly after SIGTERM");
    // Latency: the fields are there and ordered; how many probes fell in 3 s is the machine's business.
    assert_eq!(doc["latency"]["inverted"], 0, "{doc}");
    assert_eq!(number(&doc, "/latency/budget_p99_ms"), 1050.0);
    assert!(number(&doc, "/latency/samples") >= 0.0);
    assert!(number(&doc, "/latency/p99_ms") >= number(&doc, "/latency/p50_ms"));
    assert!(number(&doc, "/machine/cpus") >= 1.0);
}

#[test]
fn a_rate_no_emulated_reader_can_reach_is_a_usage_error() {
    let out = tagtally(&[
        "bench",
        "store",
        "--readers",
        "2",
        "--tags",
        "10",
        "--rate",
        "1000",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read probability"));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_daemon_to_measure_can_be_another_binary() {
    let out = tagtally(&[
        "bench",
        "store",
        "--readers",
        "1",
        "--tags",
        "2000",
        "--duration",
        "1s",
        "--daemon",
        "/nonexistent/tagtally-gateway",
    ]);
    assert_eq!(out.status.code(), Some(74), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/tagtally-gateway"), "{stderr}");
}
