//! Reading a file line by line with a bound on each line, so a file of any size (or one endless line) costs constant memory: what `count import` and `expected import` share.

use std::io::{self, BufRead};

/// One line as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawLine<'a> {
    /// The line without its `\n` (a `\r` before it is kept).
    Fits(&'a [u8]),
    /// Longer than the bound: consumed to its end, its bytes not kept.
    TooLong,
}

/// The lines of a reader, each read into a buffer of at most `max` bytes.
#[derive(Debug)]
pub struct BoundedLines<R> {
    reader: R,
    line: Vec<u8>,
    max: usize,
}

impl<R: BufRead> BoundedLines<R> {
    /// Reads lines of at most `max` bytes from `reader`.
    pub fn new(reader: R, max: usize) -> Self {
        BoundedLines {
            reader,
            line: Vec::with_capacity(max),
            max,
        }
    }

    /// What the line buffer holds room for (never grows past the bound's order).
    #[cfg(test)]
    pub fn buffer_capacity(&self) -> usize {
        self.line.capacity()
    }

    /// The next line; `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<RawLine<'_>>> {
        self.line.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            any = true;
            let (take, end) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (buf.len(), false),
            };
            if !too_long {
                if self.line.len() + take > self.max {
                    too_long = true;
                } else {
                    self.line.extend_from_slice(&buf[..take]);
                }
            }
            self.reader.consume(take + usize::from(end));
            if end {
                break;
            }
        }
        Ok(match (any, too_long) {
            (false, _) => None,
            (true, true) => Some(RawLine::TooLong),
            (true, false) => Some(RawLine::Fits(&self.line)),
        })
    }
}
