//! Black-box tests of `tagtally run` refusing to start: the exit codes of SPEC §5 and messages a
//! technician can act on.

mod run_support;
mod uplink_support;

use std::process::Command;

use run_support::config_text::{run_to_exit as run, stderr, unreachable_config};

/// A valid config whose state lives at `state_dir`; the broker and reader are never reached.
fn config(dir: &std::path::Path, state_dir: &std::path::Path) -> String {
    unreachable_config(dir, state_dir, "")
}

#[test]
fn a_config_error_exits_78_with_the_check_config_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "store = \"s1\"\n[[zone]]\nname = \"floor\"\nflavour = 1\n[mqtt]\nurl = \"mqtt://h\"\n",
    )
    .unwrap();
    let out = run(&path);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    let expected = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["check-config", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        stderr(&out),
        stderr(&expected),
        "same words as check-config"
    );
    assert!(
        stderr(&out).starts_with(&format!("{}:4:1:", path.display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_config_exits_78() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&dir.path().join("absent.toml"));
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(stderr(&out).contains("absent.toml"), "{}", stderr(&out));
}

#[test]
fn a_state_dir_that_cannot_be_created_exits_74_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a directory should be: no user, root included, can create the state dir.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let state = blocker.join("state");
    let path = dir.path().join("tagtally.toml");
    std::fs::write(&path, config(dir.path(), &state)).unwrap();
    let out = run(&path);
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains(&format!(
            "cannot create state directory {}",
            state.display()
        )),
        "{text}"
    );
}

#[test]
fn a_state_database_that_cannot_be_written_exits_74_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // The database path is taken by a directory: opening it fails with an I/O error for anyone.
    std::fs::create_dir_all(state.join(tagtally::store::DATABASE_FILE)).unwrap();
    let path = dir.path().join("tagtally.toml");
    std::fs::write(&path, config(dir.path(), &state)).unwrap();
    let out = run(&path);
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{}",
            state.join(tagtally::store::DATABASE_FILE).display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_corrupt_state_database_exits_65_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let db = state.join(tagtally::store::DATABASE_FILE);
    std::fs::write(&db, vec![0x5a; 64 * 1024]).unwrap();
    let path = dir.path().join("tagtally.toml");
    std::fs::write(&path, config(dir.path(), &state)).unwrap();
    let out = run(&path);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(65), "{text}");
    assert!(
        text.contains(&format!("mv {p} {p}.broken", p = db.display())),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_state_dir_exits_74_for_an_unprivileged_user() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o500)).unwrap();
    // Root writes through permission bits; the check only means something for other users.
    let probe = state.join("probe");
    if std::fs::write(&probe, "").is_ok() {
        let _ = std::fs::remove_file(&probe);
        return;
    }
    let path = dir.path().join("tagtally.toml");
    std::fs::write(&path, config(dir.path(), &state)).unwrap();
    let out = run(&path);
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
}
