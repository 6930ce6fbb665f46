//! Aligned plain-text tables for the technician commands, coloured only on a terminal.

use std::io::IsTerminal;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// How a cell is highlighted on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// No highlight.
    Plain,
    /// Working as it should (green).
    Good,
    /// Needs attention (yellow).
    Warn,
    /// Broken (red).
    Bad,
}

/// One cell: its text and how to highlight it.
#[derive(Debug, Clone)]
pub struct Cell {
    text: String,
    tone: Tone,
}

impl Cell {
    /// A cell with `tone`.
    pub fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Cell {
            text: text.into(),
            tone,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::toned(text, Tone::Plain)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::toned(text, Tone::Plain)
    }
}

/// A table: optional header row, then rows; columns separated by two spaces.
#[derive(Debug)]
pub struct Table {
    header: Option<Vec<String>>,
    aligns: Vec<Align>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with a header row naming `columns`.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Table {
            header: Some(columns.iter().map(|(name, _)| (*name).to_owned()).collect()),
            aligns: columns.iter().map(|(_, align)| *align).collect(),
            rows: Vec::new(),
        }
    }

    /// A table without a header row (e.g. `key  value` lines).
    pub fn headless(aligns: &[Align]) -> Self {
        Table {
            header: None,
            aligns: aligns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing trailing cells are blank, extra ones are ignored.
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, each ending in a newline. With `colour`, the
    /// header is bold and toned cells are coloured; widths count only the visible text.
    pub fn render(&self, colour: bool) -> String {
        let columns = self.aligns.len();
        let mut widths = vec![0usize; columns];
        let header_cells = self.header.as_ref().map(|header| {
            header
                .iter()
                .map(|name| Cell::from(name.as_str()))
                .collect::<Vec<_>>()
        });
        for row in header_cells.iter().chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.text.chars().count());
            }
        }
        let mut out = String::new();
        if let Some(header) = &header_cells {
            self.render_row(header, &widths, colour.then_some(BOLD), colour, &mut out);
        }
        for row in &self.rows {
            self.render_row(row, &widths, None, colour, &mut out);
        }
        out
    }

    fn render_row(
        &self,
        row: &[Cell],
        widths: &[usize],
        row_style: Option<&str>,
        colour: bool,
        out: &mut String,
    ) {
        let blank = Cell::from("");
        let mut line = String::new();
        let last = widths.len().saturating_sub(1);
        for (column, (width, align)) in widths.iter().zip(&self.aligns).enumerate() {
            let cell = row.get(column).unwrap_or(&blank);
            let pad = " ".repeat(width.saturating_sub(cell.text.chars().count()));
            let style = row_style.or(if colour { tone_code(cell.tone) } else { None });
            let text = match style {
                Some(code) => format!("\x1b[{code}m{}\x1b[0m", cell.text),
                None => cell.text.clone(),
            };
            if column > 0 {
                line.push_str("  ");
            }
            match align {
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(&text);
                }
                Align::Left => {
                    line.push_str(&text);
                    // Trailing blanks on the last column are noise in logs and diffs.
                    if column != last {
                        line.push_str(&pad);
                    }
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

const BOLD: &str = "1";

fn tone_code(tone: Tone) -> Option<&'static str> {
    match tone {
        Tone::Plain => None,
        Tone::Good => Some("32"),
        Tone::Warn => Some("33"),
        Tone::Bad => Some("31"),
    }
}

/// Whether stdout gets colour: a terminal, not `TERM=dumb`, and no `NO_COLOR` (no-color.org).
pub fn colour_on_stdout() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
    std::io::stdout().is_terminal() && !no_color && !dumb
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut table = Table::new(&[("ZONE", Align::Left), ("COUNT", Align::Right)]);
        table.row(vec!["floor".into(), "7".into()]);
        table.row(vec![
            Cell::toned("backroom", Tone::Warn),
            Cell::from("120".to_owned()),
        ]);
        table
    }

    #[test]
    fn columns_line_up_without_trailing_blanks() {
        assert_eq!(
            sample().render(false),
            "ZONE      COUNT\nfloor         7\nbackroom    120\n"
        );
        let mut pairs = Table::headless(&[Align::Left, Align::Left]);
        pairs.row(vec!["store".into(), "paris-01".into()]);
        pairs.row(vec!["tags present".into()]);
        assert_eq!(
            pairs.render(false),
            "store         paris-01\ntags present\n"
        );
    }

    #[test]
    fn colour_codes_do_not_count_towards_widths() {
        assert_eq!(
            sample().render(true),
            "\x1b[1mZONE\x1b[0m      \x1b[1mCOUNT\x1b[0m\nfloor         7\n\x1b[33mbackroom\x1b[0m    120\n"
        );
    }
}
