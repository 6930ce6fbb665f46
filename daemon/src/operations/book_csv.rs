//! Reading a book stock file for `tagtally expected import FILE` (and `[replenish] min-file`): CSV `sku,count`, one SKU per line, an optional `sku,count` (or `sku,min`) header, read line by line with a bound on each line and on the SKUs, so a file of any size costs bounded memory.
//!
//! Unlike a handheld export, a book stock is all or nothing: the first bad line (junk, a negative
//! or non-numeric count, a SKU given twice, one SKU too many) refuses the whole file with its line
//! number, and the book stock in force stays as it is. Blank lines are skipped; a `\r` before the
//! line end and blanks around each field are allowed.

use std::io::{self, BufRead};

use tagtally_contract::MAX_BOOK_SKU_CHARS;

use super::book_stock::{BookBuilder, BookError};
use super::bounded_lines::{BoundedLines, RawLine};

/// Longest line considered: the longest SKU in bytes (4 per character), a comma, a count and blanks.
pub const MAX_BOOK_LINE_BYTES: usize = MAX_BOOK_SKU_CHARS * 4 + 64;

/// Why a book stock file is refused.
#[derive(Debug, thiserror::Error)]
pub enum BookCsvError {
    /// The file could not be read.
    #[error("cannot read it: {0}")]
    Read(#[from] io::Error),
    /// A line that is not `sku,count`.
    #[error("line {line}: {why}")]
    Junk {
        /// The line number, from 1.
        line: u64,
        /// What is wrong.
        why: &'static str,
    },
    /// A line whose SKU or count breaks the book stock rules.
    #[error("line {line}: {error}")]
    Book {
        /// The line number, from 1.
        line: u64,
        /// What is wrong.
        error: BookError,
    },
    /// No SKU at all.
    #[error("it holds no sku,count line")]
    Empty,
}

/// Reads a whole book stock file; the items, or the first reason to refuse it.
pub fn read_book_csv(reader: impl BufRead) -> Result<BookBuilder, BookCsvError> {
    let mut lines = BoundedLines::new(reader, MAX_BOOK_LINE_BYTES);
    let mut book = BookBuilder::default();
    let mut number = 0u64;
    while let Some(raw) = lines.next_line()? {
        number += 1;
        let junk = |why| BookCsvError::Junk { line: number, why };
        let line = match raw {
            RawLine::TooLong => return Err(junk("longer than any sku,count line")),
            RawLine::Fits(line) => std::str::from_utf8(line).map_err(|_| junk("not utf-8 text"))?,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((sku, count)) = line.split_once(',') else {
            return Err(junk("not sku,count (no comma)"));
        };
        let (sku, count) = (sku.trim(), count.trim());
        let header = count.eq_ignore_ascii_case("count") || count.eq_ignore_ascii_case("min");
        if number == 1 && sku.eq_ignore_ascii_case("sku") && header {
            continue;
        }
        if count.contains(',') {
            return Err(junk("more than two fields"));
        }
        if count.starts_with('-') {
            return Err(junk("a negative count"));
        }
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(junk("the count is not a whole number"));
        }
        // All digits: only an absurd length fails to parse, and that is too large anyway.
        let count = count.parse::<u64>().unwrap_or(u64::MAX);
        book.add(sku, count).map_err(|error| BookCsvError::Book {
            line: number,
            error,
        })?;
    }
    if book.is_empty() {
        return Err(BookCsvError::Empty);
    }
    Ok(book)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::BookSource;
    use tagtally_contract::MAX_BOOK_SKUS;

    fn read(text: &str) -> Result<Vec<(String, u32)>, String> {
        read_book_csv(io::BufReader::with_capacity(16, text.as_bytes()))
            .map(|b| b.finish("i".into(), "t".into(), BookSource::Import).items)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_good_file_with_header_blanks_and_crlf_reads_whole() {
        assert_eq!(
            read("sku,count\r\n80614141123458, 3\r\n\r\n  b ,0\n"),
            Ok(vec![("80614141123458".into(), 3), ("b".into(), 0)])
        );
    }

    #[test]
    fn every_bad_line_refuses_the_file_with_its_number() {
        for (text, expected) in [
            ("a,1\njunk\n", "line 2: not sku,count (no comma)"),
            ("a,-3\n", "line 1: a negative count"),
            ("a,1.5\n", "line 1: the count is not a whole number"),
            ("a,\n", "line 1: the count is not a whole number"),
            ("a,1,2\n", "line 1: more than two fields"),
            ("a,1\nb,2\na,3\n", "line 3: sku `a` is given twice"),
            (",1\n", "line 1: sku ``: the sku is empty"),
            (
                "a,99999999999999999999999\n",
                "line 1: sku `a`: count 18446744073709551615 is larger than 1000000",
            ),
            (
                "x,1\nsku,count\n",
                "line 2: the count is not a whole number",
            ),
            ("\n\n", "it holds no sku,count line"),
            ("sku,count\n", "it holds no sku,count line"),
        ] {
            assert_eq!(read(text), Err(expected.to_owned()), "{text:?}");
        }
        let long = format!("{},1\n", "x".repeat(MAX_BOOK_LINE_BYTES));
        assert_eq!(
            read(&long),
            Err("line 1: longer than any sku,count line".to_owned())
        );
        assert_eq!(
            read("a,1\n\u{fffd}\u{0},2\n"),
            Err("line 2: sku `\u{fffd}\u{0}`: the sku contains control characters or leading or trailing blanks".to_owned())
        );
    }

    /// Two million lines: refused at the first SKU past the bound, reading no further.
    #[test]
    fn two_million_rows_are_refused_past_the_bound() {
        struct Rows(u64);
        impl io::Read for Rows {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0 >= 2_000_000 {
                    return Ok(0);
                }
                let line = format!("{:014},1\n", self.0);
                self.0 += 1;
                let n = line.len().min(out.len());
                out[..n].copy_from_slice(&line.as_bytes()[..n]);
                Ok(n)
            }
        }
        let error = read_book_csv(io::BufReader::new(Rows(0))).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "line {}: more than {MAX_BOOK_SKUS} skus in one book stock",
                MAX_BOOK_SKUS + 1
            )
        );
    }
}
