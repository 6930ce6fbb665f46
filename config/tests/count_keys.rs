//! The keys of store operations' count sessions (SPEC §10): a reader's `role` and `count-max-duration`.

use std::time::Duration;
use tagtally_config::{Config, ReaderRole, DEFAULT_COUNT_MAX_DURATION};

const BASE: &str =
    "store = \"paris-01\"\n[[zone]]\nname = \"backroom\"\n[mqtt]\nurl = \"mqtt://broker\"\n";

fn reader(role_line: &str) -> String {
    format!(
        "[[reader]]\nname = \"sled\"\nkind = \"thingmagic\"\naddress = \"127.0.0.1:4001\"\n{role_line}antennas = {{ 1 = \"backroom\" }}\n"
    )
}

fn load(text: &str) -> Result<Config, Vec<String>> {
    Config::from_str(text, "t.toml").map_err(|e| e.iter().map(ToString::to_string).collect())
}

#[test]
fn a_reader_is_fixed_unless_it_says_handheld() {
    let config = load(&format!("{BASE}{}", reader(""))).expect("valid");
    assert_eq!(config.readers[0].role, ReaderRole::Fixed);
    let config = load(&format!("{BASE}{}", reader("role = \"handheld\"\n"))).expect("valid");
    assert_eq!(config.readers[0].role, ReaderRole::Handheld);
    assert_eq!(config.readers[0].role.as_str(), "handheld");
}

#[test]
fn an_unknown_role_is_refused_where_it_is_written() {
    let errors = load(&format!("{BASE}{}", reader("role = \"pocket\"\n"))).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("t.toml:10:8: "), "{errors:#?}");
    assert!(errors[0].contains("pocket"), "{errors:#?}");
    assert!(errors[0].contains("handheld"), "{errors:#?}");
}

#[test]
fn count_max_duration_defaults_to_two_hours_and_takes_a_duration() {
    let config = load(&format!("{BASE}{}", reader(""))).expect("valid");
    assert_eq!(config.count_max_duration, DEFAULT_COUNT_MAX_DURATION);
    assert_eq!(DEFAULT_COUNT_MAX_DURATION, Duration::from_secs(7200));
    let text = format!("count-max-duration = \"45m\"\n{BASE}{}", reader(""));
    assert_eq!(
        load(&text).expect("valid").count_max_duration,
        Duration::from_secs(45 * 60)
    );
    let errors = load(&format!(
        "count-max-duration = \"0s\"\n{BASE}{}",
        reader("")
    ))
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("t.toml:1:22: "), "{errors:#?}");
    assert!(errors[0].contains("greater than zero"), "{errors:#?}");
}
