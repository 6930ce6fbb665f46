//! Black-box tests of what an operator sees of `tagtally run`: journald priorities on stderr, the
//! Prometheus endpoint and `tagtally metrics`, the build in `--version` and `status --json`.

mod run_support;
mod uplink_support;

use std::os::unix::fs::MetadataExt;
use std::process::Stdio;

use run_support::config_text::unreachable_config as config;
use run_support::{poll, Daemon, Spawn, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What journald does: stderr is a stream whose device and inode are in `JOURNAL_STREAM`. Here the
/// stream is a file, so the test reads back exactly the bytes journald would parse.
#[test]
fn a_fatal_error_reaches_the_journal_at_priority_3() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let path = dir.path().join("tagtally.toml");
    std::fs::write(&path, config(dir.path(), &blocker.join("state"), "")).unwrap();
    let log = dir.path().join("journal-stream");
    let stream = std::fs::File::create(&log).unwrap();
    let meta = stream.metadata().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["run", "-c"])
        .arg(&path)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("RUST_LOG")
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stream)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(74));
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().all(|l| l.starts_with('<')),
        "every line carries a priority:\n{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>") && l.contains("starting")),
        "{text}"
    );
    let error = lines
        .iter()
        .find(|l| l.contains("cannot create state directory"))
        .unwrap_or_else(|| panic!("no error line:\n{text}"));
    assert!(error.starts_with("<3>ERROR"), "{error}");
}

#[test]
fn a_config_error_reaches_the_journal_at_priority_3_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagtally.toml");
    std::fs::write(
        &path,
        config(dir.path(), dir.path(), "metrics-listen = \"0.0.0.0:9464\""),
    )
    .unwrap();
    let log = dir.path().join("journal-stream");
    let stream = std::fs::File::create(&log).unwrap();
    let meta = stream.metadata().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["run", "-c"])
        .arg(&path)
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stderr(stream)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(78));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.starts_with("<3>") && text.contains("must be a loopback address"),
        "{text}"
    );
}

async fn http_get(address: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn a_running_daemon_serves_metrics_and_names_its_build() {
    let dir = tempfile::tempdir().unwrap();
    let text = config(
        dir.path(),
        &dir.path().join("state"),
        "metrics-listen = \"127.0.0.1:0\"\nlog-format = \"json\"",
    );
    let mut daemon = Daemon::start_with(dir.path(), &text, "daemon.log", Spawn::default());

    let status = poll("status", WAIT, || daemon.json("status", &[])).await;
    let build = &status["build"];
    assert_eq!(build["version"], env!("CARGO_PKG_VERSION"));
    assert!(build["commit"].is_string());
    assert_eq!(
        build["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "demo-broker"),
        cfg!(feature = "demo-broker")
    );
    assert!(
        ["synchronized", "unsynchronized", "unknown"]
            .contains(&status["clock"]["sync"].as_str().unwrap()),
        "{status}"
    );
    assert_eq!(status["clock"]["steps"], 0);

    // The JSON log says where the endpoint listens (port 0 picked a free one).
    let address = poll("the metrics endpoint's address", WAIT, || async {
        daemon.log().lines().find_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            let message = v["fields"]["message"].as_str()?;
            if !message.starts_with("metrics endpoint listening") {
                return None;
            }
            Some(v["fields"]["address"].as_str()?.to_owned())
        })
    })
    .await;
    let reply = http_get(&address).await;
    assert!(reply.starts_with("HTTP/1.0 200 OK\r\n"), "{reply}");
    assert!(reply.contains("\r\nContent-Type: text/plain; version=0.0.4"));
    assert!(reply.contains("\ntagtally_tags_present 0\n"), "{reply}");
    assert!(
        reply.contains("\ntagtally_reader_up{reader=\"r1\"} 0\n"),
        "{reply}"
    );
    assert!(
        reply.contains("\ntagtally_zone_stale{zone=\"floor\"} 1\n"),
        "{reply}"
    );
    assert!(reply.contains("tagtally_build_info{version=\""));

    // The same metrics as a node_exporter textfile.
    let prom = dir.path().join("tagtally.prom");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["metrics", "--socket"])
        .arg(&daemon.socket)
        .arg("--output")
        .arg(&prom)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let file = std::fs::read_to_string(&prom).unwrap();
    assert!(
        file.contains("# TYPE tagtally_outbox_deltas gauge\n"),
        "{file}"
    );
    assert!(file.contains("\ntagtally_mqtt_state{state=\"online\"} 0\n"));

    daemon.terminate();
    assert!(daemon.exit_status(WAIT).await.success());
}

#[test]
fn version_names_the_commit_features_and_target() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = format!("tagtally {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    assert!(text.contains("features: "), "{text}");
    assert!(text.contains("-linux-"), "{text}");
}

/// The daemon's environment as the kernel holds it (after any re-exec).
fn environ(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    raw.split(|&b| b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test]
async fn run_bounds_glibc_malloc_unless_the_environment_chose_otherwise() {
    // glibc cuts GLIBC_TUNABLES at each `:` in place while parsing it, so /proc shows the pieces.
    for (preset, expected, absent) in [
        (
            None,
            &[
                "GLIBC_TUNABLES=glibc.malloc.arena_max=1",
                "glibc.malloc.mmap_threshold=131072",
                "glibc.malloc.trim_threshold=131072",
            ][..],
            None,
        ),
        (
            Some("glibc.malloc.arena_max=4"),
            &["GLIBC_TUNABLES=glibc.malloc.arena_max=4"][..],
            Some("glibc.malloc.mmap_threshold=131072"),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = config(dir.path(), &dir.path().join("state"), "");
        let env = preset
            .map(|v| vec![("GLIBC_TUNABLES".to_owned(), v.to_owned())])
            .unwrap_or_default();
        let mut daemon = Daemon::start_with(
            dir.path(),
            &text,
            "daemon.log",
            Spawn {
                env,
                ..Spawn::default()
            },
        );
        // Ready (socket answering) means the re-exec, if any, is behind it: same pid, new image.
        poll("status", WAIT, || daemon.json("status", &[])).await;
        let vars = environ(daemon.pid());
        for piece in expected {
            assert!(vars.iter().any(|v| v == piece), "{piece}: {vars:?}");
        }
        if let Some(piece) = absent {
            assert!(!vars.iter().any(|v| v == piece), "{piece}: {vars:?}");
        }
        daemon.terminate();
        assert!(daemon.exit_status(WAIT).await.success(), "{}", daemon.log());
    }
}
