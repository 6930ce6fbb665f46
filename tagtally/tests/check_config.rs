//! Black-box tests of `tagtally check-config`: the real binary on good and broken files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GOOD: &str = r#"store = "paris-01"

[[zone]]
name = "floor"

[[zone]]
name = "backroom"

[[reader]]
name = "ceiling-1"
kind = "llrp"
address = "10.0.0.21"
antennas = { 1 = "floor", 3 = "backroom" }

[mqtt]
url = "mqtts://broker.hq.example"
"#;

fn check_config(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .arg("check-config")
        .args(args)
        .output()
        .expect("run tagtally")
}

/// Writes `text` to a private config file in a fresh directory (kept alive by the guard).
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagtally.toml");
    fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    }
    (dir, path)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8(output.stderr.clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_good_file_prints_ok_with_counts_and_exits_0() {
    let (_dir, path) = config_file(GOOD);
    let output = check_config(&["-c", path_str(&path)]);
    assert_eq!(output.status.code(), Some(0), "{:?}", stderr_lines(&output));
    assert_eq!(
        stdout(&output),
        format!("ok: {} (2 zones, 1 readers)\n", path.display())
    );
    assert!(output.stderr.is_empty());
}

#[test]
fn the_long_option_and_the_shipped_minimal_example_work() {
    let minimal = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/minimal.toml");
    let output = check_config(&["--config", path_str(&minimal)]);
    assert_eq!(output.status.code(), Some(0), "{:?}", stderr_lines(&output));
    assert!(stdout(&output).ends_with("(1 zones, 1 readers)\n"));
}

#[test]
fn a_typo_in_a_key_exits_78_at_its_line_and_column() {
    let (_dir, path) = config_file(&GOOD.replace("address = ", "adress = "));
    let output = check_config(&["-c", path_str(&path)]);
    assert_eq!(output.status.code(), Some(78));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let expected = format!(
        "{}:12:1: unknown field `adress`, expected one of",
        path.display()
    );
    assert!(lines[0].starts_with(&expected), "{lines:#?}");
    assert!(output.stdout.is_empty());
}

#[test]
fn an_antenna_mapped_to_an_undeclared_zone_names_the_zone_and_the_reader() {
    let (_dir, path) = config_file(&GOOD.replace("3 = \"backroom\"", "3 = \"backrom\""));
    let output = check_config(&["-c", path_str(&path)]);
    assert_eq!(output.status.code(), Some(78));
    assert_eq!(
        stderr_lines(&output),
        [format!(
            "{}:13:31: reader `ceiling-1` maps antenna 3 to zone `backrom`, which no [[zone]] declares",
            path.display()
        )]
    );
}

#[test]
fn two_problems_in_one_file_are_both_reported_in_file_order() {
    let broken = GOOD
        .replace("store = \"paris-01\"", "store = \"Paris 01\"")
        .replace("mqtts://", "https://");
    let (_dir, path) = config_file(&broken);
    let output = check_config(&["-c", path_str(&path)]);
    assert_eq!(output.status.code(), Some(78));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].starts_with(&format!(
            "{}:1:9: `Paris 01` is not a valid name",
            path.display()
        )),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{}:16:7: invalid mqtt url `https://broker.hq.example`: scheme `https` is not mqtt or mqtts",
            path.display()
        )),
        "{lines:#?}"
    );
}

#[test]
fn an_inline_password_is_refused_with_a_pointer_to_password_file() {
    let (_dir, path) = config_file(&format!(
        "{GOOD}username = \"paris-01\"\npassword = \"hunter2\"\n"
    ));
    let output = check_config(&["-c", path_str(&path)]);
    assert_eq!(output.status.code(), Some(78));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with(&format!(
        "{}:18:12: inline secrets are not accepted",
        path.display()
    )));
    assert!(lines[0].contains("`password-file`"));
    assert!(!lines[0].contains("hunter2"), "a secret must not be echoed");
}

#[test]
fn a_missing_file_is_a_config_error_that_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.toml");
    let output = check_config(&["-c", path_str(&path)]);
    assert_eq!(output.status.code(), Some(78));
    assert_eq!(
        stderr_lines(&output),
        [format!(
            "{}: cannot read the config file: No such file or directory (os error 2)",
            path.display()
        )]
    );
}

#[test]
fn without_an_option_the_default_path_is_checked() {
    let output = check_config(&[]);
    let all = format!("{}{}", stdout(&output), stderr_lines(&output).join("\n"));
    assert!(all.contains("/etc/tagtally/tagtally.toml"), "{all}");
}

#[test]
fn json_output_is_one_document_with_line_and_column() {
    let (_dir, path) = config_file(GOOD);
    let output = check_config(&["-c", path_str(&path), "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        document,
        serde_json::json!({"file": path_str(&path), "ok": true, "zones": 2, "readers": 1})
    );

    let (_dir, path) = config_file(&GOOD.replace("address = ", "adress = "));
    let output = check_config(&["-c", path_str(&path), "--json"]);
    assert_eq!(output.status.code(), Some(78));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["ok"], false);
    assert_eq!(document["errors"][0]["line"], 12);
    assert_eq!(document["errors"][0]["col"], 1);
    assert!(document["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("unknown field `adress`"));
}
