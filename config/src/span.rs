//! Byte offsets (what the TOML parser reports) turned into the 1-based line and column a person reads.

/// A position in a config file as an editor shows it: 1-based line, 1-based column counted in
/// Unicode scalar values, so a multi-byte character before the error counts as one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

/// Returns the location of the byte `offset` in `text`.
///
/// An offset past the end points just after the last character (parsers report "unexpected end
/// of file" there); an offset inside a multi-byte character is taken as that character's start.
pub fn locate(text: &str, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    Location {
        line: before.matches('\n').count() + 1,
        col: before[line_start..].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, offset: usize, line: usize, col: usize) {
        assert_eq!(
            locate(text, offset),
            Location { line, col },
            "offset {offset} in {text:?}"
        );
    }

    #[test]
    fn first_byte_is_line_one_column_one() {
        check("store = 1", 0, 1, 1);
        check("", 0, 1, 1);
    }

    #[test]
    fn columns_and_lines_are_one_based() {
        check("a = 1\nbb = 2\n", 6, 2, 1);
        check("a = 1\nbb = 2\n", 11, 2, 6);
    }

    #[test]
    fn multi_byte_characters_count_as_one_column() {
        // "é" is 2 bytes and "€" 3 bytes: the `x` is byte 12 of its line but column 10.
        let text = "# ok\nz = \"é€\" x";
        let x = text.find('x').unwrap();
        assert_eq!(x, 5 + 12);
        check(text, x, 2, 10);
    }

    #[test]
    fn an_offset_inside_a_character_points_at_its_start() {
        let text = "a€b";
        check(text, 2, 1, 2);
    }

    #[test]
    fn an_offset_past_the_end_points_after_the_last_character() {
        check("ab\ncd", 99, 2, 3);
    }

    #[test]
    fn crlf_line_ends_start_a_new_line_after_the_newline() {
        check("a = 1\r\nb = 2", 7, 2, 1);
    }
}
