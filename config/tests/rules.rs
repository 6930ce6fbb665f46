//! Every validation rule, through the public API: the exact `FILE:LINE:COL: message` lines a
//! technician sees for a config text (file-system checks are covered at the end).

use std::path::Path;
use std::time::Duration;
use tagtally_config::{
    Config, ConfigErrors, FileChecks, MqttProtocol, R2000Region, ReaderLink, Region, SerialModule,
    ZoneRole,
};

/// The parts of a small valid config, so each test changes only what it is about.
const STORE: &str = "store = \"paris-01\"\n";
const ZONES: &str = "[[zone]]\nname = \"floor\"\n\n[[zone]]\nname = \"backroom\"\n";
const READER: &str =
    "[[reader]]\nname = \"r1\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\nantennas = { 1 = \"floor\" }\n";
const MQTT: &str = "[mqtt]\nurl = \"mqtt://broker\"\n";

fn valid(text: &str) -> Config {
    Config::from_str(text, "t.toml").unwrap_or_else(|errors| panic!("{errors}\n--- in:\n{text}"))
}

fn error_lines(text: &str) -> Vec<String> {
    match Config::from_str(text, "t.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts the exact error lines, in order.
fn check(text: &str, expected: &[&str]) {
    assert_eq!(error_lines(text), expected, "--- in:\n{text}");
}

/// Asserts a single error at `line:col` whose message contains `fragment`.
fn check_one(text: &str, line_col: &str, fragment: &str) {
    let lines = error_lines(text);
    assert_eq!(lines.len(), 1, "{lines:#?}\n--- in:\n{text}");
    let prefix = format!("t.toml:{line_col}: ");
    assert!(
        lines[0].starts_with(&prefix),
        "{} does not start with {prefix}",
        lines[0]
    );
    assert!(
        lines[0].contains(fragment),
        "{} lacks {fragment:?}",
        lines[0]
    );
}

// ---- the whole document ----------------------------------------------------------------------

#[test]
fn the_smallest_config_is_valid_with_spec_defaults() {
    let config = valid(&format!("{STORE}{ZONES}{READER}{MQTT}"));
    assert_eq!(config.mqtt.client_id, "tagtally-paris-01");
    assert_eq!(config.mqtt.broker.address.port, 1883);
    assert_eq!(config.mqtt.protocol, MqttProtocol::V3_1_1);
    assert_eq!(config.mqtt.keep_alive, Duration::from_secs(60));
    assert_eq!(config.mqtt.outbox_max_bytes, 64 * 1024 * 1024);
    assert_eq!(config.log_level.as_str(), "info");
    assert_eq!(config.presence.arrive_reads, 2);
}

#[test]
fn store_and_mqtt_are_required() {
    check(
        &format!("{ZONES}{READER}"),
        &[
            "t.toml:1:1: missing required key `store`",
            "t.toml:1:1: missing required section [mqtt]",
        ],
    );
}

#[test]
fn store_follows_the_name_rule() {
    check_one(
        &format!("store = \"Paris 01\"\n{ZONES}{READER}{MQTT}"),
        "1:9",
        "`Paris 01` is not a valid name",
    );
}

#[test]
fn a_syntax_error_is_located() {
    check_one("store = \"paris-01\n", "1:18", "invalid basic string");
}

#[test]
fn several_syntax_errors_are_all_reported() {
    let lines = error_lines("store = \n[[zone]\nname = 'floor'\nx = = 1\n");
    assert!(lines.len() >= 2, "{lines:#?}");
    assert!(lines[0].starts_with("t.toml:1:"), "{lines:#?}");
    assert!(
        lines.iter().any(|line| line.starts_with("t.toml:4:")),
        "{lines:#?}"
    );
}

#[test]
fn an_unknown_top_level_key_is_named_with_the_keys_allowed() {
    check_one(
        &format!("{STORE}stat-dir = \"/x\"\n{ZONES}{READER}{MQTT}"),
        "2:1",
        "unknown key `stat-dir`, expected one of `store`, `state-dir`",
    );
}

#[test]
fn sections_written_as_the_wrong_toml_shape_say_how_to_write_them() {
    check_one(
        &format!("{STORE}presence = 3\n{ZONES}{READER}{MQTT}"),
        "2:1",
        "`presence` must be a table ([presence])",
    );
    check_one(
        &format!("{STORE}[zone]\nname = \"floor\"\n{READER}{MQTT}"),
        "2:2",
        "`zone` must be written as [[zone]] tables",
    );
}

#[test]
fn relative_paths_are_taken_from_the_config_directory() {
    let text = format!(
        "{STORE}state-dir = \"state\"\ncontrol-socket = \"/run/t.sock\"\n{ZONES}{READER}{MQTT}"
    );
    let config = Config::from_str(&text, "/srv/store/tagtally.toml").unwrap();
    assert_eq!(config.state_dir, Path::new("/srv/store/state"));
    assert_eq!(config.control_socket, Path::new("/run/t.sock"));
}

#[test]
fn a_control_socket_path_longer_than_sun_path_is_refused() {
    let long = format!("/run/{}.sock", "s".repeat(100));
    check_one(
        &format!("{STORE}control-socket = \"{long}\"\n{ZONES}{READER}{MQTT}"),
        "2:18",
        "is 110 bytes long; a unix socket path holds at most 107",
    );
}

#[test]
fn log_level_is_one_of_five() {
    check_one(
        &format!("{STORE}log-level = \"verbose\"\n{ZONES}{READER}{MQTT}"),
        "2:13",
        "unknown variant `verbose`",
    );
}

// ---- presence and zones ---------------------------------------------------------------------

#[test]
fn every_presence_key_can_be_overridden_per_zone_and_the_rest_is_inherited() {
    let text = format!(
        "{STORE}[presence]\narrive-reads = 4\ndepart-after = \"7m\"\n\
         [[zone]]\nname = \"floor\"\narrive-reads = 3\narrive-window = \"15s\"\n\
         depart-after = \"10m\"\nmove-hysteresis = \"45s\"\nrssi-margin-db = 4.5\n\
         [[zone]]\nname = \"backroom\"\n{READER}{MQTT}"
    );
    let config = valid(&text);
    let floor = config.zone("floor").unwrap().presence;
    assert_eq!(floor.arrive_reads, 3);
    assert_eq!(floor.arrive_window, Duration::from_secs(15));
    assert_eq!(floor.depart_after, Duration::from_secs(600));
    assert_eq!(floor.move_hysteresis, Duration::from_secs(45));
    assert_eq!(floor.rssi_margin_db, 4.5);
    let backroom = config.zone("backroom").unwrap().presence;
    assert_eq!(backroom.arrive_reads, 4);
    assert_eq!(backroom.depart_after, Duration::from_secs(420));
    assert_eq!(backroom.arrive_window, Duration::from_secs(10));
    assert_eq!(backroom.move_hysteresis, Duration::from_secs(30));
    assert_eq!(backroom.rssi_margin_db, 6.0);
}

#[test]
fn presence_values_are_range_checked_where_they_are_written() {
    check_one(
        &format!("{STORE}[presence]\narrive-reads = 0\n{ZONES}{READER}{MQTT}"),
        "3:16",
        "arrive-reads must be from 1 to 1000, not 0",
    );
    check_one(
        &format!("{STORE}[presence]\nrssi-margin-db = -1.0\n{ZONES}{READER}{MQTT}"),
        "3:18",
        "rssi-margin-db must be from 0 to 60 dB",
    );
}

#[test]
fn durations_need_a_unit_and_must_be_positive() {
    check_one(
        &format!("{STORE}[presence]\narrive-window = \"10\"\n{ZONES}{READER}{MQTT}"),
        "3:17",
        "`10` is not a duration",
    );
    check_one(
        &format!("{STORE}[presence]\ndepart-after = \"0s\"\n{ZONES}{READER}{MQTT}"),
        "3:16",
        "duration `0s` must be greater than zero",
    );
    check_one(
        &format!("{STORE}[presence]\nmove-hysteresis = 30\n{ZONES}{READER}{MQTT}"),
        "3:19",
        "expected a duration string with a unit",
    );
}

#[test]
fn a_duplicate_zone_names_its_first_line() {
    check(
        &format!("{STORE}{ZONES}[[zone]]\nname = \"floor\"\n{READER}{MQTT}"),
        &["t.toml:8:8: zone `floor` is declared twice (first at line 3)"],
    );
}

#[test]
fn an_unknown_key_in_a_zone_is_located() {
    check_one(
        &format!("{STORE}[[zone]]\nname = \"floor\"\ndepart = \"1m\"\n{READER}{MQTT}"),
        "4:1",
        "unknown field `depart`",
    );
}

#[test]
fn a_zone_role_is_one_of_five_and_other_by_default() {
    let text = format!(
        "{STORE}[[zone]]\nname = \"floor\"\nrole = \"sales-floor\"\n\
         [[zone]]\nname = \"backroom\"\nrole = \"stockroom\"\n\
         [[zone]]\nname = \"fit\"\nrole = \"fitting-room\"\n\
         [[zone]]\nname = \"gate\"\nrole = \"exit\"\n\
         [[zone]]\nname = \"window\"\n{READER}{MQTT}"
    );
    let config = valid(&text);
    let roles: Vec<ZoneRole> = config.zones.iter().map(|zone| zone.role).collect();
    assert_eq!(
        roles,
        [
            ZoneRole::SalesFloor,
            ZoneRole::Stockroom,
            ZoneRole::FittingRoom,
            ZoneRole::Exit,
            ZoneRole::Other
        ]
    );
    let written: Vec<&str> = ZoneRole::ALL.iter().map(|role| role.as_str()).collect();
    assert_eq!(
        written,
        ["sales-floor", "stockroom", "fitting-room", "exit", "other"]
    );
}

#[test]
fn an_unknown_zone_role_is_located_and_names_the_roles() {
    let lines = error_lines(&format!(
        "{STORE}[[zone]]\nname = \"floor\"\nrole = \"salesfloor\"\n{READER}{MQTT}"
    ));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with("t.toml:4:8: "), "{}", lines[0]);
    for fragment in [
        "`salesfloor`",
        "sales-floor",
        "stockroom",
        "fitting-room",
        "exit",
        "other",
    ] {
        assert!(lines[0].contains(fragment), "{} lacks {fragment}", lines[0]);
    }
}

#[test]
fn replenish_has_a_default_minimum_and_needs_a_floor_and_a_stockroom() {
    let config = valid(&format!("{STORE}{ZONES}{READER}{MQTT}"));
    assert_eq!(config.replenish.min_on_floor, 1);
    assert_eq!(config.replenish.min_file, None);
    let roles = "[[zone]]\nname = \"floor\"\nrole = \"sales-floor\"\n\
                 [[zone]]\nname = \"backroom\"\nrole = \"stockroom\"\n";
    let config = valid(&format!(
        "{STORE}{roles}[replenish]\nmin-on-floor = 3\nmin-file = \"mins.csv\"\n{READER}{MQTT}"
    ));
    assert_eq!(config.replenish.min_on_floor, 3);
    assert_eq!(
        config.replenish.min_file.as_deref(),
        Some(Path::new("mins.csv"))
    );
    check_one(
        &format!("{STORE}{roles}[replenish]\nmin-on-floor = -1\n{READER}{MQTT}"),
        "9:16",
        "min-on-floor must be from 0 to 1000000, not -1",
    );
    check(
        &format!("{STORE}{ZONES}[replenish]\n{READER}{MQTT}"),
        &[
            "t.toml:7:2: [replenish] brings items from a zone with role = \"stockroom\" to one with role = \"sales-floor\", and no [[zone]] has role = \"sales-floor\"",
            "t.toml:7:2: [replenish] brings items from a zone with role = \"stockroom\" to one with role = \"sales-floor\", and no [[zone]] has role = \"stockroom\"",
        ],
    );
}

// ---- readers --------------------------------------------------------------------------------

#[test]
fn an_antenna_mapped_to_an_undeclared_zone_names_reader_antenna_and_zone() {
    let reader = "[[reader]]\nname = \"ceiling-1\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\n\
                  antennas = { 1 = \"floor\", 3 = \"backrom\" }\n";
    check(
        &format!("{STORE}{ZONES}{reader}{MQTT}"),
        &["t.toml:11:31: reader `ceiling-1` maps antenna 3 to zone `backrom`, which no [[zone]] declares"],
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    // "ö" is two bytes: `"nope"` starts at byte 32 of its line but in column 31.
    let text = format!(
        "{STORE}[[zone]]\nname = \"floor\"\n[[reader]]\nname = \"r1\"\nkind = \"llrp\"\n\
         address = \"10.0.0.1\"\nantennas = {{ 1 = \"flöör\", 2 = \"nope\" }}\n{MQTT}"
    );
    check(
        &text,
        &[
            "t.toml:8:18: reader `r1` maps antenna 1 to zone `flöör`, which no [[zone]] declares",
            "t.toml:8:31: reader `r1` maps antenna 2 to zone `nope`, which no [[zone]] declares",
        ],
    );
}

/// Found by the `config_load` fuzz target (2026-11-23): TOML strings may hold control
/// characters, and messages quoted them raw, so one problem could span several lines (or forge a
/// `FILE:LINE:COL:` line) and send escape sequences to the terminal. They are escaped now.
#[test]
fn control_characters_in_quoted_values_do_not_break_the_line() {
    // The fuzzer's input, minimised by `cargo fuzz tmin`: a TAB inside the broker's host name.
    let fuzzed =
        "store = \"paris-01\"\n[[zone]]\nname = \"floor\"\n\n[[zone]]\nname = \"backroom\"\n\
         [[reader]]\nname = \"r1\"\nkind = \"llrp\"\nadds = { 1 = \"floor\" }\n\
         [mqtt]\nurl = \"mqtts://brok\ter.hq.example\"\nusername = \"paris-01\"\n\
         password = \"hunter2\"\n";
    let lines = error_lines(fuzzed);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(
        lines[1],
        "t.toml:12:7: invalid mqtt url `mqtts://brok\\ter.hq.example`: \
         `brok\\ter.hq.example` is not a host name or IP address"
    );
    // A newline and an escape sequence written as TOML escapes in an antenna's zone.
    let reader = "[[reader]]\nname = \"r1\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\n\
                  antennas = { 1 = \"floor\\nt.toml:1:1: ok\\u001b[2K\" }\n";
    check(
        &format!("{STORE}{ZONES}{reader}{MQTT}"),
        &["t.toml:11:18: reader `r1` maps antenna 1 to zone \
           `floor\\nt.toml:1:1: ok\\u{1b}[2K`, which no [[zone]] declares"],
    );
}

#[test]
fn a_zone_with_its_own_problem_is_not_also_reported_as_undeclared() {
    let text = format!(
        "{STORE}[[zone]]\nname = \"floor\"\narrive-reads = 0\n[[zone]]\nname = \"backroom\"\n{READER}{MQTT}"
    );
    check_one(&text, "4:16", "arrive-reads must be from 1 to 1000");
}

#[test]
fn a_duplicate_reader_names_its_first_line() {
    check(
        &format!("{STORE}{ZONES}{READER}{READER}{MQTT}"),
        &["t.toml:13:8: reader `r1` is declared twice (first at line 8)"],
    );
}

#[test]
fn antenna_numbers_are_1_to_65535() {
    let reader = "[[reader]]\nname = \"r1\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\n\
                  antennas = { 0 = \"floor\", 65536 = \"floor\", a = \"floor\" }\n";
    let lines = error_lines(&format!("{STORE}{ZONES}{reader}{MQTT}"));
    assert_eq!(lines.len(), 3, "{lines:#?}");
    for antenna in ["`0`", "`65536`", "`a`"] {
        assert!(
            lines.iter().any(|line| line.contains(&format!(
                "reader `r1`: antenna {antenna} is not a number from 1 to 65535"
            ))),
            "{lines:#?}"
        );
    }
}

#[test]
fn a_reader_must_map_some_antenna() {
    let reader =
        "[[reader]]\nname = \"r1\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\nantennas = {}\n";
    check_one(
        &format!("{STORE}{ZONES}{reader}{MQTT}"),
        "11:12",
        "reader `r1` maps no antenna to a zone",
    );
}

#[test]
fn an_llrp_reader_needs_an_address_and_takes_no_serial_keys() {
    let reader = "[[reader]]\nname = \"r1\"\nkind = \"llrp\"\ndevice = \"/dev/ttyUSB0\"\n\
                  baud = 115200\nantennas = { 1 = \"floor\" }\n";
    check(
        &format!("{STORE}{ZONES}{reader}{MQTT}"),
        &[
            "t.toml:8:8: llrp reader `r1` needs `address`",
            "t.toml:10:10: `device` does not apply to llrp reader `r1`",
            "t.toml:11:8: `baud` does not apply to llrp reader `r1`",
        ],
    );
}

#[test]
fn llrp_address_port_defaults_to_5084_and_may_be_given() {
    let reader = READER.replace("10.0.0.1", "reader-1.store.example:5085");
    let config = valid(&format!("{STORE}{ZONES}{reader}{MQTT}"));
    let ReaderLink::Llrp(llrp) = &config.readers[0].link else {
        panic!("llrp")
    };
    assert_eq!(llrp.address.to_string(), "reader-1.store.example:5085");
    let reader = READER.replace("10.0.0.1", "10.0.0.1:0");
    check_one(
        &format!("{STORE}{ZONES}{reader}{MQTT}"),
        "10:11",
        "invalid address `10.0.0.1:0`: port `0` is not a number from 1 to 65535",
    );
}

#[test]
fn llrp_keepalive_session_and_power_are_checked() {
    let base = format!("{STORE}{ZONES}{READER}");
    check_one(
        &format!("{base}keepalive = \"500ms\"\n{MQTT}"),
        "12:13",
        "`keepalive` is 500ms; it must be at least 1s",
    );
    check_one(
        &format!("{base}session = 4\n{MQTT}"),
        "12:11",
        "session must be a Gen2 session from 0 to 3, not 4",
    );
    check_one(
        &format!("{base}tx-power-dbm = 50\n{MQTT}"),
        "12:16",
        "tx-power-dbm must be from -10 to 40 dBm",
    );
    let config = valid(&format!(
        "{base}keepalive = \"5s\"\nsession = 2\ntx-power-dbm = 27.5\n{MQTT}"
    ));
    assert_eq!(config.readers[0].session, Some(2));
    assert_eq!(config.readers[0].tx_power_dbm, Some(27.5));
}

#[test]
fn a_serial_reader_takes_a_device_or_a_bridge_address_but_not_both() {
    let serial = |keys: &str| {
        format!("{STORE}{ZONES}[[reader]]\nname = \"till\"\nkind = \"thingmagic\"\n{keys}antennas = {{ 1 = \"floor\" }}\n{MQTT}")
    };
    let config = valid(&serial("device = \"/dev/ttyUSB0\"\nregion = \"eu\"\n"));
    let ReaderLink::Serial(link) = &config.readers[0].link else {
        panic!("serial")
    };
    assert_eq!(link.baud, 115_200);
    assert_eq!(
        link.module,
        SerialModule::ThingMagic {
            region: Some(Region::Eu)
        }
    );
    valid(&serial("address = \"10.0.0.40:4001\"\nbaud = 57600\n"));
    check_one(
        &serial("device = \"/dev/ttyUSB0\"\naddress = \"10.0.0.40:4001\"\n"),
        "10:10",
        "thingmagic reader `till` takes exactly one of `device` (a serial port) and `address`",
    );
    check_one(&serial(""), "8:8", "takes exactly one of `device`");
    check_one(
        &serial("address = \"10.0.0.40\"\n"),
        "10:11",
        "invalid address `10.0.0.40`: a port is required (host:port)",
    );
}

#[test]
fn serial_keys_are_checked() {
    let serial = |keys: &str| {
        format!("{STORE}{ZONES}[[reader]]\nname = \"gate\"\nkind = \"r2000\"\ndevice = \"/dev/ttyS1\"\n{keys}antennas = {{ 1 = \"floor\" }}\n{MQTT}")
    };
    check_one(
        &serial("baud = 115201\n"),
        "11:8",
        "baud 115201 is not a standard rate",
    );
    check_one(
        &serial("region = \"mars\"\n"),
        "11:10",
        "unknown variant `mars`",
    );
    check_one(
        &serial("keepalive = \"10s\"\n"),
        "11:13",
        "`keepalive` does not apply to r2000 reader `gate`",
    );
}

#[test]
fn serial_antennas_must_be_ports_the_module_has() {
    let reader = |kind: &str, antennas: &str| {
        format!("{STORE}{ZONES}[[reader]]\nname = \"till\"\nkind = \"{kind}\"\ndevice = \"/dev/ttyS1\"\nantennas = {{ {antennas} }}\n{MQTT}")
    };
    check_one(
        &reader("thingmagic", "16 = \"floor\""),
        "11:14",
        "reader `till`: antenna 16 does not exist on ThingMagic modules (ports 1 to 15)",
    );
    let config = valid(&reader(
        "thingmagic",
        "15 = \"floor\", 2 = \"floor\", 10 = \"floor\"",
    ));
    let ReaderLink::Serial(link) = &config.readers[0].link else {
        panic!("serial")
    };
    assert_eq!(link.antenna_ports, [2, 10, 15]);
    check_one(
        &reader("r2000", "1 = \"floor\", 5 = \"floor\""),
        "11:27",
        "reader `till`: antenna 5 does not exist on R2000 modules (ports 1 to 4 when several antennas are read)",
    );
    valid(&reader("r2000", "8 = \"floor\""));
    check_one(
        &reader("r2000", "9 = \"floor\""),
        "11:14",
        "reader `till`: antenna 9 does not exist on R2000 modules (ports 1 to 8)",
    );
}

#[test]
fn an_r2000_region_must_have_a_preset_band() {
    let serial = |region: &str| {
        format!("{STORE}{ZONES}[[reader]]\nname = \"gate\"\nkind = \"r2000\"\ndevice = \"/dev/ttyS1\"\nregion = \"{region}\"\nantennas = {{ 1 = \"floor\" }}\n{MQTT}")
    };
    check_one(
        &serial("jp"),
        "11:10",
        "reader `gate`: region `jp` has no preset band on R2000 modules (use one of na, eu, cn",
    );
    let config = valid(&serial("cn"));
    let ReaderLink::Serial(link) = &config.readers[0].link else {
        panic!("serial")
    };
    assert_eq!(
        link.module,
        SerialModule::R2000 {
            region: Some(R2000Region::Cn)
        }
    );
}

#[test]
fn reader_kind_must_be_known() {
    let reader = READER.replace("\"llrp\"", "\"impinj\"");
    check_one(
        &format!("{STORE}{ZONES}{reader}{MQTT}"),
        "9:8",
        "unknown variant `impinj`",
    );
}

// ---- sku-map --------------------------------------------------------------------------------

#[test]
fn sku_map_prefixes_are_hex_and_unique_ignoring_case() {
    let base = format!("{STORE}{ZONES}{READER}");
    let config = valid(&format!(
        "{base}[[sku-map]]\nepc-prefix = \"e2801160\"\nsku = \"legacy\"\n{MQTT}"
    ));
    assert_eq!(config.sku_map[0].epc_prefix, "E2801160");
    check_one(
        &format!("{base}[[sku-map]]\nepc-prefix = \"E28G\"\nsku = \"legacy\"\n{MQTT}"),
        "13:14",
        "invalid epc-prefix `E28G`: it is not hex",
    );
    check(
        &format!(
            "{base}[[sku-map]]\nepc-prefix = \"E280\"\nsku = \"a\"\n[[sku-map]]\nepc-prefix = \"e280\"\nsku = \"b\"\n{MQTT}"
        ),
        &["t.toml:16:14: sku-map epc-prefix `E280` is declared twice (first at line 13)"],
    );
}

// ---- mqtt -----------------------------------------------------------------------------------

fn with_mqtt(keys: &str) -> String {
    format!("{STORE}{ZONES}{READER}[mqtt]\nurl = \"mqtts://broker.hq.example\"\n{keys}")
}

#[test]
fn the_url_scheme_is_mqtt_or_mqtts() {
    check_one(
        &format!("{STORE}{ZONES}{READER}[mqtt]\nurl = \"https://broker\"\n"),
        "13:7",
        "invalid mqtt url `https://broker`: scheme `https` is not mqtt or mqtts",
    );
}

#[test]
fn an_inline_password_gets_its_own_message() {
    check(
        &with_mqtt("username = \"paris-01\"\npassword = \"hunter2\"\n"),
        &["t.toml:15:12: inline secrets are not accepted: put the mqtt password in a file that only tagtally can read and name that file with `password-file`"],
    );
    check_one(
        &format!("{STORE}{ZONES}{READER}[mqtt]\nurl = \"mqtts://paris:hunter2@broker\"\n"),
        "13:7",
        "credentials do not belong in the url",
    );
}

#[test]
fn a_password_file_needs_a_username() {
    check_one(
        &with_mqtt("password-file = \"/etc/tagtally/mqtt.password\"\n"),
        "14:17",
        "`password-file` needs `username`",
    );
}

#[test]
fn tls_files_need_mqtts_and_come_in_pairs() {
    check(
        &format!(
            "{STORE}{ZONES}{READER}[mqtt]\nurl = \"mqtt://broker\"\nca-file = \"/etc/ca.pem\"\n"
        ),
        &["t.toml:14:11: `ca-file` needs an mqtts:// url, but the url is plain mqtt://"],
    );
    check_one(
        &with_mqtt("client-cert = \"/etc/c.pem\"\n"),
        "14:15",
        "`client-cert` needs `client-key`",
    );
    check_one(
        &with_mqtt("client-key = \"/etc/c.key\"\n"),
        "14:14",
        "`client-key` needs `client-cert`",
    );
}

#[test]
fn mqtt_extras_have_defaults_and_bounds() {
    let config = valid(&with_mqtt("protocol = 5\nkeep-alive = \"30s\"\noutbox-max-bytes = 2097152\nreconnect-backoff-max = \"2m\"\n"));
    assert_eq!(config.mqtt.protocol, MqttProtocol::V5);
    assert_eq!(config.mqtt.keep_alive, Duration::from_secs(30));
    assert_eq!(config.mqtt.outbox_max_bytes, 2_097_152);
    assert_eq!(config.mqtt.reconnect_backoff_max, Duration::from_secs(120));
    assert_eq!(
        valid(&with_mqtt("protocol = \"5\"\n")).mqtt.protocol,
        MqttProtocol::V5
    );
    check_one(
        &with_mqtt("protocol = \"4\"\n"),
        "14:12",
        "expected \"3.1.1\" or \"5\"",
    );
    check_one(
        &with_mqtt("keep-alive = \"500ms\"\n"),
        "14:14",
        "keep-alive must be whole seconds from 1s to 65535s",
    );
    check_one(
        &with_mqtt("outbox-max-bytes = 1000\n"),
        "14:20",
        "outbox-max-bytes must be at least 1048576",
    );
}

#[test]
fn topic_prefix_and_client_id_are_checked() {
    check_one(
        &with_mqtt("topic-prefix = \"tagtally/#\"\n"),
        "14:16",
        "wildcards",
    );
    check_one(
        &with_mqtt("client-id = \"\"\n"),
        "14:13",
        "invalid client-id ``: it is empty",
    );
    assert_eq!(
        valid(&with_mqtt("client-id = \"gw-7\"\n")).mqtt.client_id,
        "gw-7"
    );
}

// ---- many problems at once ------------------------------------------------------------------

#[test]
fn problems_in_different_tables_are_all_reported_in_file_order() {
    let text = format!(
        "{STORE}{ZONES}\
         [[reader]]\nname = \"r1\"\nkind = \"llrp\"\nadress = \"10.0.0.1\"\nantennas = {{ 1 = \"floor\" }}\n\
         [[reader]]\nname = \"r2\"\nkind = \"llrp\"\naddress = \"10.0.0.2\"\nantennas = {{ 1 = \"cellar\" }}\n\
         [mqtt]\nurl = \"http://broker\"\n"
    );
    let lines = error_lines(&text);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].starts_with("t.toml:10:1: unknown field `adress`"),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with("t.toml:16:18: reader `r2` maps antenna 1 to zone `cellar`"),
        "{lines:#?}"
    );
    assert!(
        lines[2].starts_with("t.toml:18:7: invalid mqtt url"),
        "{lines:#?}"
    );
}

