//! GitHub-flavoured markdown: a [`Table`] as a pipe table under a `###` heading, and a
//! command's whole text report as a markdown document ([`document`]).

use std::fmt::Write as _;

use crate::layout::{Style, render_with};
use crate::text::Table;

/// Escape `s` so that markdown shows it as written: emphasis, code, links, HTML, math
/// (`$5.00B … $9.26B` would be a formula on GitHub) and a cell's pipes.
pub fn escape(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '|' | '$' | '~' => true,
            // Inside a word (margin_account) an underscore is never emphasis.
            '_' => !(word(i.checked_sub(1)) && word(Some(i + 1))),
            // Only at a line's start: a heading, a quote.
            '#' | '>' => i == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `t` as a markdown pipe table, its title (if any) a `###` heading above it. Columns
/// are padded so that the source reads as a table too.
pub(crate) fn table(t: &Table) -> String {
    let cols = t
        .rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(t.header.len()))
        .max()
        .unwrap_or(0);
    let cell = |r: &[String], i: usize| escape(r.get(i).map_or("", String::as_str));
    let header: Vec<String> = (0..cols).map(|i| cell(&t.header, i)).collect();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| (0..cols).map(|i| cell(r, i)).collect())
        .collect();
    let left = |i: usize| i == 0 || t.left.contains(&i);
    let mut width = vec![3usize; cols];
    for r in std::iter::once(&header).chain(&rows) {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for (i, c) in cells.iter().enumerate() {
            let pad = " ".repeat(width[i] - c.chars().count());
            if left(i) {
                let _ = write!(s, " {c}{pad} |");
            } else {
                let _ = write!(s, " {pad}{c} |");
            }
        }
        s.push('\n');
        s
    };
    let mut out = String::new();
    if let Some(title) = &t.title {
        let _ = write!(out, "### {}\n\n", escape(title));
    }
    out.push_str(&line(&header));
    out.push('|');
    for (i, w) in width.iter().enumerate() {
        let dashes = "-".repeat(w - 1);
        if left(i) {
            let _ = write!(out, " :{dashes} |");
        } else {
            let _ = write!(out, " {dashes}: |");
        }
    }
    out.push('\n');
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

/// A line's part in a markdown document being assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blank,
    /// A table's line or its heading: already markdown.
    Markdown,
    /// Free text (headline lines, notes): escaped, then a paragraph or a list.
    Text,
}

/// A command's text report as a markdown document: `## heading`, then `f`'s output with
/// its tables as markdown tables and its other lines as paragraphs (one line) or lists
/// (several; indented lines nest under the line above).
pub fn document(heading: &str, f: impl FnOnce() -> String) -> String {
    let body = render_with(Style::Markdown, f);
    let mut blocks: Vec<String> = vec![format!("## {}\n", escape(heading))];
    let mut text: Vec<&str> = Vec::new();
    let mut md = String::new();
    let flush_text = |text: &mut Vec<&str>, blocks: &mut Vec<String>| {
        if text.is_empty() {
            return;
        }
        let mut s = String::new();
        if text.len() == 1 {
            let _ = writeln!(s, "{}", escape(text[0].trim()));
        } else {
            for l in text.iter() {
                let nested = l.starts_with(char::is_whitespace);
                let _ = writeln!(
                    s,
                    "{}- {}",
                    if nested { "  " } else { "" },
                    escape(l.trim())
                );
            }
        }
        blocks.push(s);
        text.clear();
    };
    for l in body.lines() {
        let kind = if l.trim().is_empty() {
            Kind::Blank
        } else if l.starts_with('|') || l.starts_with("### ") {
            Kind::Markdown
        } else {
            Kind::Text
        };
        if kind != Kind::Markdown && !md.is_empty() {
            blocks.push(std::mem::take(&mut md));
        }
        match kind {
            Kind::Blank => flush_text(&mut text, &mut blocks),
            Kind::Markdown => {
                flush_text(&mut text, &mut blocks);
                // A heading is a block of its own; table lines stay together.
                if l.starts_with("### ") {
                    if !md.is_empty() {
                        blocks.push(std::mem::take(&mut md));
                    }
                    blocks.push(format!("{l}\n"));
                } else {
                    md.push_str(l);
                    md.push('\n');
                }
            }
            Kind::Text => text.push(l),
        }
    }
    flush_text(&mut text, &mut blocks);
    if !md.is_empty() {
        blocks.push(md);
    }
    blocks.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_a_pipe_table_under_its_title() {
        let mut t = Table::new(["asset", "price", "note"])
            .titled("Assets")
            .left(2);
        t.row(["NVDA", "$1.00B", "a|b"]);
        let md = render_with(Style::Markdown, || t.render());
        assert_eq!(
            md,
            "### Assets\n\n| asset |  price | note |\n| :---- | -----: | :--- |\n| NVDA  | \\$1.00B | a\\|b |\n"
                .replace("| asset |  price |", "| asset |   price |")
                .replace("| :---- | -----: |", "| :---- | ------: |")
        );
        // The style ends with the closure.
        assert!(t.render().starts_with("Assets\nasset"));
    }

    #[test]
    fn text_is_escaped_but_words_keep_their_underscores() {
        assert_eq!(escape("margin_account"), "margin_account");
        assert_eq!(
            escape("_x_ *y* $5 <b> [l]"),
            "\\_x\\_ \\*y\\* \\$5 \\<b> \\[l\\]"
        );
        assert_eq!(escape("=> sold"), "=> sold");
        assert_eq!(escape("# not a heading"), "\\# not a heading");
    }

    #[test]
    fn a_document_has_a_heading_lists_and_tables() {
        let doc = document("delever run", || {
            let mut t = Table::new(["a", "b"]).titled("T");
            t.row(["x", "1"]);
            format!(
                "scenario  s\nresult    ok\n  more\n\n{}\nnote once\n",
                t.render()
            )
        });
        assert_eq!(
            doc,
            "## delever run\n\n- scenario  s\n- result    ok\n  - more\n\n### T\n\n| a   |   b |\n| :-- | --: |\n| x   |   1 |\n\nnote once\n"
        );
    }
}
