//! Black-box tests of `tagtally hq`: the real binary's check-config on the shipped example and
//! a broken file, and a query with no service listening.

use std::path::Path;
use std::process::{Command, Output};

fn tagtally_hq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .arg("hq")
        .args(args)
        .output()
        .expect("run tagtally")
}

#[test]
fn check_config_names_the_place_of_every_problem_and_exits_78() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hq.toml");
    std::fs::write(
        &config,
        "[database]\nurl = \"postgresql://hq:secret@db/tagtally\"\n\n[mqtt]\nurl = \"mqtt://b\"\nclient-id = \"hq-1\"\nflavour = 1\n",
    )
    .unwrap();
    let output = tagtally_hq(&["check-config", "-c", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("hq.toml:7:1: unknown field `flavour`"),
        "{stderr}"
    );
}

#[test]
fn the_shipped_example_passes_check_config_up_to_its_secret_files() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/hq.example.toml");
    let output = tagtally_hq(&["check-config", "-c", example.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Only the password and certificate files of a real HQ host are missing here.
    for line in stderr.lines() {
        assert!(
            ["password-file", "ca-file", "client-cert", "client-key"]
                .iter()
                .any(|key| line.contains(key)),
            "{stderr}"
        );
    }
}

#[test]
fn a_query_without_a_running_service_exits_69_naming_the_address() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = tagtally_hq(&["stores", "--api", &free.to_string()]);
    assert_eq!(output.status.code(), Some(69));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&free.to_string()), "{stderr}");
}