#[test]
fn config_errors_display_one_problem_per_line() {
    let errors: ConfigErrors = Config::from_str("", "t.toml").unwrap_err();
    assert_eq!(
        errors.to_string(),
        "t.toml:1:1: missing required key `store`\nt.toml:1:1: missing required section [mqtt]"
    );
}

// ---- the file system ------------------------------------------------------------------------

#[cfg(unix)]
mod files {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn write(path: &Path, content: &str, mode: u32) {
        fs::write(path, content).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_missing_config_file_is_one_clear_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.toml");
        let errors = Config::load(&path).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(
            errors.to_string(),
            format!(
                "{}: cannot read the config file: No such file or directory (os error 2)",
                path.display()
            )
        );
    }

    #[test]
    fn a_world_writable_config_is_refused_along_with_its_other_problems() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        write(
            &path,
            &format!("{STORE}log-level = \"loud\"\n{ZONES}{READER}{MQTT}"),
            0o666,
        );
        let lines: Vec<String> = Config::load(&path)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].ends_with("the config file is writable by every user (mode 0666): anyone could redirect the readers or the uplink; run `chmod o-w` on it"));
        assert!(
            lines[1].contains(":2:13: unknown variant `loud`"),
            "{lines:#?}"
        );
    }

    #[test]
    fn named_files_are_checked_relative_to_the_config_and_located_at_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        let text = with_mqtt(
            "username = \"u\"\npassword-file = \"mqtt.password\"\nca-file = \"ca.pem\"\n",
        );
        write(&path, &text, 0o640);
        let lines: Vec<String> = Config::load(&path)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].contains(":15:17: `password-file`"), "{lines:#?}");
        assert!(
            lines[0].contains("mqtt.password: cannot be read"),
            "{lines:#?}"
        );
        assert!(lines[1].contains(":16:11: `ca-file`"), "{lines:#?}");

        write(&dir.path().join("mqtt.password"), "s3cret\n", 0o644);
        write(&dir.path().join("ca.pem"), "pem", 0o644);
        let lines: Vec<String> = Config::load(&path)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(
            lines[0].contains("is readable by every user (mode 0644)"),
            "{lines:#?}"
        );

        fs::set_permissions(
            dir.path().join("mqtt.password"),
            fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let config = Config::load(&path).unwrap_or_else(|errors| panic!("{errors}"));
        assert_eq!(
            config.mqtt.password_file,
            Some(dir.path().join("mqtt.password"))
        );
    }

    #[test]
    fn skipping_file_checks_is_explicit() {
        let text = with_mqtt("username = \"u\"\npassword-file = \"/nonexistent/pw\"\n");
        assert!(Config::from_str_with(&text, "t.toml", &FileChecks::Skip).is_ok());
        assert!(Config::from_str_with(&text, "t.toml", &FileChecks::Real).is_err());
    }
}

