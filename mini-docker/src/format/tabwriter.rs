//! Columns aligned as Docker's `table` output aligns them: Go's
//! `text/tabwriter` (elastic tabstops) with Docker's settings, minimum
//! width 10 and padding 3.
//!
//! A cell is text *terminated* by a tab; the text after a line's last tab
//! is not in any column. A column is a run of consecutive lines that all
//! have a cell there, and is as wide as its widest cell plus the padding.

const MIN_WIDTH: usize = 10;
const PADDING: usize = 3;

/// `text` (lines of tab-terminated cells) with its columns aligned.
pub fn align(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text.lines().map(|line| line.split('\t').collect()).collect();
    let mut out = String::new();
    format_block(&lines, &mut Vec::new(), &mut out);
    out
}

/// Lay out `lines`, whose first `widths.len()` columns are decided: find
/// each run of lines that has one more column, decide its width, recurse.
fn format_block(lines: &[Vec<&str>], widths: &mut Vec<usize>, out: &mut String) {
    let column = widths.len();
    let has_column = |line: &Vec<&str>| line.len() > column + 1; // its last cell is no column
    let mut start = 0;
    while start < lines.len() {
        if !has_column(&lines[start]) {
            write_line(&lines[start], widths, out);
            start += 1;
            continue;
        }
        let end = start + lines[start..].iter().take_while(|l| has_column(l)).count();
        let widest = lines[start..end].iter().map(|l| width(l[column])).max().unwrap_or(0);
        widths.push((widest + PADDING).max(MIN_WIDTH));
        format_block(&lines[start..end], widths, out);
        widths.pop();
        start = end;
    }
}

/// One line: each cell of a decided column padded to its width, the rest
/// as it is. (Go pads empty cells at the end of a line too; we drop such
/// trailing blanks, which no one sees but a diff of the output.)
fn write_line(cells: &[&str], widths: &[usize], out: &mut String) {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        line.push_str(cell);
        if let Some(width) = widths.get(i).filter(|_| i + 1 < cells.len()) {
            line.push_str(&" ".repeat(width - self::width(cell)));
        }
    }
    out.push_str(line.trim_end_matches(' '));
    out.push('\n');
}

/// Width in characters (Docker counts display width; for our ASCII tables the same).
fn width(cell: &str) -> usize {
    cell.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_plus_three() {
        let text = "IMAGE ID\tREPOSITORY\tTAG\n77af4d6b9913\t<none>\t<none>\nb6fa739cedf5\tcommittest\tlatest\n";
        assert_eq!(
            align(text),
            "IMAGE ID       REPOSITORY   TAG\n\
             77af4d6b9913   <none>       <none>\n\
             b6fa739cedf5   committest   latest\n"
        );
    }

    #[test]
    fn narrow_columns_take_the_minimum_width_and_a_column_is_contiguous() {
        // Go's example: "b" and "c" are distinct columns, "d" and "e" in none.
        let text = "aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n";
        assert_eq!(
            align(text),
            "aaaa      bbb       d\n\
             aa        b         dd\n\
             a\n\
             aa        cccc      eee\n"
        );
    }
}
