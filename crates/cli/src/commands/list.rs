//! `delever list`: the shipped scenarios.

use std::fmt::Write as _;

use delever_report::{Format, Table};
use delever_scenario::Scenario;

use crate::args::OutputArgs;
use crate::output::emit;
use crate::{Failure, embedded, exit};

/// Most characters of a description in the table: the line stays within 132 columns
/// next to the longest shipped name and the date. JSON and CSV carry the whole text.
const DESCRIPTION_WIDTH: usize = 80;

/// The description on one line (YAML block text keeps its line breaks).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` cut to at most `width` characters at a word boundary, with "…" when cut. A first
/// word longer than `width` is cut inside the word (nothing better to do).
pub fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    // Room for the ellipsis.
    let keep = width.saturating_sub(1);
    let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    let head = &s[..cut];
    // The cut falls inside a word unless the next character is a space.
    let at_boundary = s[cut..].starts_with(' ');
    let head = if at_boundary {
        head
    } else {
        head.rfind(' ').map_or(head, |i| &head[..i])
    };
    let head = head.trim_end_matches([' ', ',', ';', ':', '-', '—', '(']);
    format!("{head}…")
}

pub fn list(out: &OutputArgs) -> Result<i32, Failure> {
    let mut rows = Vec::new();
    for (name, text) in embedded::EMBEDDED {
        let origin = format!("scenarios/{name}.yaml");
        // A shipped scenario that does not load is a bug; show it rather than hide it.
        let (summary, as_of) = match Scenario::from_yaml(text, &origin, None) {
            Ok(s) => (one_line(&s.description), s.as_of),
            Err(_) => (
                "(needs its data files: run it from the scenarios/ directory)".to_owned(),
                String::new(),
            ),
        };
        rows.push((*name, as_of, summary));
    }
    let table = || {
        let mut t = Table::new(["scenario", "as of", "description"])
            .left(1)
            .left(2);
        for (n, d, s) in &rows {
            t.row([n.to_string(), d.clone(), truncate(s, DESCRIPTION_WIDTH)]);
        }
        t.render()
    };
    let text = match Format::from(out.format) {
        Format::Table => table(),
        Format::Markdown => super::markdown("delever list", table),
        Format::Json => {
            let v: Vec<_> = rows
                .iter()
                .map(|(n, d, s)| serde_json::json!({"name": n, "as_of": d, "description": s}))
                .collect();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Csv => {
            let mut s = String::from("name,as_of,description\n");
            for (n, d, desc) in &rows {
                let _ = writeln!(s, "{n},{d},\"{}\"", desc.replace('"', "\"\""));
            }
            s
        }
    };
    emit(&text, out.output.as_deref())?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn descriptions_are_cut_at_a_word_boundary_with_an_ellipsis() {
        assert_eq!(truncate("short text", 20), "short text");
        assert_eq!(truncate("exactly ten", 11), "exactly ten");
        assert_eq!(truncate("one two three four", 10), "one two…");
        assert_eq!(truncate("one two, three", 9), "one two…");
        assert_eq!(truncate("one two three", 8), "one two…");
        assert_eq!(truncate("abcdefghijkl", 5), "abcd…");
        assert!(truncate("αβγ δεζ ηθι", 6).chars().count() <= 6);
    }
}
