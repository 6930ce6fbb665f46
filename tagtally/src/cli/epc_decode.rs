//! `tagtally epc decode`: decode EPCs to scheme, fields, URIs and SKU (SPEC §5.1).
//!
//! Input: each argument is one EPC; with no arguments, each non-blank stdin line is one. An EPC is
//! hex digits in either case, optionally prefixed `0x`, with any spaces or tabs between them (reader
//! tools print `30 74 25 …`); at most 496 bits (the Gen2 maximum). Anything else is reported per
//! input as `{"input":…,"error":…}` and makes the exit code 65 once everything else was decoded.
//! An EPC that decodes as `invalid` is a finding about the tag, not bad input: it exits 0.
//!
//! The SKU shown is the one the daemon counts without a `[[sku-map]]`: `unknown` for EPCs with no
//! decodable GS1 identity.

use super::EpcDecodeArgs;
use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::process::ExitCode;
use tagtally::exit;
use tagtally_protocol::epc::{self, ReportValue};
use tagtally_protocol::hex::Hex;

/// The longest EPC a Gen2 tag holds.
const MAX_EPC_BITS: usize = 496;
/// Longest stdin line read; the rest of a longer line is skipped and the line reported as bad.
const MAX_LINE_BYTES: usize = 4096;

/// Why an input is not an EPC in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
enum InputError {
    Empty,
    NotHex { position: usize, found: char },
    OddDigits(usize),
    TooLong(usize),
    LineTooLong,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Empty => write!(f, "no hex digits"),
            InputError::NotHex { position, found } => {
                write!(f, "not hex: {found:?} at character {position}")
            }
            InputError::OddDigits(n) => write!(f, "odd number of hex digits ({n})"),
            InputError::TooLong(bits) => {
                write!(
                    f,
                    "{bits} bits is longer than an epc can be ({MAX_EPC_BITS})"
                )
            }
            InputError::LineTooLong => write!(f, "line longer than {MAX_LINE_BYTES} bytes"),
        }
    }
}

