//! Shared helpers for the protocol crate's integration tests: loading annotated golden frames.
//!
//! A golden frame file (`tests/golden/<family>/<name>.frame`) holds one frame as hex byte pairs,
//! spread over lines, each line optionally followed by a `#` comment that annotates the field:
//!
//! ```text
//! # RO_ACCESS_REPORT with one EPC-96 tag report
//! 04 3D          # rsvd=0 ver=1 type=61
//! 00 00 00 29    # length 41
//! ```
//!
//! Whitespace between pairs is free; a line holding only a comment is skipped.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The folder of golden frames for one protocol family.
pub fn golden_dir(family: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(family)
}

/// Parses the annotated hex of a golden frame; panics with the file and line on bad hex (test data bug).
pub fn parse_frame(text: &str, origin: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let data = line.split('#').next().unwrap_or("");
        let digits: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            digits.len().is_multiple_of(2),
            "{origin}:{}: odd number of hex digits",
            n + 1
        );
        for pair in digits.as_bytes().chunks(2) {
            let s = std::str::from_utf8(pair).expect("ascii");
            let b = u8::from_str_radix(s, 16)
                .unwrap_or_else(|_| panic!("{origin}:{}: bad hex {s:?}", n + 1));
            bytes.push(b);
        }
    }
    bytes
}

/// Loads `tests/golden/<family>/<name>.frame`.
pub fn load_frame(family: &str, name: &str) -> Vec<u8> {
    let path = golden_dir(family).join(format!("{name}.frame"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_frame(&text, &path.display().to_string())
}

/// Every `*.frame` file of a family, sorted by name, as (name, bytes).
pub fn all_frames(family: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(golden_dir(family))
        .unwrap_or_else(|e| panic!("cannot list golden/{family}: {e}"))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "frame").then(|| {
                let name = path.file_stem()?.to_string_lossy().into_owned();
                Some((name.clone(), load_frame(family, &name)))
            })?
        })
        .collect();
    out.sort();
    out
}
