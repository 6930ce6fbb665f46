//! `max-candidates`: the bound on tags seen but not yet counted, checked where the config is loaded.

use tagtally_config::Config;

const BASE: &str = "store = \"paris-01\"\n[[zone]]\nname = \"floor\"\n\
[[reader]]\nname = \"r1\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\nantennas = { 1 = \"floor\" }\n\
[mqtt]\nurl = \"mqtt://broker\"\n";

fn with(line: &str) -> Result<Config, Vec<String>> {
    Config::from_str(&format!("{line}\n{BASE}"), "t.toml")
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

#[test]
fn unset_leaves_the_daemon_to_size_it() {
    assert_eq!(with("").expect("valid").max_candidates, None);
}

#[test]
fn a_value_in_range_is_the_cap() {
    assert_eq!(
        with("max-candidates = 50000")
            .expect("valid")
            .max_candidates,
        Some(50_000)
    );
}

#[test]
fn values_out_of_range_are_refused_with_the_range() {
    for bad in ["0", "-1", "1023", "16777217", "9223372036854775807"] {
        let errors = with(&format!("max-candidates = {bad}")).expect_err(bad);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("t.toml:1:18: ")
                && errors[0].contains("max-candidates must be from 1024 to 16777216"),
            "{bad}: {}",
            errors[0]
        );
    }
}

#[test]
fn a_value_of_the_wrong_type_is_refused() {
    let errors = with("max-candidates = \"lots\"").expect_err("a string");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("t.toml:1:"), "{}", errors[0]);
}