// ---- [epcis] ---------------------------------------------------------------------------------

#[test]
fn epcis_is_off_unless_its_table_is_written() {
    assert!(valid(&format!("{STORE}{ZONES}{READER}{MQTT}"))
        .epcis
        .is_none());
    let config = valid(&format!(
        "{STORE}{ZONES}{READER}{MQTT}[epcis]\nsgln = \"0614141.00777\"\n"
    ));
    let epcis = config.epcis.expect("[epcis]");
    assert_eq!(epcis.gln.expect("gln").to_string(), "0614141.00777");
    let bare = valid(&format!("{STORE}{ZONES}{READER}{MQTT}[epcis]\n"));
    assert_eq!(
        bare.epcis,
        Some(tagtally_config::Epcis {
            gln: None,
            publish: false
        })
    );
    let published = valid(&format!(
        "{STORE}{ZONES}{READER}{MQTT}[epcis]\npublish = true\n"
    ));
    assert!(published.epcis.expect("[epcis]").publish);
}

#[test]
fn a_bad_sgln_and_unknown_epcis_keys_are_located() {
    // Lines: 1 store, 2-6 zones, 7-11 reader, 12-13 mqtt, 14 [epcis], 15 sgln.
    check_one(
        &format!("{STORE}{ZONES}{READER}{MQTT}[epcis]\nsgln = \"0614141.0077\"\n"),
        "15:8",
        "sgln \"0614141.0077\"",
    );
    check_one(
        &format!("{STORE}{ZONES}{READER}{MQTT}[epcis]\nsgln = \"0614141\"\n"),
        "15:8",
        "is not <company prefix>.<location reference>",
    );
    check_one(
        &format!("{STORE}{ZONES}{READER}{MQTT}[epcis]\npublish = \"yes\"\n"),
        "15:11",
        "expected a boolean",
    );
    check_one(
        &format!("{STORE}{ZONES}{READER}{MQTT}[epcis]\npublished = true\n"),
        "15:1",
        "unknown field `published`",
    );
}

