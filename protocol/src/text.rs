//! The one escaping rule for text that comes from outside (readers, brokers, files) and reaches a log
//! line or a terminal.
//!
//! Such text may hold anything its sender chose: a newline would split one log record in two or forge
//! a line that looks like the daemon's own, an escape sequence would drive the technician's terminal
//! (retitle it, hide lines, rewrite what is on screen), and a bidirectional override would show a
//! message in another order than it was written. [`Escaped`] writes every such character as Rust
//! writes it in a literal (`\n`, `\t`, `\u{1b}`, `\u{202e}`) and everything else unchanged, so plain
//! text reads as it is and hostile text is visible for what it is.

use core::fmt::{self, Write};

/// `text`, displayed with the characters that could forge or hide output escaped (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escaped<'a>(pub &'a str);

/// True for a character that [`Escaped`] writes escaped.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional marks, embeddings, overrides and isolates (Unicode UAX #9).
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if needs_escape(c) {
                write!(formatter, "{}", c.escape_debug())?;
            } else {
                formatter.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// `text` with the rule of [`Escaped`] applied, for keeping (a reader's model or firmware text).
pub fn escape(text: &str) -> String {
    if text.chars().any(needs_escape) {
        Escaped(text).to_string()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged() {
        for text in ["Impinj R700 8.1.0", "température élevée", "", "a\\nb"] {
            assert_eq!(escape(text), text);
        }
    }

    #[test]
    fn what_could_forge_a_line_or_drive_a_terminal_is_escaped() {
        assert_eq!(
            escape("ok\n2025-01-01T00:00:00Z ERROR forged"),
            "ok\\n2025-01-01T00:00:00Z ERROR forged"
        );
        assert_eq!(escape("\u{1b}]0;pwned\u{7}"), "\\u{1b}]0;pwned\\u{7}");
        assert_eq!(escape("\r\t\0"), "\\r\\t\\0");
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(
            escape("\u{9b}31m"),
            "\\u{9b}31m",
            "the C1 control sequence introducer"
        );
    }

    #[test]
    fn escaped_output_never_holds_a_character_that_needs_escaping() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!escape(&all).chars().any(needs_escape));
    }
}