/// Parses one EPC in hex: optional `0x`, spaces and tabs ignored, at most 496 bits.
fn parse_hex(input: &str) -> Result<Vec<u8>, InputError> {
    let trimmed = input.trim();
    let body = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let mut nibbles = Vec::with_capacity(body.len());
    for (position, c) in body.chars().enumerate() {
        if c == ' ' || c == '\t' {
            continue;
        }
        match c.to_digit(16) {
            Some(d) => nibbles.push(d as u8),
            None => return Err(InputError::NotHex { position, found: c }),
        }
    }
    if nibbles.is_empty() {
        return Err(InputError::Empty);
    }
    if !nibbles.len().is_multiple_of(2) {
        return Err(InputError::OddDigits(nibbles.len()));
    }
    if nibbles.len() * 4 > MAX_EPC_BITS {
        return Err(InputError::TooLong(nibbles.len() * 4));
    }
    Ok(nibbles.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// One input's result, ready to print either way.
enum Outcome {
    Decoded {
        hex: String,
        report: Vec<(&'static str, ReportValue)>,
    },
    Bad {
        input: String,
        error: InputError,
    },
}

fn outcome(input: Result<String, (String, InputError)>) -> Outcome {
    let parsed = input.and_then(|text| parse_hex(&text).map_err(|e| (text, e)));
    match parsed {
        Ok(bytes) => Outcome::Decoded {
            hex: format!("{:x}", Hex(&bytes)),
            report: epc::decode(&bytes).report(),
        },
        Err((input, error)) => Outcome::Bad { input, error },
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// One compact JSON object, keys in SPEC §5.1 order (serde_json's map would sort them).
fn json_line(outcome: &Outcome) -> String {
    let mut fields: Vec<(&str, String)> = Vec::new();
    match outcome {
        Outcome::Decoded { hex, report } => {
            fields.push(("epc", json_string(hex)));
            for (key, value) in report {
                let value = match value {
                    ReportValue::Number(n) => n.to_string(),
                    ReportValue::Text(t) => json_string(t),
                };
                fields.push((key, value));
            }
        }
        Outcome::Bad { input, error } => {
            fields.push(("input", json_string(input)));
            fields.push(("error", json_string(&error.to_string())));
        }
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", json_string(k)))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// A block of `key  value` lines, values aligned.
fn human_block(outcome: &Outcome) -> String {
    let rows: Vec<(&str, String)> = match outcome {
        Outcome::Decoded { hex, report } => std::iter::once(("epc", hex.clone()))
            .chain(report.iter().map(|(k, v)| {
                let v = match v {
                    ReportValue::Number(n) => n.to_string(),
                    ReportValue::Text(t) => t.clone(),
                };
                (*k, v)
            }))
            .collect(),
        Outcome::Bad { input, error } => {
            vec![("input", input.clone()), ("error", error.to_string())]
        }
    };
    // One column for every block, so a stream of blocks reads as a table.
    let width = rows
        .iter()
        .map(|(k, _)| k.len())
        .fold("company_prefix".len(), usize::max);
    rows.iter()
        .map(|(k, v)| format!("{k:width$}  {v}\n"))
        .collect()
}

/// Reads one line of at most `MAX_LINE_BYTES`; `None` at end of input. Longer lines are drained.
fn read_line(
    reader: &mut impl BufRead,
) -> io::Result<Option<Result<String, (String, InputError)>>> {
    let mut buf = Vec::new();
    let n = Read::take(&mut *reader, MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES {
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let m = Read::take(&mut *reader, MAX_LINE_BYTES as u64).read_until(b'\n', &mut rest)?;
            if m == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
        buf.truncate(64);
        let shown = format!("{}…", String::from_utf8_lossy(&buf));
        return Ok(Some(Err((shown, InputError::LineTooLong))));
    }
    let text = String::from_utf8_lossy(&buf);
    Ok(Some(Ok(text.trim_end_matches(['\n', '\r']).to_owned())))
}

fn emit(out: &mut impl Write, json: bool, first: bool, outcome: &Outcome) -> io::Result<()> {
    if json {
        writeln!(out, "{}", json_line(outcome))
    } else {
        if !first {
            writeln!(out)?;
        }
        write!(out, "{}", human_block(outcome))
    }
}

/// Runs `epc decode`.
pub fn run(args: &EpcDecodeArgs) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut bad = false;
    let mut first = true;
    let mut handle = |outcome: Outcome, out: &mut io::BufWriter<io::StdoutLock<'_>>| {
        bad |= matches!(outcome, Outcome::Bad { .. });
        let written = emit(out, args.json, first, &outcome);
        first = false;
        written
    };
    let result: io::Result<()> = (|| {
        if args.hex.is_empty() {
            let stdin = io::stdin();
            let mut reader = stdin.lock();
            while let Some(line) = read_line(&mut reader)? {
                if matches!(&line, Ok(text) if text.trim().is_empty()) {
                    continue;
                }
                handle(outcome(line), &mut out)?;
            }
        } else {
            for arg in &args.hex {
                handle(outcome(Ok(arg.clone())), &mut out)?;
            }
        }
        out.flush()
    })();
    if let Err(e) = result {
        // A closed pipe (`| head`) is the reader's choice, not a failure worth a message.
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("tagtally epc decode: {e}");
        }
        return exit::code(exit::IO_ERR);
    }
    exit::code(if bad { exit::DATA_ERR } else { exit::OK })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        assert_eq!(parse_hex("0x30 74"), Ok(vec![0x30, 0x74]));
        assert_eq!(parse_hex(" 3074\t"), Ok(vec![0x30, 0x74]));
        assert_eq!(parse_hex("0X3a"), Ok(vec![0x3A]));
        assert_eq!(parse_hex(""), Err(InputError::Empty));
        assert_eq!(parse_hex("0x"), Err(InputError::Empty));
        assert_eq!(parse_hex("307"), Err(InputError::OddDigits(3)));
        assert_eq!(
            parse_hex("30z4"),
            Err(InputError::NotHex {
                position: 2,
                found: 'z'
            })
        );
        assert_eq!(parse_hex(&"00".repeat(62)).map(|b| b.len()), Ok(62));
        assert_eq!(parse_hex(&"00".repeat(63)), Err(InputError::TooLong(504)));
    }

    #[test]
    fn long_lines_are_drained_and_reported() {
        let mut input = io::Cursor::new(format!("{}\n3074\n", "a".repeat(10_000)));
        let first = read_line(&mut input).expect("io");
        assert!(matches!(first, Some(Err((_, InputError::LineTooLong)))));
        assert_eq!(
            read_line(&mut input).expect("io"),
            Some(Ok("3074".to_owned()))
        );
        assert_eq!(read_line(&mut input).expect("io"), None);
    }
}