#[test]
fn with_an_sgln_every_zone_must_fit_an_sgln_extension() {
    let text = format!(
        "{STORE}[[zone]]\nname = \"a-zone-name-of-21-chr\"\n{ZONES}{READER}{MQTT}[epcis]\nsgln = \"0614141.00777\"\n"
    );
    check_one(
        &text,
        "3:8",
        "zone `a-zone-name-of-21-chr` cannot be named under [epcis] sgln 0614141.00777",
    );
    // Without an SGLN the same zone is fine (its location is a urn:tagtally: URN).
    valid(&format!(
        "{STORE}[[zone]]\nname = \"a-zone-name-of-21-chr\"\n{ZONES}{READER}{MQTT}[epcis]\n"
    ));
}

// ---- zone trust (SPEC §10) ------------------------------------------------------------------

#[test]
fn suspect_after_defaults_to_a_minute_or_half_the_shortest_depart_after() {
    let config = valid(&format!("{STORE}{ZONES}{READER}{MQTT}"));
    assert_eq!(config.zone_trust.suspect_after, Duration::from_secs(60));
    let short =
        "[[zone]]\nname = \"floor\"\ndepart-after = \"30s\"\n\n[[zone]]\nname = \"backroom\"\n";
    let config = valid(&format!("{STORE}{short}{READER}{MQTT}"));
    assert_eq!(config.zone_trust.suspect_after, Duration::from_secs(15));
    let set = "[zone-trust]\nsuspect-after = \"20s\"\n";
    let config = valid(&format!("{STORE}{short}{READER}{set}{MQTT}"));
    assert_eq!(config.zone_trust.suspect_after, Duration::from_secs(20));
}

