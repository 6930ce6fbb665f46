//! Black-box tests of `tagtally bench ingest`: the JSON fields on a small synthetic store, a capture file, and the exit codes for bad input.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use tagtally_protocol::llrp::{Message, ProtocolVersion};
use tagtally_tooling::bench::population::Population;

fn tagtally(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(args)
        .output()
        .expect("run tagtally")
}

fn json(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn number(doc: &Value, field: &str) -> f64 {
    doc[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is not a number in {doc}"))
}

#[test]
fn synthetic_run_prints_every_field_with_sane_values() {
    let doc = json(&tagtally(&[
        "bench", "ingest", "--tags", "2000", "--passes", "3", "--json",
    ]));
    assert_eq!(doc["tags"], 2000);
    assert_eq!(doc["reads"], 2000 * 3);
    assert_eq!(doc["reads_per_pass"], 2000);
    assert_eq!(doc["passes"], 3);
    assert_eq!(
        doc["warmup_passes"], 1,
        "arrive-reads 2 needs one warm-up pass"
    );
    assert_eq!(doc["candidates"], 0);
    for field in [
        "first_pass_reads_per_sec",
        "reads_per_sec",
        "ns_per_read",
        "first_pass_cpu_reads_per_sec",
        "cpu_reads_per_sec",
        "cpu_ns_per_read",
        "peak_rss_bytes",
        "tag_table_bytes",
        "minimal_loop_reads_per_sec",
        "minimal_loop_cpu_reads_per_sec",
        "minimal_loop_table_bytes",
        "known_ratio",
        "first_sighting_ratio",
        "known_cpu_ratio",
        "first_sighting_cpu_ratio",
    ] {
        assert!(number(&doc, field) > 0.0, "{field} in {doc}");
    }
    assert_eq!(doc["known_ratio_budget"], 0.6);
    assert_eq!(doc["first_sighting_ratio_budget"], 0.1);
    // The ratios are the printed rates divided, rounded to three places.
    let known_ratio = number(&doc, "reads_per_sec") / number(&doc, "minimal_loop_reads_per_sec");
    assert!(
        (known_ratio - number(&doc, "known_ratio")).abs() < 0.002,
        "{known_ratio} in {doc}"
    );
    let first_ratio =
        number(&doc, "first_pass_reads_per_sec") / number(&doc, "minimal_loop_reads_per_sec");
    assert!(
        (first_ratio - number(&doc, "first_sighting_ratio")).abs() < 0.002,
        "{first_ratio} in {doc}"
    );
    // The reference loop ran once after each of passes 2..3, over the same reads.
    let minimal = doc["minimal_loop_per_pass"]
        .as_array()
        .expect("minimal_loop_per_pass");
    assert_eq!(minimal.len(), 2);
    assert!(minimal.iter().all(|pass| pass["reads"] == 2000));
    // ns_per_read and reads_per_sec describe the same passes.
    let product = number(&doc, "ns_per_read") * number(&doc, "reads_per_sec");
    assert!((product - 1e9).abs() < 1e7, "{product} in {doc}");
    // The resident set holds at least the tag table.
    assert!(number(&doc, "peak_rss_bytes") >= number(&doc, "tag_table_bytes"));
    assert!(number(&doc, "peak_rss_bytes") >= number(&doc, "end_rss_bytes"));
    let passes = doc["per_pass"].as_array().expect("per_pass");
    assert_eq!(passes.len(), 3);
    assert!(passes.iter().all(|pass| pass["reads"] == 2000));
}

#[test]
fn reads_can_differ_from_tags() {
    let doc = json(&tagtally(&[
        "bench", "ingest", "--tags", "500", "--reads", "1200", "--passes", "2", "--json",
    ]));
    assert_eq!(doc["tags"], 500);
    assert_eq!(doc["reads"], 2400);
}

#[test]
fn human_output_names_the_passes() {
    let out = tagtally(&["bench", "ingest", "--tags", "300", "--passes", "2"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("1 first sightings"), "{text}");
    assert!(text.contains("2..2 known tags"), "{text}");
    assert!(text.contains("warm-up: 1 untimed pass"), "{text}");
    assert!(text.contains("minimal loop (reference)"), "{text}");
    assert!(text.contains("known tags: "), "{text}");
    assert!(text.contains("(budget >= 0.6: "), "{text}");
    assert!(text.contains("(budget >= 0.1: "), "{text}");
}

#[test]
fn a_capture_file_yields_its_read_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("capture.llrp");
    let population = Population::new(750).expect("population");
    let mut bytes = Vec::new();
    // A keepalive between reports, as a live stream has: fed too, and ignored by ingest.
    Message::Keepalive
        .encode(ProtocolVersion::V1_0_1, 1, &mut bytes)
        .expect("keepalive encodes");
    bytes.extend(
        population
            .reports(0..750, 1_776_939_000_000_000)
            .expect("reports"),
    );
    bytes.extend(
        population
            .reports((0..250).rev(), 1_776_939_100_000_000)
            .expect("reports"),
    );
    std::fs::write(&path, &bytes).expect("write capture");
    let doc = json(&tagtally(&[
        "bench",
        "ingest",
        "--input",
        path.to_str().expect("utf-8 path"),
        "--passes",
        "4",
        "--json",
    ]));
    assert_eq!(doc["reads_per_pass"], 1000);
    assert_eq!(doc["reads"], 4000);
    assert_eq!(doc["tags"], 750);
    assert_eq!(doc["input"]["messages"], 1 + 8 + 3);
}

#[test]
fn a_garbage_file_exits_65_and_says_where() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("garbage.bin");
    std::fs::write(&path, b"GET / HTTP/1.1\r\nHost: example\r\n\r\n").expect("write");
    let out = tagtally(&["bench", "ingest", "--input", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not an llrp stream at byte 0"), "{stderr}");
}

#[test]
fn a_truncated_file_exits_65() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cut.llrp");
    let bytes = Population::new(100)
        .expect("population")
        .reports(0..100, 1_776_939_000_000_000)
        .expect("reports");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    let out = tagtally(&["bench", "ingest", "--input", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ends inside a message"));
}

#[test]
fn an_unreadable_file_exits_74() {
    let missing = Path::new("/nonexistent/tagtally/capture.llrp");
    let out = tagtally(&[
        "bench",
        "ingest",
        "--input",
        missing.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(74), "{out:?}");
}

#[test]
fn presence_comes_from_the_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tagtally.toml");
    std::fs::write(
        &path,
        "store = \"bench\"\n[presence]\narrive-reads = 3\n[[zone]]\nname = \"floor\"\n[mqtt]\nurl = \"mqtt://localhost\"\n",
    )
    .expect("write config");
    let doc = json(&tagtally(&[
        "bench",
        "ingest",
        "--tags",
        "400",
        "--passes",
        "2",
        "--json",
        "-c",
        path.to_str().expect("utf-8"),
    ]));
    assert_eq!(doc["arrive_reads"], 3);
    assert_eq!(doc["warmup_passes"], 2);
    assert_eq!(doc["tags"], 400);
}

#[test]
fn a_bad_config_exits_78_and_one_pass_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tagtally.toml");
    std::fs::write(&path, "store = \"bench\"\nbogus = 1\n").expect("write config");
    let out = tagtally(&[
        "bench",
        "ingest",
        "--tags",
        "10",
        "-c",
        path.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let out = tagtally(&["bench", "ingest", "--tags", "10", "--passes", "1"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
