//! Config reload on the real binary: `SIGHUP` makes `tagtally run` read its config again. A reload
//! that adds a reader and its zone applies in place (the new reader's tags arrive, the other
//! counts and the epoch stay); one that renames the store is refused at the line that changed and
//! the running config stays in force.

mod run_support;
mod uplink_support;

use std::path::Path;

use run_support::{counts, poll, store_config, Daemon, TestStore, WAIT};

/// Sends SIGHUP to the daemon.
fn hang_up(daemon: &Daemon) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &daemon.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -HUP failed");
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("tagtally.toml"), text).expect("write config");
}

/// The names of the readers `readers --json` lists.
async fn reader_names(daemon: &Daemon) -> Option<Vec<String>> {
    let readers = daemon.json("readers", &[]).await?;
    Some(
        readers
            .as_array()?
            .iter()
            .filter_map(|reader| reader["name"].as_str().map(str::to_owned))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reload_adds_a_reader_and_a_refused_one_keeps_the_running_config() {
    let store = TestStore::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // No broker: the counts are read from the control socket, which shows what is committed.
    let broker = "127.0.0.1:9".parse().unwrap();
    let without_fitting = store_config(dir.path(), &store, broker, false);
    let with_fitting = store_config(dir.path(), &store, broker, true);
    let mut daemon = Daemon::start(dir.path(), &without_fitting, "daemon.log");
    let before = store.truth_without("fitting-rooms");
    let stock = poll(
        "the store without fitting rooms to be counted",
        WAIT,
        || async {
            let s = daemon.json("stock", &[]).await?;
            (counts(&s) == before).then_some(s)
        },
    )
    .await;
    let epoch = stock["epoch"].clone();

    // Refused: the store's name is bound to the database and the MQTT topics.
    let renamed = with_fitting.replace("store = \"test-store\"", "store = \"other-store\"");
    write_config(dir.path(), &renamed);
    hang_up(&daemon);
    let config = dir.path().join("tagtally.toml");
    let refusal = format!(
        "reload refused: {}:1:9: `store` changed; that takes a restart",
        config.display()
    );
    poll("the reload to be refused in the log", WAIT, || async {
        let log = daemon.log();
        (log.contains(&refusal) && log.contains("the running config stays in force")).then_some(())
    })
    .await;
    assert_eq!(
        reader_names(&daemon).await.expect("readers"),
        ["ceiling"],
        "a refused reload adds no reader"
    );
    let stock = daemon.json("stock", &[]).await.expect("stock");
    assert_eq!(counts(&stock), before);
    assert_eq!(stock["store"], "test-store");

    // Applied: a new zone and the reader that covers it.
    write_config(dir.path(), &with_fitting);
    hang_up(&daemon);
    let stock = poll("the added reader's tags to arrive", WAIT, || async {
        let s = daemon.json("stock", &[]).await?;
        (counts(&s) == store.truth).then_some(s)
    })
    .await;
    assert_eq!(stock["epoch"], epoch, "a reload starts no new epoch");
    assert!(daemon.log().contains("config reloaded"));
    assert_eq!(
        reader_names(&daemon).await.expect("readers"),
        ["ceiling", "fitting-tm"]
    );

    daemon.terminate();
    let status = daemon.exit_status(WAIT).await;
    assert!(status.success(), "exit {status:?}; log:\n{}", daemon.log());
}