#[test]
fn suspect_after_must_be_shorter_than_every_depart_after() {
    let short =
        "[[zone]]\nname = \"floor\"\n\n[[zone]]\nname = \"backroom\"\ndepart-after = \"30s\"\n";
    check_one(
        &format!("{STORE}{short}{READER}[zone-trust]\nsuspect-after = \"30s\"\n{MQTT}"),
        "14:17",
        "zone `backroom` departs after 30s",
    );
    check_one(
        &format!("{STORE}{ZONES}{READER}[zone-trust]\nsuspect-after = \"500ms\"\n{MQTT}"),
        "13:17",
        "suspect-after",
    );
    check_one(
        &format!("{STORE}{ZONES}{READER}[zone-trust]\nwindow = \"5s\"\n{MQTT}"),
        "13:1",
        "unknown field `window`",
    );
}

#[test]
fn sentinels_are_per_configured_antenna_in_hex_and_unique() {
    let reader = |sentinels: &str, name: &str| {
        format!("[[reader]]\nname = \"{name}\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\nantennas = {{ 1 = \"floor\", 2 = \"backroom\" }}\nsentinels = {sentinels}\n")
    };
    let config = valid(&format!(
        "{STORE}{ZONES}{}{MQTT}",
        reader(
            "{ 2 = [\"e2801160600002000000a0f1\", \"E2801160600002000000A0F2\"] }",
            "r1"
        )
    ));
    assert_eq!(
        config.readers[0].sentinels[&2],
        vec![
            vec![0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x00, 0x00, 0x00, 0xA0, 0xF1],
            vec![0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x00, 0x00, 0x00, 0xA0, 0xF2],
        ]
    );
    check_one(
        &format!("{STORE}{ZONES}{}{MQTT}", reader("{ 3 = [\"E280\"] }", "r1")),
        "12:15",
        "sentinels for antenna `3`, which is not in its `antennas`",
    );
    check_one(
        &format!("{STORE}{ZONES}{}{MQTT}", reader("{ 1 = [\"E28\"] }", "r1")),
        "12:20",
        "sentinel epc `E28` is not usable: it has an odd number of hex digits",
    );
    check_one(
        &format!(
            "{STORE}{ZONES}{}{}{MQTT}",
            reader("{ 1 = [\"E280\"] }", "r1"),
            reader("{ 2 = [\"e280\"] }", "r2")
        ),
        "18:20",
        "sentinel epc",
    );
    let many: Vec<String> = (0..17).map(|i| format!("\"E2{i:02X}\"")).collect();
    check_one(
        &format!(
            "{STORE}{ZONES}{}{MQTT}",
            reader(&format!("{{ 1 = [{}] }}", many.join(", ")), "r1")
        ),
        "12:148",
        "17 sentinels on one antenna configured, at most 16",
    );
}

#[test]
fn a_handheld_has_no_sentinels() {
    let reader = "[[reader]]\nname = \"sled\"\nkind = \"llrp\"\naddress = \"10.0.0.1\"\nrole = \"handheld\"\nantennas = { 1 = \"floor\" }\nsentinels = { 1 = [\"E280\"] }\n";
    check_one(
        &format!("{STORE}{ZONES}{reader}{MQTT}"),
        "13:13",
        "is a handheld",
    );
}
