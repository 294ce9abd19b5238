//! Tables that fit a terminal: headers wrap onto several lines, and when that is not
//! enough the rightmost columns are left out with a note saying which (`--wide` shows
//! them). Only for a terminal: files and pipes keep the full width, so that what a
//! script reads never depends on a window's size.

use std::fmt::Write as _;

use crate::text::Table;

/// The narrowest width tables are fitted to: below it, fitting would leave only the
/// first column of most tables.
pub const MIN_WIDTH: usize = 40;

/// `t` rendered within `width` columns (at least [`MIN_WIDTH`]).
pub(crate) fn fit(t: &Table, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let cols = t
        .rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(t.header.len()))
        .max()
        .unwrap_or(0);
    let len = |s: &str| s.chars().count();
    let cell = |r: &[String], i: usize| r.get(i).map_or(String::new(), Clone::clone);
    let data: Vec<usize> = (0..cols)
        .map(|i| t.rows.iter().map(|r| len(&cell(r, i))).max().unwrap_or(0))
        .collect();
    let head: Vec<usize> = (0..cols).map(|i| len(&cell(&t.header, i))).collect();
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    let natural: Vec<usize> = (0..cols).map(|i| data[i].max(head[i])).collect();
    if total(&natural) <= width {
        return t.render_plain();
    }
    // Headers wrap at spaces: a column is as wide as its data or its longest header word.
    let wrapped: Vec<usize> = (0..cols)
        .map(|i| {
            let word = cell(&t.header, i).split(' ').map(len).max().unwrap_or(0);
            data[i].max(word)
        })
        .collect();
    let mut keep = cols;
    while keep > 1 && total(&wrapped[..keep]) > width {
        keep -= 1;
    }
    let w = &wrapped[..keep];
    let left = |i: usize| i == 0 || t.left.contains(&i);
    let header: Vec<Vec<String>> = (0..keep).map(|i| wrap(&cell(&t.header, i), w[i])).collect();
    let lines = header.iter().map(Vec::len).max().unwrap_or(1);
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, wi) in w.iter().enumerate() {
            let c = cells.get(i).map_or("", String::as_str);
            let pad = wi.saturating_sub(len(c));
            if i > 0 {
                s.push_str("  ");
            }
            if left(i) {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = String::new();
    if let Some(title) = &t.title {
        out.push_str(title);
        out.push('\n');
    }
    // Header lines bottom-aligned: each header's last line sits on the rule.
    for k in 0..lines {
        let cells: Vec<String> = header
            .iter()
            .map(|h| {
                let skip = lines - h.len();
                if k < skip {
                    String::new()
                } else {
                    h[k - skip].clone()
                }
            })
            .collect();
        out.push_str(&line(&cells));
        out.push('\n');
    }
    out.push_str(&"-".repeat(total(w)));
    out.push('\n');
    for r in &t.rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    if keep < cols {
        let dropped: Vec<String> = (keep..cols)
            .map(|i| {
                let h = cell(&t.header, i);
                if h.is_empty() {
                    "(notes)".to_owned()
                } else {
                    h
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "({} column{} left out to fit {width} columns: {}; --wide shows every column)",
            cols - keep,
            if cols - keep == 1 { "" } else { "s" },
            dropped.join(", ")
        );
    }
    out
}

/// `s` split at spaces into lines of at most `w` characters (a longer word is a line of
/// its own).
fn wrap(s: &str, w: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in s.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= w => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use crate::layout::{Style, render_with};
    use crate::text::Table;

    fn wide() -> Table {
        let mut t = Table::new(["holder", "equity before", "equity after", "lender loss"])
            .titled("Holders");
        t.row(["alice", "$1.00B", "$2.00B", "$3.00B"]);
        t
    }

    #[test]
    fn a_table_that_fits_is_unchanged() {
        let t = wide();
        assert_eq!(
            render_with(Style::Fit { width: 200 }, || t.render()),
            t.render()
        );
    }

    #[test]
    fn headers_wrap_before_columns_are_dropped() {
        let t = wide();
        // Natural width: 6 + 13 + 12 + 11 + 6 = 48; wrapped: 6 + 6 + 6 + 6 + 6 = 30.
        let s = render_with(Style::Fit { width: 40 }, || t.render());
        assert_eq!(
            s,
            "Holders\n        equity  equity  lender\nholder  before   after    loss\n------------------------------\nalice   $1.00B  $2.00B  $3.00B\n"
        );
    }

    #[test]
    fn columns_are_dropped_from_the_right_with_a_note() {
        let mut t = Table::new(["id", "a", "b", "c", "d"]);
        t.row([
            "x".repeat(20),
            "y".repeat(15),
            "z".repeat(15),
            "1".into(),
            "2".into(),
        ]);
        let s = render_with(Style::Fit { width: 40 }, || t.render());
        let lines: Vec<&str> = s.lines().collect();
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() <= 40 || l.starts_with('(')),
            "{s}"
        );
        assert!(
            s.ends_with(
                "(3 columns left out to fit 40 columns: b, c, d; --wide shows every column)\n"
            ),
            "{s}"
        );
    }
}
