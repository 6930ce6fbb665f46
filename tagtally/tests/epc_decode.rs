//! Black-box tests of `tagtally epc decode`: the SPEC §5.1 JSON, stdin mode, bad input and exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const SPEC_EXAMPLE: &str = concat!(
    r#"{"epc":"3074257bf7194e4000001a85","bits":96,"scheme":"sgtin-96","filter":3,"#,
    r#""company_prefix":"0614141","item_ref":"812345","serial":"6789","gtin":"80614141123458","#,
    r#""tag_uri":"urn:epc:tag:sgtin-96:3.0614141.812345.6789","#,
    r#""pure_identity":"urn:epc:id:sgtin:0614141.812345.6789","sku":"80614141123458"}"#
);

fn tagtally(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tagtally");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("wait")
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .expect("utf-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn json_of_the_spec_example_is_exact() {
    let out = tagtally(
        &["epc", "decode", "--json", "3074257bf7194e4000001a85"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout_lines(&out), [SPEC_EXAMPLE]);
}

#[test]
fn upper_case_spaced_and_prefixed_hex_give_the_same_json() {
    let out = tagtally(
        &[
            "epc",
            "decode",
            "--json",
            "0x3074257BF7194E4000001A85",
            "30 74 25 7b f7 19 4e 40 00 00 1a 85",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout_lines(&out), [SPEC_EXAMPLE, SPEC_EXAMPLE]);
}

#[test]
fn stdin_mode_decodes_each_line_in_order_and_skips_blank_lines() {
    let input =
        "3074257bf7194e4000001a85\n\n   \r\nE2801160600002054E3C1C0B\r\n3374257BF40C0E400000162E";
    let out = tagtally(&["epc", "decode", "--json"], Some(input));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], SPEC_EXAMPLE);
    assert_eq!(
        lines[1],
        r#"{"epc":"e2801160600002054e3c1c0b","bits":96,"scheme":"unknown","tag_uri":"urn:epc:raw:96.xE2801160600002054E3C1C0B","sku":"unknown"}"#
    );
    let grai: serde_json::Value = serde_json::from_str(&lines[2]).expect("json");
    assert_eq!(grai["scheme"], "grai-96");
    assert_eq!(grai["sku"], "urn:epc:idpat:grai:0614141.12345.*");
    assert!(
        grai.get("gtin").is_none(),
        "fields a scheme lacks are omitted"
    );
}

#[test]
fn bad_hex_is_reported_in_place_the_rest_decoded_and_exit_is_65() {
    let input = "3074257bf7194e4000001a85\nnot-an-epc\n307\n300833B2DDD9014000000001\n";
    let out = tagtally(&["epc", "decode", "--json"], Some(input));
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], SPEC_EXAMPLE);
    assert_eq!(
        lines[1],
        r#"{"input":"not-an-epc","error":"not hex: 'n' at character 0"}"#
    );
    assert_eq!(
        lines[2],
        r#"{"input":"307","error":"odd number of hex digits (3)"}"#
    );
    let r2000: serde_json::Value = serde_json::from_str(&lines[3]).expect("json");
    assert_eq!(r2000["gtin"], "00867360217055");
}

#[test]
fn bad_argument_also_exits_65() {
    let out = tagtally(
        &["epc", "decode", "--json", "xyz", "3074257bf7194e4000001a85"],
        None,
    );
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    assert_eq!(
        stdout_lines(&out),
        [
            r#"{"input":"xyz","error":"not hex: 'x' at character 0"}"#,
            SPEC_EXAMPLE
        ]
    );
}

#[test]
fn invalid_epc_has_an_error_and_no_gtin_but_is_not_bad_input() {
    let out = tagtally(
        &["epc", "decode", "--json", "307C257BF7194E4000001A85"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        stdout_lines(&out),
        [concat!(
            r#"{"epc":"307c257bf7194e4000001a85","bits":96,"scheme":"invalid","#,
            r#""error":"sgtin-96: partition 7 is reserved (valid: 0-6)","#,
            r#""tag_uri":"urn:epc:raw:96.x307C257BF7194E4000001A85","sku":"unknown"}"#
        )]
    );
}

#[test]
fn human_output_is_an_aligned_block_per_epc() {
    let out = tagtally(
        &[
            "epc",
            "decode",
            "3074257bf7194e4000001a85",
            "E280116060000205",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let blocks: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{text}");
    assert!(blocks[0].contains("\nscheme          sgtin-96\n"), "{text}");
    assert!(
        blocks[0].contains("\ngtin            80614141123458\n"),
        "{text}"
    );
    assert!(blocks[0].contains("\ncompany_prefix  0614141\n"), "{text}");
    assert!(blocks[1].contains("\nscheme          unknown\n"), "{text}");
}

/// Every scheme through the command: the independent golden vectors (`protocol/tests/golden/epc`,
/// from epcpy) on stdin, one process; each legal vector prints epcpy's URIs and a SKU, each illegal
/// one `invalid` with an error, none is bad input.
#[test]
fn every_scheme_of_the_golden_vectors_decodes_as_epcpy_says() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocol/tests/golden/epc/epcpy_vectors.tsv"
    );
    let text = std::fs::read_to_string(path).expect("golden vectors");
    let vectors: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
        .collect();
    let input: String = vectors.iter().map(|v| format!("{}\n", v[0])).collect();
    let out = tagtally(&["epc", "decode", "--json"], Some(&input));
    assert_eq!(out.status.code(), Some(0), "{:?}", out.status);
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), vectors.len());
    let mut schemes = std::collections::BTreeSet::new();
    for (line, v) in lines.iter().zip(&vectors) {
        let json: serde_json::Value = serde_json::from_str(line).expect("json");
        assert_eq!(json["epc"], v[0].to_ascii_lowercase(), "{line}");
        if v[1] == "invalid" {
            assert_eq!(json["scheme"], "invalid", "{line} ({})", v[2]);
            assert!(
                json["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{line}"
            );
            assert_eq!(json["sku"], "unknown", "{line}");
        } else {
            assert_eq!(json["tag_uri"], v[1], "{line}");
            assert_eq!(json["pure_identity"], v[2], "{line}");
            let scheme = json["scheme"].as_str().expect("scheme");
            assert!(
                v[1].starts_with(&format!("urn:epc:tag:{scheme}:")),
                "{line}"
            );
            let sku = json["sku"].as_str().expect("sku");
            match json.get("gtin") {
                Some(gtin) => assert_eq!(gtin, sku, "{line}"),
                None => assert!(
                    sku.starts_with("urn:epc:idpat:") && sku.ends_with(".*"),
                    "{line}"
                ),
            }
            schemes.insert(scheme.to_owned());
        }
    }
    assert_eq!(schemes.len(), 21, "{schemes:?}");
}
