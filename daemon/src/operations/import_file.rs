//! Reading a handheld app's export for `count import`: EPCs in hex, one per line, read line by line
//! with a bound on each line, so a file of any size (or one endless line) costs constant memory here.
//!
//! Blank lines are skipped; every other line that is not one EPC in hex (2 to 124 hex digits, an
//! even number, `0x` prefix and surrounding blanks allowed) is junk: counted and skipped, and the
//! first few are kept to show where. Duplicates are the daemon's to merge.

use std::io::{self, BufRead};

use super::bounded_lines::{BoundedLines, RawLine};

/// Longest line considered: an EPC of 496 bits is 124 hex digits; the rest is room for blanks and `\r`.
pub const MAX_LINE_BYTES: usize = 256;
/// Junk lines kept to show (line number and why).
pub const JUNK_SHOWN: usize = 5;

/// What one line was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportLine {
    /// An EPC.
    Epc(Vec<u8>),
    /// Nothing but blanks.
    Blank,
    /// Not an EPC, for this reason.
    Junk(&'static str),
}

/// What an import file held so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportTally {
    /// Lines read.
    pub lines: u64,
    /// Lines holding an EPC (duplicates included).
    pub epcs: u64,
    /// Blank lines.
    pub blank: u64,
    /// Junk lines.
    pub junk: u64,
    /// The first [`JUNK_SHOWN`] junk lines: (line number, why).
    pub junk_shown: Vec<(u64, &'static str)>,
}

impl ImportTally {
    /// Counts one line.
    pub fn count(&mut self, line: &ImportLine) {
        self.lines += 1;
        match line {
            ImportLine::Epc(_) => self.epcs += 1,
            ImportLine::Blank => self.blank += 1,
            ImportLine::Junk(why) => {
                self.junk += 1;
                if self.junk_shown.len() < JUNK_SHOWN {
                    self.junk_shown.push((self.lines, why));
                }
            }
        }
    }
}

/// Classifies one line (without its line end).
pub fn classify(line: &[u8]) -> ImportLine {
    let Ok(text) = std::str::from_utf8(line) else {
        return ImportLine::Junk("not text");
    };
    let text = text.trim();
    if text.is_empty() {
        return ImportLine::Blank;
    }
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return ImportLine::Junk("not hex");
    }
    match tagtally_contract::epc_from_hex(hex) {
        Ok(epc) => ImportLine::Epc(epc),
        Err(_) if !hex.len().is_multiple_of(2) => ImportLine::Junk("odd number of hex digits"),
        Err(_) => ImportLine::Junk("longer than an epc (496 bits)"),
    }
}

/// The lines of an export, each read into a buffer of at most [`MAX_LINE_BYTES`]: a longer line is
/// consumed to its end and reported as junk.
#[derive(Debug)]
pub struct ImportLines<R> {
    lines: BoundedLines<R>,
}

impl<R: BufRead> ImportLines<R> {
    /// Reads lines from `reader`.
    pub fn new(reader: R) -> Self {
        ImportLines {
            lines: BoundedLines::new(reader, MAX_LINE_BYTES),
        }
    }

    /// The next line, classified; `None` at the end of the file.
    pub fn next_line(&mut self) -> io::Result<Option<ImportLine>> {
        Ok(match self.lines.next_line()? {
            None => None,
            Some(RawLine::TooLong) => Some(ImportLine::Junk("longer than any epc line")),
            Some(RawLine::Fits(line)) => Some(classify(line)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8]) -> (Vec<ImportLine>, ImportTally) {
        let mut lines = ImportLines::new(io::BufReader::with_capacity(16, text));
        let mut out = Vec::new();
        let mut tally = ImportTally::default();
        while let Some(line) = lines.next_line().unwrap() {
            tally.count(&line);
            out.push(line);
        }
        (out, tally)
    }

    #[test]
    fn epcs_blanks_and_junk_are_told_apart() {
        let long = "ab".repeat(200);
        let text = format!(
            "3074257BF7194E4000001A85\r\n  0x3074257bf7194e4000001a86 \n\nEPC\n30g4\n307\n{}\n{long}\n\u{0}\u{ff}\nE280",
            "ab".repeat(63)
        );
        let (lines, tally) = all(text.as_bytes());
        assert_eq!(
            lines[0],
            ImportLine::Epc(vec![
                0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0x1A, 0x85
            ])
        );
        assert!(matches!(&lines[1], ImportLine::Epc(e) if e[11] == 0x86));
        assert_eq!(lines[2], ImportLine::Blank);
        assert_eq!(lines[3], ImportLine::Junk("not hex"));
        assert_eq!(lines[4], ImportLine::Junk("not hex"));
        assert_eq!(lines[5], ImportLine::Junk("odd number of hex digits"));
        assert_eq!(lines[6], ImportLine::Junk("longer than an epc (496 bits)"));
        assert_eq!(lines[7], ImportLine::Junk("longer than any epc line"));
        assert_eq!(lines[8], ImportLine::Junk("not hex"));
        assert_eq!(
            lines[9],
            ImportLine::Epc(vec![0xE2, 0x80]),
            "a last line without a line end"
        );
        assert_eq!(
            (tally.lines, tally.epcs, tally.blank, tally.junk),
            (10, 3, 1, 6)
        );
        assert_eq!(tally.junk_shown.len(), JUNK_SHOWN);
        assert_eq!(tally.junk_shown[0], (4, "not hex"));
    }

    #[test]
    fn one_endless_line_costs_one_bounded_buffer() {
        let text = vec![b'a'; 5_000_000];
        let mut lines = ImportLines::new(io::BufReader::new(&text[..]));
        assert_eq!(
            lines.next_line().unwrap(),
            Some(ImportLine::Junk("longer than any epc line"))
        );
        assert!(lines.lines.buffer_capacity() <= 2 * MAX_LINE_BYTES);
        assert_eq!(lines.next_line().unwrap(), None);
    }

    /// A reader of `left` copies of one line, made on the fly: a huge export with no file behind it.
    struct Repeated {
        line: &'static [u8],
        left: u64,
        at: usize,
    }

    impl io::Read for Repeated {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let mut n = 0;
            while n < out.len() && self.left > 0 {
                let take = (self.line.len() - self.at).min(out.len() - n);
                out[n..n + take].copy_from_slice(&self.line[self.at..self.at + take]);
                n += take;
                self.at += take;
                if self.at == self.line.len() {
                    self.at = 0;
                    self.left -= 1;
                }
            }
            Ok(n)
        }
    }

    /// A million lines (8 s in a debug build; the buffer is the same for ten million, which take
    /// 77 s there): memory does not grow with the file.
    #[test]
    fn a_million_lines_are_read_through_one_line_buffer() {
        let reader = Repeated {
            line: b"3074257bf7194e4000001a85\n",
            left: 1_000_000,
            at: 0,
        };
        let mut lines = ImportLines::new(io::BufReader::new(reader));
        let mut tally = ImportTally::default();
        while let Some(line) = lines.next_line().unwrap() {
            tally.count(&line);
        }
        assert_eq!(
            (tally.lines, tally.epcs, tally.junk),
            (1_000_000, 1_000_000, 0)
        );
        assert!(lines.lines.buffer_capacity() <= 2 * MAX_LINE_BYTES);
    }
}
